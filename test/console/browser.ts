/** Debian's Chromium driven by puppeteer-core, for the console's tests and bench (no browser download). */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { repoRoot } from '../helpers.js';

export const CHROMIUM = '/usr/bin/chromium';
/** Where the screenshots go (printed by the tests). */
export const OUTPUT_DIR = join(repoRoot, 'dist/test-output/console');

export async function launch(): Promise<Browser> {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: scripts/test-env.sh (npm test's set-up, as root) installs Debian's chromium`);
  assert.ok(existsSync(join(repoRoot, 'dist/console/index.html')), 'dist/console is not built: run scripts/setup.sh (it runs scripts/build-console.js)');
  mkdirSync(OUTPUT_DIR, { recursive: true });
  // headless: true is the new headless mode; --headless=new says so to Chromium as well.
  return puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--headless=new', '--disable-gpu', '--disable-dev-shm-usage'] });
}

/**
 * A page that records what the Content-Security-Policy refused (window.__csp) and its script
 * errors: the console must cause neither.
 */
export async function consolePage(browser: Browser): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 850, deviceScaleFactor: 1 });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.evaluateOnNewDocument(() => {
    const w = window as unknown as { __csp: string[] };
    w.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => w.__csp.push(`${e.violatedDirective}: ${e.blockedURI} ${e.sample}`));
  });
  return { page, errors };
}

export async function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __csp: string[] }).__csp);
}

/** Texts of the live table's rows now, each as its cells joined by " | ". */
export async function tableRows(page: Page): Promise<string[]> {
  return page.$$eval('.vt-body .vt-row', (rows) => rows.map((r) => [...r.querySelectorAll(':scope > .cell')].map((c) => c.textContent ?? '').join(' | ')));
}

/**
 * Watches (in the page) for a row of the live table holding `marker`: seenAt() then answers
 * the page's Date.now() when it came into the DOM, paintedAt() once the next frame painted it.
 */
export async function watchRow(page: Page, marker: string): Promise<void> {
  await page.evaluate((m) => {
    const w = window as unknown as { __seen: Record<string, number>; __painted: Record<string, number> };
    w.__seen ??= {};
    w.__painted ??= {};
    const look = (): boolean => {
      for (const r of document.querySelectorAll('.vt-row')) {
        if (r.textContent?.includes(m)) {
          w.__seen[m] = Date.now();
          // A frame callback runs before that frame paints; a task queued from it, after.
          requestAnimationFrame(() => setTimeout(() => (w.__painted[m] = Date.now())));
          return true;
        }
      }
      return false;
    };
    if (look()) return;
    const obs = new MutationObserver(() => look() && obs.disconnect());
    obs.observe(document.body, { childList: true, subtree: true, characterData: true });
  }, marker);
}

export async function seenAt(page: Page, marker: string, ms = 15_000): Promise<number> {
  const h = await page.waitForFunction((m) => (window as unknown as { __seen?: Record<string, number> }).__seen?.[m], { timeout: ms, polling: 50 }, marker);
  return (await h.jsonValue()) as number;
}

export async function paintedAt(page: Page, marker: string, ms = 15_000): Promise<number> {
  const h = await page.waitForFunction((m) => (window as unknown as { __painted?: Record<string, number> }).__painted?.[m], { timeout: ms, polling: 20 }, marker);
  return (await h.jsonValue()) as number;
}
