// Where data lives: `file:` URLs and plain paths on this machine, `s3://bucket/key` objects.
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MlTasksError } from '../errors.js';

/** A parsed data location. */
export type Location = { kind: 'file'; path: string } | { kind: 's3'; bucket: string; key: string };

/**
 * Parses `file:///abs/path`, `file:relative/path` (resolved from the working directory), a plain
 * path, or `s3://bucket/key`. Anything else is an UNSUPPORTED_URL error.
 */
export function parseLocation(url: string): Location {
  if (url.startsWith('s3://')) {
    const rest = url.slice('s3://'.length);
    const slash = rest.indexOf('/');
    if (slash <= 0 || slash === rest.length - 1) {
      throw new MlTasksError('UNSUPPORTED_URL', `'${url}' is not an S3 object URL; write s3://bucket/path/to/object`);
    }
    return { kind: 's3', bucket: rest.slice(0, slash), key: rest.slice(slash + 1) };
  }
  if (url.startsWith('file://')) return { kind: 'file', path: fileURLToPath(url) };
  if (url.startsWith('file:')) {
    const path = url.slice('file:'.length);
    return { kind: 'file', path: isAbsolute(path) ? path : resolve(path) };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new MlTasksError('UNSUPPORTED_URL', `'${url}': only file: and s3:// locations are supported`);
  }
  if (url.length === 0) throw new MlTasksError('UNSUPPORTED_URL', 'the location is empty');
  return { kind: 'file', path: resolve(url) };
}
