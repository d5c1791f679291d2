// The whole product through a browser: a real `batuta scheduler`, `batuta worker` and `batuta webserver`
// on a private Redis, driven by headless Chromium (Debian's package, playwright-core). An operator logs
// in, triggers a DAG with params from the generated form, watches the run in the grid as the worker
// runs it (one task fails on its first run), opens the failed task's log, clears it with its downstream
// and sees it rerun and succeed. A viewer sees no trigger form and gets 403 from the API; a DAG outside
// a user's `access` is invisible to them. Screenshots of the grid, graph and log pages go to
// $BATUTA_UI_SCREENSHOTS (docs/img/ui when refreshing docs/ui.md; a temporary folder otherwise).
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { useRedisServer } from '@batuta/testing';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureUiBuilt, launchChromium, logIn, newPage } from '../../packages/web/test/support/browser.js';
import { batutaBin, startCliDaemon } from './support/cli-daemon.js';

const run = promisify(execFile);
const WAIT = { timeout: 30_000 };

const harness = useRedisServer();
const dir = mkdtempSync(join(tmpdir(), 'batuta-web-e2e-'));
const dagsDir = join(dir, 'dags');
const shots = resolve(process.env.BATUTA_UI_SCREENSHOTS ?? join(dir, 'screenshots'));
const children: ChildProcess[] = [];
let env: NodeJS.ProcessEnv;
let url: string;
let browser: Browser;
const problems: string[] = [];

function daemon(args: string[]): ChildProcess {
  const child = spawn(process.execPath, [batutaBin, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.resume();
  children.push(child);
  return child;
}

async function addUser(name: string, role: string, password: string): Promise<void> {
  const file = join(dir, `${name}.password`);
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  await run(process.execPath, [batutaBin, 'users', 'add', name, '--role', role, '--password-file', file], { env });
}

beforeAll(async () => {
  await ensureUiBuilt();
  mkdirSync(dagsDir);
  mkdirSync(shots, { recursive: true });
  const marker = join(dir, 'fit-has-data');
  // `fit` fails on its first run (no marker yet: it writes it) and succeeds when rerun: the bug an
  // operator fixes and then clears.
  writeFileSync(
    join(dagsDir, 'train.yaml'),
    `id: train
description: trains the churn model for a region
params:
  region: { type: string, enum: [eu, us], default: eu, description: whose data to train on }
  epochs: { type: integer, default: 3, minimum: 1, maximum: 50 }
tasks:
  extract:
    operator: shell
    with: { command: 'echo "extracting rows for $(cat "$BATUTA_PARAMS_FILE")"' }
  features:
    operator: shell
    upstream: [extract]
    with: { command: 'echo "12 features"' }
  fit:
    operator: shell
    upstream: [features]
    with:
      command: >-
        if [ -f ${marker} ]; then echo "fitted in 3 epochs"; else touch ${marker};
        echo "reading training rows"; echo "no training rows for this region" >&2; exit 3; fi
  profile:
    operator: shell
    upstream: [extract]
    with: { command: 'echo "no drift"' }
  evaluate:
    operator: shell
    upstream: [fit]
    with: { command: 'echo "accuracy 0.97"' }
  publish:
    operator: empty
    upstream: [evaluate, profile]
`,
  );
  writeFileSync(
    join(dagsDir, 'payroll.yaml'),
    `id: payroll
description: only ana may see this one
access: { view: ['user:ana'] }
tasks:
  pay: { operator: empty }
`,
  );
  env = {
    ...process.env,
    BATUTA_REDIS_URL: harness.url,
    BATUTA_NAMESPACE: harness.namespace('web-e2e'),
    BATUTA_DAGS: dagsDir,
  };
  await addUser('ana', 'operator', 'correct horse battery');
  await addUser('vic', 'viewer', 'a viewer only');
  daemon(['scheduler']);
  daemon(['worker', '--pool', 'default']);
  const web = await startCliDaemon(['webserver', '--port', '0', '--insecure-cookies'], env, 'webserver_started');
  children.push(web.child);
  url = web.url;
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('the UI over a running scheduler and worker', () => {
  it('triggers with params, shows the failure and its log, clears it with downstream, and sees it succeed', async () => {
    const page = await newPage(browser, problems, { viewport: { width: 1280, height: 800 } });
    await logIn(page, url, 'ana', 'correct horse battery');
    await page.getByRole('row', { name: /payroll/ }).waitFor(WAIT); // ana may see it
    await page.getByRole('link', { name: 'train', exact: true }).click();

    // The form generated from the params: a select and a bounded number.
    await page.getByRole('heading', { name: 'Trigger a run' }).waitFor(WAIT);
    await page.getByLabel(/^region/).selectOption({ label: 'us' });
    await page.getByLabel(/^epochs/).fill('7');
    await page.getByRole('button', { name: 'Trigger' }).click();
    const status = page.getByRole('status').filter({ hasText: 'is queued' });
    await status.waitFor(WAIT);
    const runId = (await status.getByRole('link').textContent())?.trim() ?? '';
    expect(runId).not.toBe('');

    // The worker runs it: extract and features turn green, fit red, its downstream upstream_failed.
    const cell = (task: string) => page.getByRole('link', { name: new RegExp(`^${task} in the run of `) }).first();
    await expect.poll(() => cell('fit').getAttribute('aria-label'), WAIT).toMatch(/: failed, try 1$/);
    expect(await cell('extract').getAttribute('aria-label')).toMatch(/: success, try 1$/);
    expect(await cell('evaluate').getAttribute('aria-label')).toMatch(/: upstream_failed/);
    await page.screenshot({ path: join(shots, 'grid.png') });

    // The failed task's page: its try and what it printed to stdout and stderr.
    await cell('fit').click();
    const log = page.getByTestId('log-viewer');
    await log.getByText('no training rows for this region').waitFor(WAIT);
    await log.getByText('reading training rows').waitFor(WAIT);
    await page.screenshot({ path: join(shots, 'log.png') });

    // Clear fit with its downstream from the run page: fit reruns as try 2 and succeeds, and so does
    // everything after it; the run page's badge turns to success without a reload.
    await page.goto(`${url}/runs/${encodeURIComponent(runId)}`);
    await page.getByTestId('clear-task-fit').click();
    const dialog = page.getByTestId('confirm-dialog');
    await dialog.waitFor(WAIT);
    expect(await dialog.getByTestId('clear-downstream').isChecked()).toBe(true);
    await dialog.getByTestId('confirm-button').click();
    await expect.poll(() => page.getByTestId('run-state').first().textContent(), WAIT).toMatch(/success/);
    await page.goto(`${url}/dags/train`);
    await expect.poll(() => cell('publish').getAttribute('aria-label'), WAIT).toMatch(/: success/);
    expect(await cell('fit').getAttribute('aria-label')).toMatch(/: success, try 2$/);
    expect(await cell('evaluate').getAttribute('aria-label')).toMatch(/: success/);
    const stored = await (await page.request.get(`${url}/api/runs/${encodeURIComponent(runId)}`)).json();
    expect(stored).toMatchObject({ state: 'success', conf: { region: 'us', epochs: 7 } });

    // The graph of the run with its states.
    await page.goto(`${url}/runs/${encodeURIComponent(runId)}/graph`);
    await page.getByTestId('graph-node-fit').waitFor(WAIT);
    expect(await page.getByTestId('graph-node-fit').getAttribute('data-state')).toBe('success');
    await page.screenshot({ path: join(shots, 'graph.png') });
    expect(problems).toEqual([]);
    await page.context().close();
  }, 180_000);

  it('shows a viewer no trigger form, refuses its trigger with 403, and hides a DAG outside its access', async () => {
    const page = await newPage(browser, problems, { viewport: { width: 1280, height: 800 } });
    await logIn(page, url, 'vic', 'a viewer only');
    await page.getByRole('row', { name: /train/ }).waitFor(WAIT);
    expect(await page.getByRole('row', { name: /payroll/ }).count()).toBe(0);
    await page.getByRole('link', { name: 'train', exact: true }).click();
    await page.getByRole('table', { name: 'Task states by run' }).waitFor(WAIT);
    expect(await page.getByRole('heading', { name: 'Trigger a run' }).count()).toBe(0);
    // The API itself refuses, with the session's own CSRF token (not only the hidden form).
    const status = await page.evaluate(async () => {
      const me = (await (await fetch('/api/auth/me')).json()) as { csrfToken?: string };
      const response = await fetch('/api/dags/train/runs', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': String(me.csrfToken ?? '') },
        body: '{}',
      });
      return response.status;
    });
    expect(status).toBe(403);
    const hidden = await page.request.get(`${url}/api/dags/payroll`);
    expect(hidden.status()).toBe(404);
    expect(problems).toEqual([]);
    await page.context().close();
  }, 60_000);
});
