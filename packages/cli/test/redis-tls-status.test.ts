// `batuta status` against a real redis-server that speaks only TLS and demands a client certificate,
// configured through BATUTA_REDIS_TLS_* (certificates made by openssl for this test).
import { main } from '@batuta/cli';
import { opensslAvailable, uniqueNamespace, useTlsRedisServer } from '@batuta/testing';
import { describe, expect, it, vi } from 'vitest';

describe.skipIf(!opensslAvailable())('Redis over TLS', () => {
  const tls = useTlsRedisServer();

  it('batuta status reaches a TLS Redis configured through the environment', async () => {
    const printed: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...parts) => void printed.push(parts.join(' ')));
    const error = vi.spyOn(console, 'error').mockImplementation((...parts) => void printed.push(parts.join(' ')));
    try {
      const code = await tls.withEnvironment(() =>
        main([
          'status',
          '--redis',
          tls.server.tlsUrl,
          '--dags',
          tls.certificates.dir,
          '--namespace',
          uniqueNamespace('tls'),
        ]),
      );
      expect(printed.join('\n')).toContain(`at ${tls.server.tlsUrl}`);
      expect(code).toBe(0);
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
  });
});
