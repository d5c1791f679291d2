import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '@batuta/cli';
import { freePort } from '@batuta/scheduler/redis-server';
import { useRedisServer } from '@batuta/testing';
import { afterAll, describe, expect, it, vi } from 'vitest';

const PASSWORD = 'hunter2-s3cret';
const harness = useRedisServer({ server: { password: PASSWORD } });
const dags = mkdtempSync(join(tmpdir(), 'batuta-dags-'));
afterAll(() => rmSync(dags, { recursive: true, force: true }));

/** Runs `batuta ARGS` and returns its exit code and everything it printed. */
async function run(args: string[]): Promise<{ code: number; printed: string }> {
  const lines: string[] = [];
  const capture = (...parts: unknown[]) => void lines.push(parts.map(String).join(' '));
  const log = vi.spyOn(console, 'log').mockImplementation(capture);
  const error = vi.spyOn(console, 'error').mockImplementation(capture);
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    const code = await main(args);
    return { code, printed: lines.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
    write.mockRestore();
  }
}

describe('the Redis password stays out of CLI output', () => {
  it('batuta status names the server without its password', async () => {
    expect(harness.url).toContain(PASSWORD);
    const { code, printed } = await run([
      'status',
      '--redis',
      harness.url,
      '--dags',
      dags,
      '--namespace',
      harness.namespace('status'),
    ]);
    expect(code).toBe(0);
    expect(printed).toContain(`redis://:***@127.0.0.1:${harness.server.port}`);
    expect(printed).not.toContain(PASSWORD);
  });

  it('"cannot reach Redis" names the server without its password', async () => {
    const url = `redis://:${PASSWORD}@127.0.0.1:${await freePort()}`;
    const { code, printed } = await run(['status', '--redis', url, '--dags', dags]);
    expect(code).not.toBe(0);
    expect(printed).toMatch(/cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1/);
    expect(printed).not.toContain(PASSWORD);
  });
});
