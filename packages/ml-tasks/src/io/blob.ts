// Whole-object reads and writes by location (file path or S3 object).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MlTasksError } from '../errors.js';
import { parseLocation } from './location.js';
import { getS3Object, putS3Object, type S3Options } from './s3.js';

/** Reads the bytes at a `file:`/path or `s3://` location. */
export async function readBytes(url: string, options: { s3?: S3Options } = {}): Promise<Uint8Array> {
  const location = parseLocation(url);
  if (location.kind === 's3') return getS3Object(location.bucket, location.key, options.s3);
  try {
    return await readFile(location.path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new MlTasksError('LOAD_FAILED', `could not read ${location.path}: ${(error as Error).message}`, {
      cause: error,
      retryable: code !== 'ENOENT' && code !== 'EISDIR' && code !== 'EACCES',
      details: { path: location.path },
    });
  }
}

/** Writes bytes to a `file:`/path (creating its directory) or an `s3://` location. */
export async function writeBytes(
  url: string,
  body: Uint8Array | string,
  options: { s3?: S3Options } = {},
): Promise<void> {
  const location = parseLocation(url);
  if (location.kind === 's3') return putS3Object(location.bucket, location.key, body, options.s3);
  await mkdir(dirname(location.path), { recursive: true });
  await writeFile(location.path, body);
}
