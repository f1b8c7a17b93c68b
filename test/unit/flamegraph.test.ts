/**
 * The SVG flame graph (src/profiling/formats/flamegraph.ts): well-formed XML whatever the frame
 * names are, attacker-chosen names only ever as escaped text, deterministic, kernel/user/unknown
 * colours — and, in a real Chromium (Debian's, through puppeteer-core), the hottest function is
 * the widest frame with its name, a search typed into the prompt highlights it and shows its
 * share, a click zooms a frame to the full width and Reset Zoom undoes it. Screenshots go to
 * dist/test-output/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import puppeteer from 'puppeteer-core';
import { isEunomiaError } from '../../src/core/errors.js';
import { renderFlameGraph, render, type Profile, type ProfileStack } from '../../src/profiling/formats/index.js';
import { FLAMEGRAPH_SCRIPT } from '../../src/profiling/formats/flamegraph-script.js';
import { fitLabel } from '../../src/profiling/formats/flamegraph.js';
import { repoRoot } from '../helpers.js';

/** A process may name its functions (and itself) anything: these must stay text everywhere. */
const ATTACK = '</text><script>alert(1)</script>';
const ENTITIES = `&amp;"'<`;

const profile: Profile = {
  hz: 99,
  durationMs: 10_000,
  startedAt: new Date('2026-01-02T03:04:05.000Z'),
  stacks: [
    { frames: ['_start', 'main', 'hot_loop'], count: 700, pid: 42, comm: 'app' },
    { frames: ['_start', 'main', 'parse', 'read', 'entry_SYSCALL_64', 'ksys_read'], count: 100, pid: 42, comm: 'app', kernelFrames: 2 },
    { frames: ['_start', 'main', 'cold_path'], count: 50, pid: 42, comm: 'app' },
    { frames: ['_start', 'main', '[unknown]'], count: 20, pid: 42, comm: 'app' },
    { frames: ['_start', ATTACK, 'spin'], count: 40, pid: 7, comm: ATTACK },
    { frames: ['worker', ENTITIES, 'tick'], count: 30, pid: 8, comm: 'evil' },
    { frames: ['swapper', 'do_idle', 'cpuidle_enter'], count: 60, pid: 0, comm: 'swapper/0', kernelFrames: 3 },
  ],
};
const TOTAL = 700 + 100 + 50 + 20 + 40 + 30 + 60;
const WIDTH = 1200;
const PLOT = WIDTH - 20; // 10 px each side

interface Frame {
  name: string;
  samples: number;
  depth: number;
  x: number;
  width: number;
  fill: string;
  label: string;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  htmlEntities: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  cdataPropName: '#cdata',
  isArray: (name) => ['g', 'text', 'script', 'rect'].includes(name),
});

type El = Record<string, unknown>;

/** The frames of an SVG, read with an XML parser (not with the renderer's own rules). */
function framesOf(svg: string): { doc: El; frames: Frame[] } {
  const doc = parser.parse(svg) as El;
  const root = doc.svg as El;
  const group = (root.g as El[]).find((g) => g.id === 'frames')!;
  const frames = ((group.g as El[] | undefined) ?? []).map((g) => {
    const title = String(g.title);
    const cut = title.lastIndexOf(' (');
    const rect = (g.rect as El[])[0]!;
    const text = (g.text as El[] | undefined)?.[0];
    return {
      name: title.slice(0, cut),
      samples: Number(g['data-n']),
      depth: Number(g['data-d']),
      x: Number(rect.x),
      width: Number(rect.width),
      fill: String(rect.fill),
      label: text === undefined ? '' : String(text['#text'] ?? ''),
    };
  });
  return { doc, frames };
}

const rgb = (fill: string): [number, number, number] => {
  const m = /^rgb\((\d+),(\d+),(\d+)\)$/.exec(fill);
  assert.ok(m, `a fill in rgb(): ${fill}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
};

// ---------------------------------------------------------------- the document

test('the SVG is well-formed XML, with one script (the constant one) and every frame', () => {
  const svg = renderFlameGraph(profile);
  assert.equal(XMLValidator.validate(svg), true);
  const { doc, frames } = framesOf(svg);
  const scripts = (doc.svg as El).script as El[];
  assert.equal(scripts.length, 1);
  assert.equal(scripts[0]!['#cdata'], FLAMEGRAPH_SCRIPT, 'the script holds nothing of the profile');
  assert.ok(!FLAMEGRAPH_SCRIPT.includes(']]>'), 'the script cannot end its CDATA section');
  assert.ok(!/<script\b/i.test(svg.slice(0, svg.indexOf('<script type="text/ecmascript">'))), 'no other script element');
  assert.equal(svg.match(/<script\b/g)!.length, 1);

  const all = frames.find((f) => f.depth === 0)!;
  assert.equal(all.name, 'all');
  assert.equal(all.samples, TOTAL);
  assert.equal(all.width, PLOT);
  const hot = frames.find((f) => f.name === 'hot_loop')!;
  assert.equal(hot.samples, 700);
  assert.ok(Math.abs(hot.width - (700 / TOTAL) * PLOT) < 0.01, `hot_loop is 700/${TOTAL} of the width: ${hot.width}`);
  assert.equal(hot.label, 'hot_loop');
  // A parent is as wide as its children together, and starts where the first starts.
  const main = frames.find((f) => f.name === 'main')!;
  assert.equal(main.samples, 700 + 100 + 50 + 20);
  // Children sorted by name: [unknown], cold_path, hot_loop, parse under main.
  const kids = frames.filter((f) => f.depth === main.depth + 1 && f.x >= main.x && f.x < main.x + main.width);
  assert.deepEqual(kids.map((f) => f.name), ['[unknown]', 'cold_path', 'hot_loop', 'parse']);
  assert.ok(Math.abs(kids[0]!.x - main.x) < 0.01);
});

test('attacker-chosen names are escaped text: never markup, never script', () => {
  const svg = renderFlameGraph(profile, { title: ATTACK, subtitle: ENTITIES });
  assert.equal(XMLValidator.validate(svg), true);
  assert.ok(!svg.includes(ATTACK), 'the raw name is not in the document');
  assert.ok(!svg.includes('<script>'), 'no script element from a name');
  assert.ok(svg.includes('&lt;/text&gt;&lt;script&gt;alert(1)&lt;/script&gt;'));
  assert.ok(svg.includes('&amp;amp;&quot;&#39;&lt;'), 'each of & " \' < escaped');
  const { doc, frames } = framesOf(svg);
  // Read back by an XML parser, the names are exactly the strings the process chose.
  assert.ok(frames.some((f) => f.name === ATTACK));
  assert.ok(frames.some((f) => f.name === ENTITIES));
  const texts = ((doc.svg as El).text as El[]).map((t) => t['#text']);
  assert.ok(texts.includes(ATTACK) && texts.includes(ENTITIES), 'title and subtitle are text too');
  assert.equal((doc.svg as El).script && ((doc.svg as El).script as El[]).length, 1);
});

test('characters XML cannot carry become U+FFFD; the document stays well-formed', () => {
  const bad = 'a\u0000b\u0001c\u001bd\ud800e\udc00f\uffff';
  const emoji = 'f\u{1F525}'; // a valid surrogate pair stays
  const p: Profile = { ...profile, stacks: [{ frames: ['main', bad, emoji], count: 3 }] };
  const svg = renderFlameGraph(p);
  assert.equal(XMLValidator.validate(svg), true);
  assert.ok(!/[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(svg));
  const { frames } = framesOf(svg);
  assert.ok(frames.some((f) => f.name === 'a\ufffdb\ufffdc\ufffdd\ufffde\ufffdf\ufffd'));
  assert.ok(frames.some((f) => f.name === emoji));
});

test('the same profile gives the same bytes, whatever the order of its stacks', () => {
  const stacks: ProfileStack[] = [...profile.stacks].reverse();
  stacks.push(stacks.shift()!);
  assert.equal(renderFlameGraph({ ...profile, stacks }), renderFlameGraph(profile));
});

test('kernel frames are blue, user frames warm, [unknown] grey, process frames apart', () => {
  const { frames } = framesOf(renderFlameGraph(profile, { process: 'comm-pid' }));
  const fill = (name: string): [number, number, number] => rgb(frames.find((f) => f.name === name)!.fill);
  for (const k of ['entry_SYSCALL_64', 'ksys_read', 'do_idle', 'cpuidle_enter', 'swapper']) {
    const [r, , b] = fill(k);
    assert.ok(b > r, `${k} is a kernel frame: blue (${fill(k).join(',')})`);
  }
  for (const u of ['hot_loop', 'main', 'read', 'parse', '_start']) {
    const [r, , b] = fill(u);
    assert.ok(r > b + 100, `${u} is a user frame: warm (${fill(u).join(',')})`);
  }
  assert.deepEqual(fill('[unknown]'), [190, 190, 190]);
  const proc = fill('app-42');
  assert.notDeepEqual(proc, fill('main'));
  assert.ok(proc[2] > proc[1], 'a process frame is violet');
  // The process frame sits between 'all' and the stack's root.
  assert.equal(frames.find((f) => f.name === 'app-42')!.depth, 1);
  assert.equal(frames.find((f) => f.name === 'main')!.depth, 3);
});

test('width, frameHeight, minWidth and inverted shape the picture; bad options are E_OPTION', () => {
  const svg = renderFlameGraph(profile, { width: 800, frameHeight: 20, minWidth: 40 });
  const { doc, frames } = framesOf(svg);
  assert.equal((doc.svg as El).width, '800');
  const rect = /<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)"/.exec(svg.slice(svg.indexOf('id="frames"')))!;
  assert.equal(rect[1], '19');
  assert.ok(frames.every((f) => f.width >= 40), 'narrower frames are left out');
  assert.ok(!frames.some((f) => f.name === 'cold_path'), 'cold_path (50/1000 of 780 px) is narrower than 40 px');
  assert.ok(frames.some((f) => f.name === 'parse'), 'parse (100/1000 of 780 px) is not');
  const yOf = (s: string, name: string): number => {
    const i = s.indexOf(`<title>${name} (`);
    return Number(/ y="([\d.]+)"/.exec(s.slice(i))![1]);
  };
  const up = renderFlameGraph(profile);
  const down = renderFlameGraph(profile, { inverted: true });
  assert.ok(yOf(up, 'all') > yOf(up, 'main'), 'a flame graph has its root at the bottom');
  assert.ok(yOf(down, 'all') < yOf(down, 'main'), 'an icicle graph has it at the top');
  for (const bad of [{ width: 10 }, { width: Number.NaN }, { frameHeight: 0 }, { process: 'pid' }] as const) {
    assert.throws(() => renderFlameGraph(profile, bad as never), (e: unknown) => isEunomiaError(e, 'E_OPTION'), JSON.stringify(bad));
  }
});

test('an empty profile is a valid SVG that says so', () => {
  const svg = render({ ...profile, stacks: [] }, 'svg');
  assert.equal(XMLValidator.validate(svg), true);
  assert.ok(svg.includes('>no samples</text>'));
  assert.equal(framesOf(svg).frames.length, 0);
});

test('labels fit their frame, cut with .. and never inside a surrogate pair', () => {
  assert.equal(fitLabel('hot_loop', 1000, 7), 'hot_loop');
  assert.equal(fitLabel('hot_loop', 6 + 7 * 5, 7), 'hot..');
  assert.equal(fitLabel('hot_loop', 6 + 7 * 2, 7), '');
  assert.equal(fitLabel('ab\u{1F525}cdef', 6 + 7 * 5, 7), 'ab..');
});

// ---------------------------------------------------------------- in a real browser

const CHROMIUM = '/usr/bin/chromium';
const noBrowser: string | false = process.env.CI_NO_BROWSER
  ? `CI_NO_BROWSER is set (${process.env.CI_NO_BROWSER}): no browser on this machine`
  : process.getuid?.() !== 0 && !existsSync(CHROMIUM)
    ? `not root: scripts/test-env.sh could not install chromium (${CHROMIUM} is missing)`
    : false;

test('in Chromium: the hot function is the widest frame, search highlights it, a click zooms, reset undoes', { skip: noBrowser, timeout: 120_000 }, async (t) => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: scripts/test-env.sh (npm test's set-up, as root) installs Debian's chromium`);
  const outDir = join(repoRoot, 'dist/test-output');
  mkdirSync(outDir, { recursive: true });
  const svgPath = join(outDir, 'flamegraph.svg');
  const svg = renderFlameGraph(profile, { width: WIDTH, title: 'eunomia test flame graph' });
  writeFileSync(svgPath, svg);
  t.diagnostic(`svg: ${svgPath}`);
  const height = Number(/<svg [^>]*height="(\d+)"/.exec(svg)![1]);

  // headless: true is the new headless mode; --headless=new says so to Chromium as well.
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--headless=new', '--disable-gpu', '--disable-dev-shm-usage'] });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: WIDTH, height, deviceScaleFactor: 1 });
    const errors: string[] = [];
    const alerts: string[] = [];
    let prompts = 0;
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('dialog', (d) => {
      if (d.type() === 'prompt') {
        prompts++;
        void d.accept('hot_loop'); // what a user types into the search prompt
      } else {
        alerts.push(`${d.type()}: ${d.message()}`);
        void d.dismiss();
      }
    });
    await page.goto(pathToFileURL(svgPath).href, { waitUntil: 'load' });

    // Chromium's XML parser is strict: a malformed document would show a parsererror instead.
    const doc = await page.evaluate(() => ({
      root: document.documentElement.localName,
      parseErrors: document.getElementsByTagName('parsererror').length,
      scripts: document.getElementsByTagName('script').length,
      api: typeof (window as unknown as { flamegraph?: unknown }).flamegraph,
    }));
    assert.deepEqual(doc, { root: 'svg', parseErrors: 0, scripts: 1, api: 'object' });

    // Every frame as the browser lays it out: name (from the title), box, label, fill.
    const layout = (): Promise<{ name: string; depth: number; x: number; width: number; label: string; fill: string; hidden: boolean; parent: boolean }[]> =>
      page.evaluate(() =>
        [...document.querySelectorAll('#frames > g')].map((g) => {
          const title = g.querySelector('title')!.textContent!;
          const rect = g.querySelector('rect')!;
          const box = rect.getBoundingClientRect();
          return {
            name: title.slice(0, title.lastIndexOf(' (')),
            depth: Number(g.getAttribute('data-d')),
            x: box.x,
            width: box.width,
            label: g.querySelector('text')?.textContent ?? '',
            fill: rect.getAttribute('fill')!,
            hidden: getComputedStyle(g).display === 'none',
            parent: g.classList.contains('parent'),
          };
        }),
      );
    const before = await layout();
    const hot = before.find((f) => f.name === 'hot_loop')!;
    // Frames that are not the hot function's ancestors: hot_loop is the widest, labelled with its name.
    const ancestors = new Set(['all', '_start', 'main']);
    const others = before.filter((f) => !ancestors.has(f.name));
    const widest = others.reduce((a, b) => (b.width > a.width ? b : a));
    assert.equal(widest.name, 'hot_loop');
    assert.equal(widest.label, 'hot_loop');
    assert.ok(Math.abs(hot.width - (700 / TOTAL) * PLOT) < 1, `hot_loop is ${hot.width}px wide`);
    // What is painted at the frame's centre is the frame (nothing covers it).
    const atCentre = await page.evaluate((x: number, y: number) => {
      const el = document.elementFromPoint(x, y);
      const g = el?.closest('#frames > g');
      return g?.querySelector('title')?.textContent ?? null;
    }, hot.x + hot.width / 2, await page.evaluate(() => {
      const g = [...document.querySelectorAll('#frames > g')].find((e) => e.querySelector('title')!.textContent!.startsWith('hot_loop ('))!;
      const b = g.querySelector('rect')!.getBoundingClientRect();
      return b.y + b.height / 2;
    }));
    assert.ok(atCentre?.startsWith('hot_loop ('), `at hot_loop's centre: ${atCentre}`);
    // The attacker's names are frames with their exact text, and ran nothing.
    assert.ok(before.some((f) => f.name === ATTACK) && before.some((f) => f.name === ENTITIES));

    // Hovering shows the frame in the details line.
    const hotHandle = await page.evaluateHandle(() =>
      [...document.querySelectorAll('#frames > g')].find((e) => e.querySelector('title')!.textContent!.startsWith('hot_loop ('))!);
    await (hotHandle.asElement() as import('puppeteer-core').ElementHandle<Element>).hover();
    const details = await page.$eval('#details', (e) => e.textContent);
    assert.equal(details, `hot_loop (700 samples, ${((700 / TOTAL) * 100).toFixed(2)}%)`);

    // Search: click "Search", type the name into the prompt.
    await page.click('#search');
    assert.equal(prompts, 1, 'the search asks for a term');
    const searched = await layout();
    assert.equal(searched.find((f) => f.name === 'hot_loop')!.fill, 'rgb(230,0,230)');
    assert.ok(searched.filter((f) => f.name !== 'hot_loop').every((f) => f.fill !== 'rgb(230,0,230)'), 'only the match is highlighted');
    assert.equal(await page.$eval('#matched', (e) => e.textContent), `Matched: ${((700 / TOTAL) * 100).toFixed(2)}%`);
    const shot = join(outDir, 'flamegraph.png');
    await page.screenshot({ path: shot as `${string}.png` });
    t.diagnostic(`screenshot (search "hot_loop"): ${shot}`);
    // Through the graph's own function: nested matches count once, a regex works.
    const share = await page.evaluate(() => {
      const fg = (window as unknown as { flamegraph: { search(t: string): { percent: number; frames: number } } }).flamegraph;
      return { dot: fg.search('.'), main: fg.search('^main$'), bad: fg.search('alert(') };
    });
    assert.equal(share.dot.percent, 100);
    assert.ok(Math.abs(share.main.percent - (870 / TOTAL) * 100) < 1e-9);
    assert.equal(share.bad.frames, 1, 'a term that is no regex is a plain substring (of the attacker\'s name)');
    await page.keyboard.press('Escape');
    assert.equal(await page.$eval('#matched', (e) => e.textContent), ' ');

    // Click-to-zoom: cold_path becomes the full width; its ancestors stay (faded), the rest hides.
    const cold = await page.evaluateHandle(() =>
      [...document.querySelectorAll('#frames > g')].find((e) => e.querySelector('title')!.textContent!.startsWith('cold_path ('))!);
    await (cold.asElement() as import('puppeteer-core').ElementHandle<Element>).click();
    const zoomed = await layout();
    const z = (name: string) => zoomed.find((f) => f.name === name)!;
    assert.ok(Math.abs(z('cold_path').width - PLOT) < 1, `cold_path is ${z('cold_path').width}px wide after the click`);
    assert.ok(Math.abs(z('cold_path').x - 10) < 1);
    assert.equal(z('cold_path').label, 'cold_path');
    assert.ok(z('main').parent && !z('main').hidden && Math.abs(z('main').width - PLOT) < 1, 'main stays, full width, faded');
    assert.ok(z('hot_loop').hidden && z('swapper').hidden, 'frames outside the zoom hide');
    assert.notEqual(await page.$eval('#unzoom', (e) => getComputedStyle(e).display), 'none', 'Reset Zoom shows');
    const zoomShot = join(outDir, 'flamegraph-zoomed.png');
    await page.screenshot({ path: zoomShot as `${string}.png` });
    t.diagnostic(`screenshot (zoomed to cold_path): ${zoomShot}`);

    // Reset Zoom: every frame back where it was, with the labels the renderer wrote.
    await page.click('#unzoom');
    const after = await layout();
    assert.deepEqual(after, before);
    assert.equal(await page.$eval('#unzoom', (e) => getComputedStyle(e).display), 'none');

    assert.deepEqual(errors, [], 'no script error');
    assert.deepEqual(alerts, [], 'no alert: no frame name ran as code');
  } finally {
    await browser.close();
  }
});
