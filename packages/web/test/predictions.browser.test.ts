// The predictions page in headless Chromium against a real web server and a private Redis holding
// prediction sets written by the ingest and a canary started through RolloutStore: an operator opens the
// page, sees the versions (the current one marked, the ingest gate's record) and the rollout panel (split,
// step and hold, guard intervals, SRM and sequential verdicts), and rolls back after confirming; a viewer
// sees the same page without the buttons. No page may break the CSP or throw.
import { ingestPredictions, RolloutStore, route } from '@batuta/ml-tasks';
import { RedisStateStore } from '@batuta/scheduler';
import { useRedisServer } from '@batuta/testing';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthStore, createWebApp, startWebServer, type WebServer } from '../src/index.js';
import { ensureUiBuilt, launchChromium, logIn, newPage } from './support/browser.js';

const WAIT = { timeout: 20_000 };
const MINUTE = 60_000;
const clock = Date.UTC(2026, 11, 3, 12);
const cheap = { N: 1024, r: 8, p: 1 };

const harness = useRedisServer();
let namespace: string;
let store: RedisStateStore;
let server: WebServer;
let browser: Browser;
const problems: string[] = [];

async function ingest(version: string, rows: number, atMs: number) {
  const keys = Array.from({ length: rows }, (_, i) => `customer-${i}`);
  await ingestPredictions(harness.redis, {
    model: 'iris',
    namespace,
    version,
    keys,
    labels: keys.map((_, i) => (i % 3 === 0 ? 'setosa' : 'virginica')),
    keyScheme: { scheme: 'entity-id', column: 0 },
    now: () => atMs,
  });
}

beforeAll(async () => {
  await ensureUiBuilt();
  namespace = harness.namespace('web-predictions-ui');
  store = await RedisStateStore.connect({ url: harness.url, namespace });
  const auth = new AuthStore(harness.redis, { namespace, scryptCost: cheap });
  await auth.addUser('ana', 'correct horse battery', 'operator');
  await auth.addUser('vic', 'a viewer only', 'viewer');
  await ingest('v1', 30, clock - 3 * MINUTE);
  await ingest('v2', 30, clock - 2 * MINUTE);
  await ingest('v3', 32, clock - MINUTE);
  const rollouts = new RolloutStore(harness.redis, { model: 'iris', namespace });
  const started = await rollouts.start(
    {
      strategy: 'canary',
      model: 'iris',
      baseline: 'v2',
      candidate: 'v3',
      holdout: 0.05,
      steps: [
        { share: 0.2, holdMs: 15 * MINUTE, minRequests: 10 },
        { share: 1, holdMs: 15 * MINUTE, minRequests: 10 },
      ],
      guards: { maxErrorRate: 0.1, maxAccuracyDrop: 0.05 },
    },
    { nowMs: clock - 5 * MINUTE },
  );
  for (let i = 0; i < 300; i++) {
    const chosen = route(started, `customer-${i}`);
    await rollouts.record(chosen, { error: chosen.arm === 'candidate' && i % 20 === 0 });
    if (chosen.arm !== 'holdout') await rollouts.feedback(chosen.version, i % 4 === 0 ? 0 : 1);
  }
  const app = createWebApp({
    store,
    auth,
    dags: () => new Map(),
    now: () => clock,
    secureCookies: false,
    predictions: { redis: harness.redis, namespace },
  });
  server = await startWebServer(app, { port: 0 });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await store?.close();
});

describe('the predictions page in a browser', () => {
  it('shows an operator the versions and the rollout panel, and rolls back after a confirmation', async () => {
    const page = await newPage(browser, problems);
    await logIn(page, server.url, 'ana', 'correct horse battery');
    await page.getByRole('link', { name: 'Predictions' }).click();
    await page.getByRole('heading', { name: 'Predictions' }).waitFor(WAIT);
    await page.getByTestId('model-iris').click();

    // Versions: oldest first, v3 current, the ingest gate's record.
    const current = page.getByTestId('version-v3');
    await current.getByTestId('current-badge').waitFor(WAIT);
    expect(await page.locator('[data-testid^="version-"]').count()).toBe(3);
    expect(await current.textContent()).toContain('passed (32 rows against 30 of v2)');

    // The rollout: a canary at step 1 of 2 with its hold left, the split, guards with intervals, the checks.
    const panel = page.getByTestId('rollout-panel');
    expect(await panel.getByTestId('rollout-strategy').textContent()).toBe('canary');
    expect(await panel.getByTestId('rollout-step').textContent()).toContain('1 of 2');
    expect(await panel.getByTestId('rollout-hold').textContent()).toMatch(
      /^10 min 0 s left; \d+ of 10 candidate requests$/,
    );
    expect(await panel.getByRole('img', { name: /^Traffic split: holdout 5 %, v2 76 %, v3 19 %$/ }).count()).toBe(1);
    expect(await panel.getByTestId('guard-errorRate').textContent()).toMatch(
      /Error rate \(limit 0\.1, \d+ trials\).*at 99 %/,
    );
    expect(await panel.getByTestId('rollout-srm').textContent()).toMatch(/^Sample ratio: ok \(χ²/);
    expect(await panel.getByTestId('rollout-sequential').textContent()).toContain('no difference shown yet');
    expect(await panel.getByTestId('rollout-log').textContent()).toContain('started');
    for (const action of ['check', 'advance', 'promote', 'abort'])
      expect(await panel.getByTestId(`rollout-${action}`).isEnabled()).toBe(true);

    // Roll back: a dialog says what will happen; cancelling changes nothing, confirming switches to v2.
    await page.getByTestId('rollback').click();
    const dialog = page.getByRole('dialog', { name: 'Roll back iris?' });
    await dialog.waitFor(WAIT);
    expect(await dialog.textContent()).toContain('Consumers will read v2 instead of v3');
    await dialog.getByRole('button', { name: 'Back', exact: true }).click();
    await dialog.waitFor({ state: 'hidden', ...WAIT });
    expect(await harness.redis.get(`batuta:${namespace}:pred:iris:current`)).toBe('v3');
    await page.getByTestId('rollback').click();
    await page.getByTestId('confirm-button').click();
    await page.getByRole('status').filter({ hasText: 'Rolled back from v3 to v2' }).waitFor(WAIT);
    await page.getByTestId('version-v2').getByTestId('current-badge').waitFor(WAIT);
    expect(await page.getByTestId('version-v3').textContent()).toContain('bad: rolled back at');
    expect(await harness.redis.get(`batuta:${namespace}:pred:iris:current`)).toBe('v2');

    // Advance by hand: the panel shows step 2 and the new split.
    await panel.getByTestId('rollout-advance').click();
    await page.getByTestId('confirm-button').click();
    await page.getByRole('status').filter({ hasText: 'advance: moved to step 2 by hand' }).waitFor(WAIT);
    await expect.poll(() => panel.getByTestId('rollout-step').textContent(), WAIT).toContain('2 of 2');

    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('shows a viewer the same page, opened by its address, without any button that changes something', async () => {
    const page = await newPage(browser, problems);
    await logIn(page, server.url, 'vic', 'a viewer only');
    await page.goto(`${server.url}/predictions/iris`);
    await page.getByTestId('rollout-panel').getByTestId('rollout-strategy').waitFor(WAIT);
    await page.getByTestId('version-v1').waitFor(WAIT);
    expect(await page.getByTestId('rollback').count()).toBe(0);
    expect(await page.getByRole('button', { name: /Activate|Promote|Abort|Advance/ }).count()).toBe(0);
    expect(problems).toEqual([]);
    await page.context().close();
  });
});
