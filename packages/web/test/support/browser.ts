// What the browser tests share: Debian's chromium driven by playwright-core, and the prebuilt UI, built
// here when dist/ui is missing or older than the UI's sources (so a test never runs a stale page).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';

const packageDir = fileURLToPath(new URL('../..', import.meta.url));

/** Debian's chromium (`apt-get install chromium`; .ci/run installs it when missing). */
export function chromiumPath(): string {
  for (const candidate of [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (candidate && existsSync(candidate)) return candidate;
  }
  return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim();
}

/** Headless chromium without its sandbox (test containers run as root). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'] });
}

function newestMtimeMs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtimeMs(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** True when dist/ui holds a build newer than every file of ui/. */
function uiIsFresh(): boolean {
  const index = join(packageDir, 'dist', 'ui', 'index.html');
  return existsSync(index) && statSync(index).mtimeMs >= newestMtimeMs(join(packageDir, 'ui'));
}

/**
 * Builds the UI into dist/ui unless a fresh build is there. Test files run in parallel: one takes a lock
 * directory and builds, the others wait for it (a lock left by a crashed build is taken over after 5 min).
 */
export async function ensureUiBuilt(): Promise<void> {
  const lock = join(packageDir, 'dist', '.ui-build-lock');
  const deadline = Date.now() + 300_000;
  while (!uiIsFresh()) {
    try {
      mkdirSync(join(packageDir, 'dist'), { recursive: true });
      mkdirSync(lock);
    } catch {
      if (Date.now() > deadline) rmSync(lock, { recursive: true, force: true });
      else await delay(250);
      continue;
    }
    try {
      if (!uiIsFresh()) execFileSync('npm', ['run', 'build:ui'], { cwd: packageDir, stdio: 'inherit' });
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

/**
 * A fresh page in its own context that records, in `problems`, console errors (other than failed
 * resource loads, such as a 403 a test provokes) and uncaught exceptions.
 */
export async function newPage(
  browser: Browser,
  problems: string[],
  options: { viewport?: { width: number; height: number } } = {},
): Promise<Page> {
  const context = await browser.newContext(options.viewport ? { viewport: options.viewport } : {});
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  return page;
}

/** Logs in through the UI's form at `url` and waits for the DAG list. */
export async function logIn(page: Page, url: string, user: string, password: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'DAGs' }).waitFor({ timeout: 20_000 });
}
