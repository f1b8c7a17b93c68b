/**
 * The web console in a real browser (Debian's Chromium) against a real `eunomia server` with a
 * token, real containers (Docker) and the real kernel: the token asked once; a container's exec
 * in the live table within a second; pausing holds rows and counts the new ones; a filter from
 * the address applies, a click on a value filters on it; a tracker started and stopped from the
 * page; an alert from a container on the alerts page; attacker-chosen text (a file name, a
 * container label) shown as text with nothing run; the Content-Security-Policy on the answers
 * and nothing refused by it. Screenshots of each page go to dist/test-output/console/.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { Browser, ElementHandle, Page } from 'puppeteer-core';
import { CONTENT_SECURITY_POLICY } from '../../src/server/http-console.js';
import { TEST_IMAGE, docker, dockerAsync, removeContainers, startSleeper, uniqueName } from '../docker.js';
import { freePort, needsRoot, repoRoot, waitFor } from '../helpers.js';
import { openStream, type SseStream } from '../server/sse.js';
import { OUTPUT_DIR, consolePage, cspViolations, launch, seenAt, tableRows, watchRow } from './browser.js';

const bin = join(repoRoot, 'bin/eunomia.js');
const TOKEN = 'console-e2e-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };
/** A file name that is markup: it must show as these characters and do nothing. */
const EVIL_NAME = '<img src=x onerror=window.__pwned=1>';
const EVIL_LABEL = '<img src=x onerror=window.__pwned=2>';

/** Whether this build's server takes --store (the event store, issue 20): then the test uses a store of its own. */
function storeFlag(): boolean {
  const help = spawnSync(process.execPath, [bin, 'server', '--help'], { encoding: 'utf8' });
  return /--store\b/.test(help.stdout + help.stderr);
}

async function screenshot(t: TestContext, page: Page, name: string): Promise<void> {
  const path = join(OUTPUT_DIR, `${name}.png`);
  await page.screenshot({ path });
  t.diagnostic(`screenshot: ${path}`);
}

async function go(page: Page, hash: string): Promise<void> {
  await page.evaluate((h) => void (location.hash = h), hash);
}

describe('the web console against a real server', { skip: needsRoot, timeout: 600_000 }, () => {
  let server: ChildProcess;
  let err = '';
  let base: string;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let processEvents: SseStream;
  const dir = mkdtempSync(join(tmpdir(), 'eunomia-console-'));
  const containers: string[] = [];

  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${base}${path}`, { headers: auth });
    assert.equal(res.status, 200, `${path}: ${res.status}`);
    return (await res.json()) as T;
  };

  before(async () => {
    // No Docker, no test: the console's container pages are what this checks.
    docker('image', 'inspect', TEST_IMAGE);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const args = ['server', '--listen', `127.0.0.1:${port}`, '--token', TOKEN, '--metrics-listen', 'off'];
    if (storeFlag()) args.push('--store', join(dir, 'events.db'));
    server = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    server.stderr!.on('data', (d) => (err += d));
    await waitFor(() => /server listening/.test(err) || server.exitCode !== null, 'the server to start', 60_000);
    assert.match(err, /server listening/, err);
    const instances = (await api<{ instances: { id: number; name: string }[] }>('/instances')).instances;
    processEvents = await openStream(`${base}/instances/${instances.find((i) => i.name === 'process')!.id}/events`, auth);
    browser = await launch();
    ({ page, errors } = await consolePage(browser));
  });
  after(async () => {
    processEvents?.close();
    await browser?.close();
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
    }
    removeContainers(...containers);
    rmSync(dir, { recursive: true, force: true });
  });

  test('the answers carry the policy; the page asks for the token once per tab', async (t) => {
    const index = await fetch(`${base}/`);
    assert.equal(index.status, 200, 'the page needs no token');
    assert.equal(index.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY);
    assert.equal(index.headers.get('x-content-type-options'), 'nosniff');
    const status = await fetch(`${base}/status`, { headers: auth });
    assert.equal(status.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY);
    assert.equal((await fetch(`${base}/status`)).status, 401);

    await page.goto(`${base}/`, { waitUntil: 'load' });
    await page.waitForSelector('.token-prompt input[name=token]', { timeout: 20_000 });
    await screenshot(t, page, 'token');
    await page.type('.token-prompt input[name=token]', 'not-the-token-0123456789');
    await page.click('.token-prompt button[type=submit]');
    await page.waitForFunction(() => document.querySelector('.token-prompt .error')?.textContent?.includes('refused'), { timeout: 10_000 });
    await page.$eval('.token-prompt input[name=token]', (i) => void ((i as HTMLInputElement).value = ''));
    await page.type('.token-prompt input[name=token]', TOKEN);
    await page.click('.token-prompt button[type=submit]');
    await page.waitForSelector('header.top nav a[data-page=events].active', { timeout: 20_000 });
    assert.equal(await page.evaluate(() => document.cookie), '', 'no cookie');
    await page.reload({ waitUntil: 'load' });
    await page.waitForSelector('header.top nav', { timeout: 20_000 });
    assert.equal(await page.$('.token-prompt'), null, 'the token is kept for the tab');
    await page.mouse.move(2, 2); // not over the table: it would pause
  });

  test('a container\'s exec shows in the live table within a second of it', async (t) => {
    const name = uniqueName('console-exec');
    const marker = `console-marker-${process.pid}`;
    await go(page, `#/events?f.container=${encodeURIComponent(`=${name}`)}`);
    await page.waitForSelector('.vt-filters input[name="f.container"]', { timeout: 10_000 });
    assert.equal(await page.$eval('.vt-filters input[name="f.container"]', (i) => (i as HTMLInputElement).value), `=${name}`);
    await page.waitForFunction(() => document.querySelector('.stream')?.textContent === 'live', { timeout: 20_000 });
    await watchRow(page, marker);
    containers.push(name);
    // The echo in the container (the docker client's own exec names the marker too).
    const exec = processEvents.until((e) => e.type === 'exec' && e.comm === 'echo' && (e.args as string[] | undefined)?.includes(marker) === true, 30_000);
    await dockerAsync('run', '--rm', '--name', name, TEST_IMAGE, '/bin/echo', marker);
    const ev = (await exec) as { time: string; container?: { name?: string } };
    assert.equal(ev.container?.name, name, 'the agent attributes the exec to the container');
    const seen = await seenAt(page, marker);
    const latency = seen - Date.parse(ev.time);
    t.diagnostic(`exec in ${name} → row in the table: ${latency} ms`);
    assert.ok(latency < 1000, `the row showed ${latency} ms after the exec`);
    const rows = await tableRows(page);
    assert.ok(rows.length >= 1);
    for (const r of rows) assert.ok(r.split(' | ')[2] === name, `a row of another container under the filter: ${r}`);
    assert.ok(rows.some((r) => r.includes(marker) && r.includes('exec')), rows.join('\n'));
    await screenshot(t, page, 'events');
  });

  test('a filter in the address applies; pausing holds new rows and counts them; a click on a value filters on it', async (t) => {
    const shown = `cshow${process.pid % 100000}`;
    const hidden = `chide${process.pid % 100000}`;
    for (const n of [shown, hidden]) {
      copyFileSync('/bin/true', join(dir, n));
      chmodSync(join(dir, n), 0o755);
    }
    const run = async (n: string): Promise<void> => {
      const seen = processEvents.until((e) => e.type === 'exec' && e.comm === n, 20_000);
      execFileSync(join(dir, n));
      await seen;
    };
    // Two filters from the address: this program's execs (not its exits).
    await go(page, `#/events?f.comm=${encodeURIComponent(`=${shown}`)}&f.event=exec`);
    await page.waitForFunction((v) => (document.querySelector('.vt-filters input[name="f.comm"]') as HTMLInputElement | null)?.value === v, { timeout: 10_000 }, `=${shown}`);
    await run(shown);
    await run(hidden); // seen by the agent (above), kept out by the filter
    await page.waitForFunction(() => document.querySelectorAll('.vt-body .vt-row').length === 1, { timeout: 10_000 });
    await new Promise((r) => setTimeout(r, 300)); // time for a wrong row to show
    let rows = await tableRows(page);
    assert.equal(rows.length, 1, rows.join('\n'));
    assert.equal(rows[0]!.split(' | ')[4], shown);
    assert.match(rows[0]!.split(' | ')[5]!, /^exec /);

    // The reader hovers the table: it holds still, and says how many came meanwhile.
    await page.hover('.vt-body');
    for (let i = 0; i < 3; i++) await run(shown);
    await page.waitForFunction(() => document.querySelector('button.new-rows')?.textContent === '3 new', { timeout: 10_000 });
    assert.equal(await page.$eval('.stream', (e) => e.textContent), 'paused');
    assert.equal((await tableRows(page)).length, 1, 'no row came in while paused');
    await screenshot(t, page, 'events-paused');
    await page.mouse.move(2, 2);
    await page.waitForFunction(() => document.querySelectorAll('.vt-body .vt-row').length === 4, { timeout: 10_000 });
    assert.equal(await page.$('button.new-rows'), null);

    // Unfiltered, and scrolled down: it holds still too; back at the top, the held rows come in.
    await go(page, '#/events');
    for (let i = 0; i < 100 && (await page.$$('.vt-body .vt-row')).length < 60; i++) await run(hidden);
    await page.$eval('.vt-body', (b) => b.scrollTo({ top: 300 }));
    await page.waitForFunction(() => document.querySelector('.stream')?.textContent === 'paused', { timeout: 5000 });
    const firstKey = await page.$eval('.vt-body .vt-row', (r) => r.getAttribute('data-key'));
    await run(hidden);
    await page.waitForSelector('button.new-rows', { timeout: 10_000 });
    assert.equal(await page.$eval('.vt-body .vt-row', (r) => r.getAttribute('data-key')), firstKey, 'the rows under the reader stayed');
    await page.$eval('.vt-body', (b) => b.scrollTo({ top: 0 }));
    await page.waitForFunction(() => document.querySelector('.stream')?.textContent === 'live' && !document.querySelector('button.new-rows'), { timeout: 5000 });

    // A click on a value: that column's filter is set to it, in the address.
    // Hovered first, the table holds still: a live one may replace the row under the click
    // (the host's other execs keep coming).
    await page.hover('.vt-body');
    await page.waitForFunction(() => document.querySelector('.stream')?.textContent === 'paused', { timeout: 5000 });
    const tracker = await page.$eval('.vt-body .vt-row .col-tracker .val', (v) => v.textContent ?? '');
    await page.click('.vt-body .vt-row .col-tracker .val');
    await page.waitForFunction((tr) => new URLSearchParams(location.hash.split('?')[1] ?? '').get('f.tracker') === `=${tr}`, { timeout: 5000 }, tracker);
    rows = await tableRows(page);
    assert.ok(rows.length > 0 && rows.every((r) => r.split(' | ')[1] === tracker), `rows of other trackers after filtering on ${tracker}`);
    await page.mouse.move(2, 2);
  });

  test('an event whose fields are markup shows as text and runs nothing', async (t) => {
    await go(page, `#/events?f.event=${encodeURIComponent('<img src=x')}`);
    await page.waitForFunction(() => (document.querySelector('.vt-filters input[name="f.event"]') as HTMLInputElement | null)?.value === '<img src=x', { timeout: 10_000 });
    await watchRow(page, EVIL_NAME);
    writeFileSync(join(dir, EVIL_NAME), 'x'); // opened by this process: opensnoop and files report the name
    await seenAt(page, EVIL_NAME, 20_000);
    await page.click('.vt-body .vt-row .col-event');
    await page.waitForSelector('aside.detail', { timeout: 5000 });
    const text = await page.$eval('main', (m) => (m as HTMLElement).innerText);
    assert.ok(text.includes(join(dir, EVIL_NAME)), 'the path shows as its characters');
    assert.equal(await page.$('img[src="x"]'), null, 'no element made from the name');
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned), undefined);
    await screenshot(t, page, 'events-markup');
  });

  test('containers: image, namespaces, labels as text', async (t) => {
    const name = uniqueName('console-ctr');
    containers.push(name);
    startSleeper(name, ['--label', `note=${EVIL_LABEL}`]);
    await go(page, '#/containers');
    await page.waitForSelector(`tr[data-id]`, { timeout: 20_000 });
    await page.waitForFunction((n) => [...document.querySelectorAll('.container-list tbody tr')].some((r) => r.textContent?.includes(n)), { timeout: 20_000 }, name);
    const id = docker('inspect', '-f', '{{.Id}}', name).slice(0, 12);
    await page.click(`tr[data-id="${id}"]`);
    await page.waitForSelector('aside.container-detail', { timeout: 5000 });
    const detail = await page.$eval('aside.container-detail', (a) => (a as HTMLElement).innerText);
    assert.ok(detail.includes(EVIL_LABEL), 'the label shows as its characters');
    assert.ok(detail.includes(TEST_IMAGE));
    assert.match(detail, /mnt:\d+ pid:\d+ net:\d+/);
    assert.equal(await page.$('img[src="x"]'), null);
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned), undefined);
    await screenshot(t, page, 'containers');
  });

  test('a tracker started from the page runs; stopped from the page, it is gone', async (t) => {
    const names = async (): Promise<string[]> => (await api<{ instances: { name: string }[] }>('/instances')).instances.map((i) => i.name);
    assert.ok(!(await names()).includes('sigsnoop'));
    await go(page, '#/trackers');
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLOptionElement>('form.start-form select[name=tracker] option')].some((o) => o.value === 'sigsnoop'), { timeout: 20_000 });
    await page.select('form.start-form select[name=tracker]', 'sigsnoop');
    await page.waitForSelector('form.start-form table.fields', { timeout: 5000 });
    await page.click('form.start-form button[type=submit]');
    let list: string[] = [];
    for (let i = 0; i < 100 && !list.includes('sigsnoop'); i++) {
      list = await names();
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(list.includes('sigsnoop'), `GET /instances: ${list.join(', ')}`);
    await page.waitForSelector('tr[data-name=sigsnoop] button.stop', { timeout: 10_000 });
    // Its own maps' kernel memory (GET /self), not the agent's total.
    await page.waitForFunction(() => /\(\d+ maps\)/.test(document.querySelector('tr[data-name=sigsnoop]')?.textContent ?? ''), { timeout: 10_000 });
    await screenshot(t, page, 'trackers');
    await page.click('tr[data-name=sigsnoop] button.stop');
    for (let i = 0; i < 100 && list.includes('sigsnoop'); i++) {
      await new Promise((r) => setTimeout(r, 200));
      list = await names();
    }
    assert.ok(!list.includes('sigsnoop'), 'stopped from the page');
    await page.waitForFunction(() => !document.querySelector('tr[data-name=sigsnoop]'), { timeout: 10_000 });
  });

  test('an alert raised in a container appears on the alerts page with its process chain', async (t) => {
    await go(page, '#/alerts');
    await page.waitForSelector('section.page.alerts', { timeout: 10_000 });
    const name = uniqueName('console-alert');
    containers.push(name);
    await dockerAsync('run', '--rm', '--name', name, TEST_IMAGE, 'cat', '/etc/shadow');
    const row = (await page.waitForFunction(
      (n) => [...document.querySelectorAll('tr[data-rule=sensitive_file_read]')].find((r) => r.textContent?.includes(n)),
      { timeout: 30_000, polling: 200 },
      name,
    )) as unknown as ElementHandle<HTMLTableRowElement>;
    const cells = await row.evaluate((r) => [...r.querySelectorAll('td')].map((c) => c.textContent ?? ''));
    assert.equal(cells[3], 'sensitive_file_read');
    assert.equal(cells[4], name);
    assert.match(cells[5]!, /^cat\(\d+\)/, 'the chain starts at the process');
    // The counts by rule include it.
    await page.waitForFunction(() => [...document.querySelectorAll('.dim-rule tr')].some((r) => r.textContent?.startsWith('sensitive_file_read')), { timeout: 10_000 });
    await screenshot(t, page, 'alerts');
    // Acknowledged: hidden from the list, kept in this browser.
    await row.evaluate((r) => r.querySelector('input[type=checkbox]')!.dispatchEvent(new MouseEvent('click', { bubbles: true })));
    await page.waitForFunction((n) => ![...document.querySelectorAll('tr[data-rule=sensitive_file_read]')].some((r) => r.textContent?.includes(n)), { timeout: 5000 }, name);
    assert.match(await page.evaluate(() => localStorage.getItem('eunomia.acknowledged') ?? ''), /sensitive_file_read/);
  });

  test('history: from the store when the agent keeps one, else "history unavailable" and the live pages work on', async (t) => {
    const self = await api<{ store: unknown }>('/self');
    const comm = `cshow${process.pid % 100000}`; // run by the filter test above
    await go(page, `#/events?f.comm=${encodeURIComponent(`=${comm}`)}&f.event=exec`);
    await page.reload({ waitUntil: 'load' }); // only what the agent stored can show now
    await page.waitForSelector('.status-line .history.ok, .status-line .history.error', { timeout: 20_000 });
    const line = await page.$eval('.status-line', (e) => e.textContent ?? '');
    if (self.store) {
      t.diagnostic('the agent keeps a store: the history path');
      assert.match(line, /history: \d+ rows, /);
      await page.waitForSelector('.vt-row.hist', { timeout: 10_000 });
      const rows = await tableRows(page);
      assert.ok(rows.length >= 4 && rows.every((r) => r.split(' | ')[4] === comm), rows.join('\n'));
      await go(page, '#/alerts');
      await page.waitForFunction(() => /history: .* – /.test(document.querySelector('.status-line')?.textContent ?? ''), { timeout: 20_000 });
    } else {
      t.diagnostic('the agent keeps no store: the pages say so');
      assert.match(line, /history unavailable: .+/);
      await page.waitForFunction(() => document.querySelector('.stream')?.textContent === 'live', { timeout: 20_000 });
      await go(page, '#/alerts?acked=1'); // the one raised above was acknowledged
      await page.waitForFunction(() => /history unavailable: .+ — showing the agent's latest alerts/.test(document.querySelector('.status-line')?.textContent ?? ''), { timeout: 20_000 });
      await page.waitForSelector('tr[data-rule=sensitive_file_read]', { timeout: 10_000 });
    }
  });

  test('health: the agent\'s own figures', async (t) => {
    await go(page, '#/health');
    await page.waitForSelector('[data-figure=rss]', { timeout: 20_000 });
    const rss = await page.$eval('[data-figure=rss]', (e) => e.textContent ?? '');
    assert.match(rss, /^\d+(\.\d)? MiB$/);
    await page.waitForFunction(() => document.querySelector('.card .big')?.textContent?.includes('%'), { timeout: 10_000 });
    await new Promise((r) => setTimeout(r, 2500)); // a second reading: rates and bars
    await screenshot(t, page, 'health');
    assert.deepEqual(await cspViolations(page), [], 'nothing the policy refused');
    assert.deepEqual(errors, [], 'no script errors');
  });
});
