// The browser UI in headless Chromium (Debian's package, driven by playwright-core) against a real web
// server and a private Redis: log in, see the DAG list with its last runs, open the grid, trigger a run
// with a conf from the form generated from the params and see it queued, open the run and cancel it, and
// a viewer sees no trigger form. The operator's pages: the graph of a run (live states, a click opens the
// task), a task's tries and its log followed live, clear behind a confirmation, pools, the theme toggle, and
// a state change arriving over the event stream. No page may break the CSP (no inline script or style) or throw.
import { parseDagYaml, RedisLogStore, RedisStateStore, type TaskInstanceRecord } from '@batuta/scheduler';
import { useRedisServer } from '@batuta/testing';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthStore, createWebApp, startWebServer, type WebServer } from '../src/index.js';
import { ensureUiBuilt, launchChromium, logIn, newPage } from './support/browser.js';

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
// Visible to everyone, operable by no one but admins: an operator gets no buttons on it.
const guarded = parseDagYaml(
  `id: guarded
access:
  operate: ["user:someone-else"]
tasks:
  only: { operator: empty }
`,
  'guarded.yaml',
);
const WIDE_TASKS = 400;
const wide = parseDagYaml(
  `id: wide\ntasks:\n${Array.from({ length: WIDE_TASKS }, (_, i) => `  t${String(i).padStart(3, '0')}: { operator: empty }`).join('\n')}\n`,
  'wide.yaml',
);
const cheap = { N: 1024, r: 8, p: 1 };

let store: RedisStateStore;
let logStore: RedisLogStore;
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
  await seedRun('scheduled__guarded__1', 6, { only: 'failed' }, 'guarded');
  const dags = new Map([
    [guarded.id, guarded],
    [dag.id, dag],
    [wide.id, wide],
  ]);
  logStore = new RedisLogStore({ redis: harness.redis, namespace });
  const pools = {
    read: async () => [
      {
        pool: 'gpu',
        capacity: { cpu: 8, memoryMb: 32768, gpu: 1, custom: {} },
        minWorkers: 0,
        maxWorkers: 4,
        workersAlive: 2,
        waiting: 7,
        active: 2,
        delayed: 1,
        admitted: { cpu: 6, memoryMb: 4096, gpu: 2, custom: {} },
        desiredWorkers: 3,
      },
    ],
  };
  const app = createWebApp({
    store,
    auth,
    logStore,
    pools,
    dags: () => dags,
    secureCookies: false,
    // No scheduler runs here: a clear is answered "requested" soon instead of after the default 10 s.
    repairWaitMs: 300,
  });
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
    const page = await newPage(browser, problems);
    await logIn(page, server.url, 'ana', 'correct horse battery');

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
    expect(await page.getByRole('switch', { name: 'Paused: guarded' }).isDisabled()).toBe(true); // its access

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
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel the run' }).click();
    await page.getByRole('status').filter({ hasText: 'Cancelled.' }).waitFor(WAIT);
    expect((await store.getRun(triggered!.runId))?.state).toBe('failed');

    // A DAG this operator may see but not operate (its access): no trigger, clear or cancel buttons.
    await page.goto(`${server.url}/runs/scheduled__guarded__1`);
    await page.getByTestId('run-state').filter({ hasText: 'failed' }).waitFor(WAIT);
    expect(await page.getByTestId('clear-button').count()).toBe(0);
    await page.goto(`${server.url}/dags/guarded`);
    await page.getByRole('table', { name: 'Task states by run' }).waitFor(WAIT);
    expect(await page.getByTestId('trigger-button').count()).toBe(0);

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
    const page = await newPage(browser, problems);
    await logIn(page, server.url, 'vic', 'a viewer only');
    await page.getByRole('row', { name: /report/ }).waitFor(WAIT);
    expect(await page.getByRole('switch', { name: 'Paused: report' }).isDisabled()).toBe(true);
    await page.getByRole('link', { name: 'report', exact: true }).click();
    await page.getByRole('table', { name: 'Task states by run' }).waitFor(WAIT);
    expect(await page.getByRole('heading', { name: 'Trigger a run' }).count()).toBe(0);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('renders only the grid rows in view, and moves between cells with the arrow keys', async () => {
    const page = await newPage(browser, problems);
    await logIn(page, server.url, 'vic', 'a viewer only');
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
    // Enter on a cell opens that task's tries and logs in that run.
    await page.getByTestId('grid-cell-scheduled__wide__1-t399').focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Task t399' }).waitFor(WAIT);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('draws the graph of a run coloured by state, counts mapped instances, and opens a task from a node', async () => {
    const logicalDateMs = Date.UTC(2026, 11, 1, 7);
    await store.createRun({
      runId: 'mapped__report',
      dagId: 'report',
      kind: 'manual',
      state: 'running',
      logicalDateMs,
      conf: {},
      createdMs: logicalDateMs,
    });
    const instance = (taskId: string, mapIndex: number, state: TaskInstanceRecord['state']) => ({
      record: { runId: 'mapped__report', taskId, mapIndex, state, tryNumber: 1 },
    });
    await store.applyTransition('mapped__report', {
      instances: [
        instance('extract', -1, 'success'),
        instance('transform', 0, 'success'),
        instance('transform', 1, 'failed'),
        instance('transform', 2, 'success'),
      ],
    });
    const page = await newPage(browser, problems);
    await logIn(page, server.url, 'ana', 'correct horse battery');

    // The DAG's shape, from the DAG page's link.
    await page.goto(`${server.url}/dags/report`);
    await page.getByTestId('graph-link').click();
    await page.getByTestId('graph-node-extract').waitFor(WAIT);
    expect(await page.locator('[data-testid^="graph-node-"]').count()).toBe(3);
    expect(await page.locator('.graph .edge').count()).toBe(2);
    expect(await page.getByTestId('graph-node-load').getAttribute('data-state')).toBe('plain');

    // A run's graph: each task in its state; nodes are links reachable with Tab.
    await page.getByTestId('graph-run-choice').selectOption('scheduled__report__2');
    await expect.poll(() => page.getByTestId('graph-node-transform').getAttribute('data-state'), WAIT).toBe('failed');
    expect(await page.getByTestId('graph-node-extract').getAttribute('data-state')).toBe('success');
    expect(await page.getByTestId('graph-node-load').getAttribute('data-state')).toBe('upstream_failed');
    expect(await page.getByRole('link', { name: 'transform: failed, try 1' }).count()).toBe(1);

    // Mapped instances are summarised: the most urgent state, and a count per state.
    await page.goto(`${server.url}/runs/mapped__report/graph`);
    const mapped = page.getByTestId('graph-node-transform');
    await expect.poll(() => mapped.getAttribute('aria-label'), WAIT).toBe('transform: 3 mapped: 1 failed, 2 success');
    expect(await mapped.getAttribute('data-state')).toBe('failed');
    expect(await page.getByTestId('graph-node-load').getAttribute('data-state')).toBe('none');

    expect(await page.getByTestId('graph-counts').textContent()).toContain('1 failed');

    // A node opens the task's page: with the keyboard (Tab reaches the nodes, Enter follows), or a click.
    await page.getByTestId('graph-node-extract').focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Task extract' }).waitFor(WAIT);
    await page.goto(`${server.url}/runs/scheduled__report__2/graph`);
    await page.getByTestId('graph-node-transform').click();
    await page.getByRole('heading', { name: 'Task transform' }).waitFor(WAIT);
    expect(new URL(page.url()).pathname).toBe('/runs/scheduled__report__2/tasks/transform');
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it("shows a task's tries and follows its log live; a viewer gets no clear or trigger buttons", async () => {
    const attempt = { runId: 'scheduled__report__2', taskId: 'transform', mapIndex: -1, tryNumber: 1 };
    await logStore.append(attempt, [
      { atMs: Date.UTC(2026, 11, 1, 4, 0, 1), stream: 'stdout', text: 'reading the source table' },
      { atMs: Date.UTC(2026, 11, 1, 4, 0, 2), stream: 'stderr', text: 'the source table is empty' },
    ]);
    const page = await newPage(browser, problems);
    await logIn(page, server.url, 'vic', 'a viewer only');
    await page.goto(`${server.url}/runs/scheduled__report__2/tasks/transform`);
    const viewer = page.getByTestId('log-viewer');
    await viewer.filter({ hasText: 'reading the source table' }).waitFor(WAIT);
    expect(await page.getByTestId('tries').textContent()).toContain('worker-1');

    // Lines written while the page is open arrive without a reload, until the try's log ends.
    await logStore.append(attempt, [{ atMs: Date.UTC(2026, 11, 1, 4, 0, 3), stream: 'stdout', text: 'gave up' }], {
      end: true,
    });
    await viewer.filter({ hasText: 'gave up' }).waitFor(WAIT);
    await page.getByText('The try has ended.').waitFor(WAIT);

    // A viewer sees no repair buttons and no trigger button.
    expect(await page.getByTestId('clear-task-transform').count()).toBe(0);
    await page.goto(`${server.url}/runs/scheduled__report__2`);
    await page.getByTestId('run-state').filter({ hasText: 'failed' }).waitFor(WAIT);
    expect(await page.getByTestId('clear-button').count()).toBe(0);
    expect(await page.getByRole('button', { name: /^Clear/ }).count()).toBe(0);
    await page.goto(`${server.url}/dags/report`);
    await page.getByRole('table', { name: 'Task states by run' }).waitFor(WAIT);
    expect(await page.getByTestId('trigger-button').count()).toBe(0);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('opens a long log at its end, says earlier lines are hidden, and loads it from the start', async () => {
    const attempt = { runId: 'scheduled__report__2', taskId: 'extract', mapIndex: -1, tryNumber: 1 };
    const atMs = Date.UTC(2026, 11, 1, 4, 0, 0);
    const long = Array.from({ length: 1_500 }, (_, i) => ({
      atMs: atMs + i,
      stream: 'stdout' as const,
      text: `row ${i}`,
    }));
    await logStore.append(attempt, long.slice(0, 700));
    await logStore.append(attempt, long.slice(700));
    const page = await newPage(browser, problems);
    await logIn(page, server.url, 'vic', 'a viewer only');
    await page.goto(`${server.url}/runs/scheduled__report__2/tasks/extract`);
    const viewer = page.getByTestId('log-viewer');
    await viewer.filter({ hasText: 'row 1499' }).waitFor(WAIT);
    const shown = viewer.locator('.log-line');
    expect(await shown.count()).toBe(1_000);
    expect(await shown.first().textContent()).toContain('row 500');
    expect(await page.getByTestId('log-earlier').textContent()).toContain('earlier lines are not shown');
    expect(await viewer.getAttribute('aria-describedby')).toBe('logs-earlier');

    // Live lines continue from the tail.
    await logStore.append(attempt, [{ atMs: atMs + 2_000, stream: 'stderr', text: 'after the tail' }], { end: true });
    await viewer.filter({ hasText: 'after the tail' }).waitFor(WAIT);
    await page.getByText('The try has ended.').waitFor(WAIT);
    expect(await shown.count()).toBe(1_001);

    await page.getByRole('button', { name: 'Load from the start' }).click();
    await expect.poll(() => shown.count(), WAIT).toBe(1_501);
    expect(await shown.first().textContent()).toContain('row 0');
    expect(await page.getByTestId('log-earlier').count()).toBe(0);
    expect(await page.getByTestId('log-follow').isChecked()).toBe(false);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it("lists every try of a task with each try's state, worker and error, not only the latest", async () => {
    // A run of a DAG no longer loaded (so no other page lists it): try 1 failed and was retried, try 2 runs.
    const runId = 'manual__tries';
    const startMs = Date.UTC(2026, 10, 1, 6);
    await store.createRun({
      runId,
      dagId: 'retired',
      kind: 'manual',
      state: 'running',
      logicalDateMs: startMs,
      conf: {},
      createdMs: startMs,
    });
    const record = { runId, taskId: 'flaky', mapIndex: -1 };
    await store.applyTransition(runId, {
      instances: [
        {
          record: {
            ...record,
            state: 'up_for_retry',
            tryNumber: 1,
            startMs,
            endMs: startMs + 2_000,
            worker: 'worker-a',
            error: { code: 'E_FIRST', message: 'the first try broke' },
          },
        },
      ],
    });
    await store.applyTransition(runId, {
      instances: [
        { record: { ...record, state: 'running', tryNumber: 2, startMs: startMs + 5_000, worker: 'worker-b' } },
      ],
    });
    const page = await newPage(browser, problems);
    await logIn(page, server.url, 'vic', 'a viewer only');
    await page.goto(`${server.url}/runs/${runId}/tasks/flaky`);
    const tries = page.getByTestId('tries');
    await tries.filter({ hasText: 'worker-b' }).waitFor(WAIT);
    const rows = tries.locator('tbody tr');
    expect(await rows.count()).toBe(2);
    // Newest first: try 2 running on worker-b, then try 1 as it ended, with its worker and error.
    expect(await rows.nth(0).textContent()).toContain('running');
    const first = await rows.nth(1).textContent();
    expect(first).toContain('up_for_retry');
    expect(first).toContain('worker-a');
    expect(first).toContain('2.0 s');
    expect(await page.getByTestId('try-error-1').textContent()).toContain('the first try broke');
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('lets an operator clear a task with its downstream after confirming', async () => {
    const page = await newPage(browser, problems);
    await logIn(page, server.url, 'ana', 'correct horse battery');
    await page.goto(`${server.url}/runs/scheduled__report__2`);
    await page.getByTestId('clear-task-transform').click();
    const dialog = page.getByRole('dialog', { name: 'Clear transform?' });
    await dialog.waitFor(WAIT);
    expect(await dialog.getByTestId('clear-downstream').isChecked()).toBe(true);
    await dialog.getByRole('button', { name: 'Back' }).click();
    expect(await page.getByRole('dialog').count()).toBe(0);

    await page.getByTestId('clear-button').click();
    await page.getByRole('dialog').getByTestId('clear-task-choice').selectOption('transform');
    await page.getByRole('dialog').getByTestId('clear-only-failed').check();
    await page.getByTestId('confirm-button').click();
    // No scheduler drives this run, so the request stays requested: the UI says so.
    await page.getByRole('status').filter({ hasText: 'Requested' }).waitFor(WAIT);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('shows a state change pushed over the event stream without a reload', async () => {
    const logicalDateMs = Date.UTC(2026, 11, 1, 8);
    await store.createRun({
      runId: 'live__report',
      dagId: 'report',
      kind: 'manual',
      state: 'running',
      logicalDateMs,
      conf: {},
      createdMs: logicalDateMs,
    });
    await store.applyTransition('live__report', {
      instances: [
        { record: { runId: 'live__report', taskId: 'extract', mapIndex: -1, state: 'running', tryNumber: 1 } },
      ],
    });
    const page = await newPage(browser, problems);
    await logIn(page, server.url, 'vic', 'a viewer only');
    await page.goto(`${server.url}/dags/report`);
    const cell = page.getByTestId('grid-cell-live__report-extract');
    await expect.poll(() => cell.getAttribute('class'), WAIT).toContain('state-running');
    await page.getByTestId('live-status').filter({ hasText: 'Live' }).waitFor(WAIT);
    // The fallback poll (30 s) is slower than this wait: only the stream can bring the change in time.
    await store.applyTransition('live__report', {
      instances: [
        {
          record: { runId: 'live__report', taskId: 'extract', mapIndex: -1, state: 'success', tryNumber: 1 },
          expectState: 'running',
        },
      ],
    });
    await expect.poll(() => cell.getAttribute('class'), WAIT).toContain('state-success');

    await page.goto(`${server.url}/runs/live__report`);
    await page.getByTestId('run-state').filter({ hasText: 'running' }).waitFor(WAIT);
    await page.getByTestId('live-status').filter({ hasText: 'Live' }).waitFor(WAIT);
    await store.applyTransition('live__report', { run: { patch: { state: 'success', endMs: logicalDateMs + 1 } } });
    await page.getByTestId('run-state').filter({ hasText: 'success' }).waitFor(WAIT);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('lists the worker pools, and switches to the dark theme and remembers it', async () => {
    const page = await newPage(browser, problems);
    await logIn(page, server.url, 'vic', 'a viewer only');
    await page.getByRole('link', { name: 'Pools' }).click();
    const row = page.getByTestId('pool-gpu');
    await row.waitFor(WAIT);
    expect(await page.getByTestId('pool-gpu-waiting').textContent()).toBe('7');
    expect(await row.textContent()).toContain('6 / 16'); // cpu admitted of 2 workers × 8
    expect(await page.getByRole('meter', { name: 'CPU in use in gpu' }).count()).toBe(1);

    // Expressions as strings: the tests' TypeScript has no DOM library.
    const theme = () => page.evaluate<string>("document.documentElement.dataset.theme ?? 'system'");
    const background = () => page.evaluate<string>('getComputedStyle(document.body).backgroundColor');
    expect(await theme()).toBe('system');
    const light = await background();
    const toggle = page.getByRole('button', { name: 'Dark theme' });
    expect(await toggle.getAttribute('aria-pressed')).toBe('false');
    await toggle.click();
    expect(await theme()).toBe('dark');
    expect(await background()).not.toBe(light);
    await page.reload();
    await row.waitFor(WAIT);
    expect(await theme()).toBe('dark');
    expect(await page.getByTestId('theme-toggle').getAttribute('aria-pressed')).toBe('true');
    await page.getByTestId('theme-toggle').click();
    expect(await theme()).toBe('light');
    expect(await background()).toBe(light);
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
