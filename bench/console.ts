/**
 * The web console (`npm run bench -- console`), in Debian's Chromium against `eunomia server`
 * with its default trackers, while a loop runs a program every 20 ms (a steady trickle of events):
 *  - first paint: navigation → first rows of the live table visible, in a fresh browser
 *    context each time (nothing cached), and the browser's first contentful paint;
 *  - live-update latency: a program's exec (the kernel's time stamp of the event) → its row in
 *    the page's DOM, and → the frame that painted it;
 *  - what the page weighs (gzipped, as the agent serves it).
 */
import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { repoRoot } from '../test/helpers.js';
import { openStream } from '../test/server/sse.js';
import { launch, paintedAt, seenAt, watchRow } from '../test/console/browser.js';
import { startServer, stopServer } from './server.js';

const PAINTS = 10;
const UPDATES = 40;

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

const ms = (xs: number[]): string => `p50 ${percentile(xs, 50).toFixed(0)} ms, p95 ${percentile(xs, 95).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms`;

function pageWeight(): string {
  const dir = join(repoRoot, 'dist/console');
  let raw = 0;
  let gz = 0;
  for (const f of ['index.html', ...readdirSync(join(dir, 'assets')).map((a) => `assets/${a}`)]) {
    const b = readFileSync(join(dir, f));
    raw += b.length;
    gz += gzipSync(b).length;
  }
  return `${(raw / 1024).toFixed(1)} KiB (${(gz / 1024).toFixed(1)} KiB gzipped)`;
}

export async function consoleBench(): Promise<void> {
  console.log(`web console (Chromium, eunomia server with its default trackers); page: ${pageWeight()}`);
  const dir = mkdtempSync(join(tmpdir(), 'eunomia-bench-console-'));
  const comm = `cbench${process.pid % 100000}`;
  copyFileSync('/bin/true', join(dir, comm));
  chmodSync(join(dir, comm), 0o755);
  const { child, base } = await startServer([]);
  const trickle = spawn('/bin/sh', ['-c', 'while :; do /bin/true; sleep 0.02; done'], { stdio: 'ignore' });
  const browser = await launch();
  try {
    // First paint: a new context each time (no cache, no session).
    const paint: number[] = [];
    const fcp: number[] = [];
    for (let i = 0; i < PAINTS; i++) {
      const ctx = await browser.createBrowserContext();
      const page = await ctx.newPage();
      await page.setViewport({ width: 1400, height: 850 });
      await page.goto(`${base}/`, { waitUntil: 'domcontentloaded' });
      await page.waitForSelector('.vt-body .vt-row', { timeout: 20_000 });
      // Once the row is in the DOM, the next frame paints it.
      paint.push(await page.evaluate(() => new Promise<number>((r) => requestAnimationFrame(() => setTimeout(() => r(performance.now()))))));
      fcp.push(await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN));
      await ctx.close();
    }
    console.log(`  first paint, navigation → first rows visible (${PAINTS} cold loads): ${ms(paint)}; first contentful paint ${ms(fcp)}`);

    // Live updates: the page filtered on one program; each of its execs is timed to its row.
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 850 });
    await page.goto(`${base}/#/events?f.comm=${encodeURIComponent(`=${comm}`)}&f.event=exec`, { waitUntil: 'load' });
    await page.waitForFunction(() => document.querySelector('.stream')?.textContent === 'live', { timeout: 20_000 });
    const list = (await (await fetch(`${base}/instances`)).json()) as { instances: { id: number; name: string }[] };
    const stream = await openStream(`${base}/instances/${list.instances.find((i) => i.name === 'process')!.id}/events`);
    const dom: number[] = [];
    const painted: number[] = [];
    try {
      for (let i = 0; i < UPDATES; i++) {
        const marker = `m${i}x${process.pid}`;
        await watchRow(page, marker);
        const ev = stream.until((e) => e.type === 'exec' && e.comm === comm && (e.args as string[]).includes(marker), 10_000);
        execFileSync(join(dir, comm), [marker]);
        const t = Date.parse(((await ev) as { time: string }).time);
        dom.push((await seenAt(page, marker)) - t);
        painted.push((await paintedAt(page, marker)) - t);
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      stream.close();
    }
    console.log(`  live update, exec → row in the DOM (${UPDATES} execs): ${ms(dom)}`);
    console.log(`  live update, exec → row painted: ${ms(painted)}`);
  } finally {
    trickle.kill();
    await browser.close();
    await stopServer(child);
    rmSync(dir, { recursive: true, force: true });
  }
}
