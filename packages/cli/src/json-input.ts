// A JSON object given on the command line (`--conf JSON`, `--payload JSON`) or in a file (`--conf-file
// PATH`, `-` for stdin), parsed by the scheduler's one safe parser: prototype keys, deep nesting, numbers
// past a double and texts over the limit are usage errors here, before anything reaches the store.
import { open, stat } from 'node:fs/promises';
import { isBatutaError, type JsonLimits, parseSafeJson } from '@batuta/scheduler';
import { NotFoundError, UsageError } from './cli-error.js';

/** Where the object comes from: inline text under `flag`, or the file `file` (`-`: stdin). */
export interface JsonObjectSource {
  text?: string | undefined;
  flag: string;
  file?: string | undefined;
  limits: JsonLimits;
}

/** The JSON object of the source, `{}` when none was given. */
export async function readJsonObject(source: JsonObjectSource): Promise<Record<string, unknown>> {
  const { flag, file, limits } = source;
  if (source.text !== undefined && file !== undefined) throw new UsageError(`give ${flag} or --conf-file, not both`);
  if (source.text === undefined && file === undefined) return {};
  const what = file === undefined ? flag : `--conf-file ${file}`;
  const text = file === undefined ? (source.text ?? '') : await readBounded(file, limits.maxBytes);
  let value: unknown;
  try {
    value = parseSafeJson(text, what, limits);
  } catch (error) {
    if (isBatutaError(error) && error.code.startsWith('JSON_')) throw new UsageError(error.message);
    throw error;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new UsageError(`${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

/**
 * The file's text, or stdin's for `-`; a text over `maxBytes` is refused after reading one byte more,
 * never read whole (stdin may be endless).
 */
async function readBounded(file: string, maxBytes: number): Promise<string> {
  const tooLarge = () =>
    new UsageError(`--conf-file ${file} is larger than ${Math.round(maxBytes / 1024)} KiB (the limit, maxConfBytes)`);
  if (file === '-') {
    const chunks: Buffer[] = [];
    let bytes = 0;
    for await (const chunk of process.stdin) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      bytes += buffer.length;
      if (bytes > maxBytes) throw tooLarge();
      chunks.push(buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  }
  let size: number;
  try {
    const stats = await stat(file);
    if (!stats.isFile()) throw new UsageError(`--conf-file ${file} is not a file`);
    size = stats.size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new NotFoundError(`--conf-file ${file}: no such file`);
    throw error;
  }
  if (size > maxBytes) throw tooLarge();
  const handle = await open(file);
  try {
    const buffer = Buffer.alloc(maxBytes + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    if (bytesRead > maxBytes) throw tooLarge();
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}
