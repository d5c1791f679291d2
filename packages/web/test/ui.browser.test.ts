// The browser UI in headless Chromium (Debian's package, driven by playwright-core) against a real web
// server and a private Redis: log in, see the DAG list with its last runs, open the grid, trigger a run
// with a conf from the form generated from the params and see it queued, open the run and cancel it, and
// a viewer sees no trigger form. No page may break the CSP (no inline script or style) or throw.
import { parseDagYaml, RedisStateStore, type TaskInstanceRecord } from '@batuta/scheduler';
import { useRedisServer } from '@batuta/testing';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthStore, createWebApp, startWebServer, type WebServer } from '../src/index.js';
import { ensureUiBuilt, launchChromium } from './support/browser.js';

const WAIT = { timeout: 20_000 };

const harness = useRedisServer();
const dag = parseDagYaml(
  `id: report
description: the nightly report
schedule: { cron: "0 3 * * *" }
params:
  rows: { type: integer, default: 3, minimum: 1, description: how many rows to print }
  mode: { type: string, enum: [fast, full], default: fast }
  dryRun: { type: boolean, default: false }
  title: { type: string, default: Daily }
tasks:
  extract: { operator: empty }
  transform: { operator: empty, upstream: [extract] }
  load: { operator: empty, upstream: [transform] }
`,
  'report.yaml',
);
const WIDE_TASKS = 400;
const wide = parseDagYaml(
  `id: wide\ntasks:\n${Array.from({ length: WIDE_TASKS }, (_, i) => `  t${String(i).padStart(3, '0')}: { operator: empty }`).join('\n')}\n`,
  'wide.yaml',
);
const cheap = { N: 1024, r: 8, p: 1 };

let store: RedisStateStore;
let server: WebServer;
let browser: Browser;
const problems: string[] = [];

async function seedRun(
  runId: string,
  hour: number,
  states: Record<string, TaskInstanceRecord['state']>,
  dagId = 'report',
) {
  const logicalDateMs = Date.UTC(2026, 11, 1, hour);
  const ended = Object.values(states).every((s) => s === 'success' || s === 'failed' || s === 'upstream_failed');
  const failed = Object.values(states).includes('failed');
  await store.createRun({
    runId,
    dagId,
    kind: 'scheduled',
    state: 'running',
    logicalDateMs,
    conf: { rows: 3, mode: 'fast', dryRun: false, title: 'Daily' },
    createdMs: logicalDateMs,
  });
  await store.applyTransition(runId, {
    instances: Object.entries(states).map(([taskId, state]) => ({
      record: {
        runId,
        taskId,
        mapIndex: -1,
        state,
        tryNumber: 1,
        startMs: logicalDateMs + 1000,
        endMs: logicalDateMs + 3500,
        worker: 'worker-1',
        ...(state === 'failed' ? { error: { code: 'TASK_FAILED', message: 'the source table is empty' } } : {}),
      },
    })),
    run: {
      patch: ended
        ? { state: failed ? 'failed' : 'success', startMs: logicalDateMs + 500, endMs: logicalDateMs + 4000 }
        : { startMs: logicalDateMs + 500 },
    },
  });
}

/** A fresh browser page that records console errors and uncaught exceptions. */
async function newPage(): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  return page;
}

async function logIn(page: Page, user: string, password: string): Promise<void> {
  await page.goto(server.url);
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'DAGs' }).waitFor(WAIT);
}

beforeAll(async () => {
  // The UI ships prebuilt in dist/ui; a fresh checkout (or a changed UI) is built here.
  await ensureUiBuilt();
  const namespace = harness.namespace('web-ui');
  store = await RedisStateStore.connect({ url: harness.url, namespace });
  const auth = new AuthStore(harness.redis, { namespace, scryptCost: cheap });
  await auth.addUser('ana', 'correct horse battery', 'operator');
  await auth.addUser('vic', 'a viewer only', 'viewer');
  await seedRun('scheduled__report__1', 3, { extract: 'success', transform: 'success', load: 'success' });
  await seedRun('scheduled__report__2', 4, { extract: 'success', transform: 'failed', load: 'upstream_failed' });
  await seedRun(
    'scheduled__wide__1',
    5,
    Object.fromEntries(wide.tasks.map((task, i) => [task.id, i % 7 === 0 ? 'failed' : 'success'])),
    'wide',
  );
  const dags = new Map([
    [dag.id, dag],
    [wide.id, wide],
  ]);
  const app = createWebApp({ store, auth, dags: () => dags, secureCookies: false });
  server = await startWebServer(app, { port: 0 });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await store?.close();
});

describe('the web UI in a browser', () => {
  it('logs an operator in, lists the DAGs, shows the grid, triggers a run from the params form and cancels it', async () => {
    const page = await newPage();
    await logIn(page, 'ana', 'correct horse battery');

    // The list: the DAG, its schedule, its last runs as dots, a paused switch an operator may use.
    const row = page.getByRole('row', { name: /report/ });
    await row.first().waitFor(WAIT);
    expect(await row.textContent()).toContain('cron 0 3 * * *');
    await page
      .getByRole('link', { name: /: failed$/ })
      .first()
      .waitFor(WAIT);
    expect(await page.getByRole('link', { name: /: success$/ }).count()).toBe(1);
    expect(await page.getByRole('switch', { name: 'Paused: report' }).isEnabled()).toBe(true);

    // The grid: three tasks by two runs, coloured by state.
    await page.getByRole('link', { name: 'report', exact: true }).click();
    await page.getByRole('table', { name: 'Task states by run' }).waitFor(WAIT);
    await page.getByRole('link', { name: /^transform in the run of .*: failed, try 1$/ }).waitFor(WAIT);
    expect(await page.locator('.grid .cell').count()).toBe(6);
    expect(await page.locator('.grid .cell.state-upstream_failed').count()).toBe(1);

    // The trigger form, generated from the params: a number, a select, a checkbox and a text field.
    await page.getByRole('heading', { name: 'Trigger a run' }).waitFor(WAIT);
    expect(await page.getByLabel(/^rows/).inputValue()).toBe('3');
    await page.getByLabel(/^rows/).fill('12');
    await page.getByLabel(/^mode/).selectOption({ label: 'full' });
    await page.getByLabel(/^dryRun/).check();
    await page.getByLabel(/^title/).fill('Weekly');
    await page.getByRole('button', { name: 'Trigger' }).click();
    const status = page.getByRole('status');
    await status.filter({ hasText: 'is queued' }).waitFor(WAIT);
    const runs = await store.listRuns({ dagId: 'report', limit: 10 });
    const triggered = runs.find((r) => r.kind === 'manual');
    expect(triggered).toMatchObject({
      state: 'queued',
      conf: { rows: 12, mode: 'full', dryRun: true, title: 'Weekly' },
    });
    await expect.poll(() => page.locator('.grid .bar').count(), WAIT).toBe(3);

    // The run: its conf and a cancel button (an operator's), which cancels a queued run at once.
    await status.getByRole('link').click();
    await page.getByRole('heading', { name: `Run ${triggered!.runId}` }).waitFor(WAIT);
    expect(await page.locator('pre.conf').textContent()).toContain('"Weekly"');
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await page.getByRole('status').filter({ hasText: 'Cancelled.' }).waitFor(WAIT);
    expect((await store.getRun(triggered!.runId))?.state).toBe('failed');

    // A page opened by its address (index.html for any UI path) keeps the session and its CSRF token.
    await page.goto(`${server.url}/dags/report`);
    await page.getByRole('table', { name: 'Task states by run' }).waitFor(WAIT);
    await page.goto(server.url);
    await page.getByRole('switch', { name: 'Paused: report' }).check();
    await expect.poll(() => page.getByRole('switch', { name: 'Paused: report' }).isChecked(), WAIT).toBe(true);
    await expect.poll(() => store.isDagPaused('report'), WAIT).toBe(true);
    await page.getByRole('switch', { name: 'Paused: report' }).uncheck();
    await expect.poll(() => store.isDagPaused('report'), WAIT).toBe(false);

    // A failed run's page names the task's error and worker.
    await page.goto(`${server.url}/runs/scheduled__report__2`);
    await page.getByText('the source table is empty').waitFor(WAIT);
    expect(await page.getByRole('row', { name: /transform/ }).textContent()).toContain('worker-1');
    expect(await page.getByRole('button', { name: 'Cancel run' }).count()).toBe(0);

    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('shows a viewer the grid but no trigger form, and a disabled paused switch', async () => {
    const page = await newPage();
    await logIn(page, 'vic', 'a viewer only');
    await page.getByRole('row', { name: /report/ }).waitFor(WAIT);
    expect(await page.getByRole('switch', { name: 'Paused: report' }).isDisabled()).toBe(true);
    await page.getByRole('link', { name: 'report', exact: true }).click();
    await page.getByRole('table', { name: 'Task states by run' }).waitFor(WAIT);
    expect(await page.getByRole('heading', { name: 'Trigger a run' }).count()).toBe(0);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('renders only the grid rows in view, and moves between cells with the arrow keys', async () => {
    const page = await newPage();
    await logIn(page, 'vic', 'a viewer only');
    await page.goto(`${server.url}/dags/wide`);
    await page.getByRole('link', { name: /^t000 in the run of .*: failed, try 1$/ }).waitFor(WAIT);
    const rendered = await page.locator('.grid tbody th').count();
    expect(rendered).toBeGreaterThan(5);
    expect(rendered).toBeLessThan(WIDE_TASKS / 2);
    expect(await page.locator('.grid .cell[tabindex="0"]').count()).toBe(1); // the grid is one tab stop
    await page.getByRole('link', { name: /^t000 in the run/ }).focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => page.locator(':focus').getAttribute('aria-label'), WAIT).toMatch(/^t002 in the run/);
    await page.locator('.grid-scroll').evaluate((element) => {
      element.scrollTop = element.scrollHeight;
    });
    await page.getByRole('link', { name: /^t399 in the run of .*: failed, try 1$/ }).waitFor(WAIT);
    expect(await page.getByRole('link', { name: /^t000 in the run/ }).count()).toBe(0);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('serves the UI with the API’s security headers and leaves unknown API paths to the API', async () => {
    const index = await fetch(`${server.url}/runs/some-run`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toContain('text/html');
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await index.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
    expect(html).not.toMatch(/<style|style=/);
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    const script = await fetch(`${server.url}${asset}`);
    expect(script.headers.get('content-type')).toContain('text/javascript');
    expect(script.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${server.url}/assets/nope.js`)).status).toBe(404);
    expect((await fetch(`${server.url}/%2e%2e/package.json`)).headers.get('content-type')).toContain('text/html');
    const api = await fetch(`${server.url}/api/nope`);
    expect(api.status).toBe(401); // the API answers for itself (a problem document), never with the UI's page
    expect(api.headers.get('content-type')).toBe('application/problem+json');
    const post = await fetch(`${server.url}/dags/report`, { method: 'POST' });
    expect(post.status).toBe(404);
    expect(post.headers.get('content-type')).toBe('application/problem+json');
  });
});
