// TLS for every Redis connection Batuta opens (the store, BullMQ's queues and workers, the ML operators):
// certificates named by file, read once here, handed to ioredis as its `tls` option. A `rediss://` URL
// alone turns TLS on with the system's CAs; these settings add a private CA, a client certificate
// (for servers started with `tls-auth-clients yes`) and the name to check the server's certificate against.
import { readFileSync } from 'node:fs';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { BatutaError } from '../../errors.js';

/** Where a deployment's Redis TLS material lives (file paths, PEM). Every field is optional. */
export interface RedisTlsSettings {
  /** CA certificate(s) the server's certificate must chain to. */
  ca?: string | undefined;
  /** Client certificate, for servers that check clients. */
  cert?: string | undefined;
  /** The client certificate's private key. */
  key?: string | undefined;
  /** The name the server's certificate must carry, when it is not the URL's host (SNI too). */
  serverName?: string | undefined;
}

/** The TLS settings of the environment: BATUTA_REDIS_TLS_CA, _CERT, _KEY and _SERVERNAME. */
export function redisTlsFromEnv(env: NodeJS.ProcessEnv): RedisTlsSettings {
  return {
    ...(env.BATUTA_REDIS_TLS_CA ? { ca: env.BATUTA_REDIS_TLS_CA } : {}),
    ...(env.BATUTA_REDIS_TLS_CERT ? { cert: env.BATUTA_REDIS_TLS_CERT } : {}),
    ...(env.BATUTA_REDIS_TLS_KEY ? { key: env.BATUTA_REDIS_TLS_KEY } : {}),
    ...(env.BATUTA_REDIS_TLS_SERVERNAME ? { serverName: env.BATUTA_REDIS_TLS_SERVERNAME } : {}),
  };
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new BatutaError('REDIS_TLS_FILE', `cannot read the Redis TLS ${what} ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/**
 * The ioredis options for `settings`: `{ tls: … }` when any setting is given, `{}` otherwise (so a
 * `rediss://` URL keeps ioredis' own TLS defaults). Reads the files now; a missing one is REDIS_TLS_FILE.
 */
export function redisTlsOptions(settings: RedisTlsSettings | undefined): { tls?: TlsConnectionOptions } {
  if (!settings || Object.values(settings).every((value) => value === undefined)) return {};
  if ((settings.cert === undefined) !== (settings.key === undefined)) {
    throw new BatutaError(
      'REDIS_TLS_FILE',
      'a Redis TLS client certificate needs its key and a key its certificate: set both (BATUTA_REDIS_TLS_CERT and BATUTA_REDIS_TLS_KEY)',
    );
  }
  return {
    tls: {
      ...(settings.ca === undefined ? {} : { ca: readPem(settings.ca, 'CA file') }),
      ...(settings.cert === undefined ? {} : { cert: readPem(settings.cert, 'client certificate') }),
      ...(settings.key === undefined ? {} : { key: readPem(settings.key, 'client key') }),
      ...(settings.serverName === undefined ? {} : { servername: settings.serverName }),
    },
  };
}
