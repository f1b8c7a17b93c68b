import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { EunomiaError, ErrorCodes } from '../../src/core/errors.js';
import { createSink, jsonLine, openOutput, parseFormat, StreamSink, toJson, withJsonText } from '../../src/exporters/index.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import type { Column, TrackerEvent } from '../../src/pipeline/types.js';

const T0 = new Date(2024, 0, 2, 3, 4, 5, 678).getTime(); // local 03:04:05.678

function ev(tracker: string, data: Record<string, unknown>, time = T0, instance = 1): TrackerEvent {
  return { tracker, instance, time, data };
}

/** A Writable that keeps everything written to it. */
function collector(): { out: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      cb();
    },
  });
  return { out, text: () => Buffer.concat(chunks).toString('utf8') };
}

const processColumns: Column[] = [
  { key: 'pid', width: 7 },
  { key: 'comm', header: 'COMMAND', width: 16 },
  { key: 'filename' },
];
const columnsFor = (tracker: string): Column[] =>
  tracker === 'process' ? processColumns : [{ key: 'port', width: 6 }, { key: 'addr' }];

async function render(format: string, events: TrackerEvent[], extra: { multiTracker?: boolean; cols?: typeof columnsFor } = {}): Promise<string> {
  const c = collector();
  const sink = createSink({ format, columnsFor: extra.cols ?? columnsFor, output: c.out, ...(extra.multiTracker !== undefined ? { multiTracker: extra.multiTracker } : {}) });
  for (const e of events) sink.write(e);
  await sink.close();
  return c.text();
}

// ---------------------------------------------------------------- formats

test('parseFormat accepts every alias, case-insensitively', () => {
  const cases: [string, string][] = [
    ['plain', 'plain'],
    ['plain_text', 'plain'],
    ['plain_txt', 'plain'],
    ['TEXT', 'plain'],
    ['Table', 'plain'],
    ['json', 'json'],
    ['JSON_FORMAT', 'json'],
    ['csv', 'csv'],
    ['CSV', 'csv'],
  ];
  for (const [input, want] of cases) assert.equal(parseFormat(input), want, input);
});

test('parseFormat rejects anything else with a usage error', () => {
  for (const bad of ['xml', '', 'jsonl', 'constructor', 'plain text']) {
    assert.throws(
      () => parseFormat(bad),
      (e: unknown) =>
        e instanceof EunomiaError &&
        e.code === ErrorCodes.USAGE &&
        e.message === `unknown output format "${bad}" — use plain, json or csv`,
    );
  }
  assert.throws(() => createSink({ format: 'yaml', output: collector().out }), EunomiaError);
});

// ---------------------------------------------------------------- plain

test('plain: header before the first row, fixed widths, long values extend the row', async () => {
  const clock = new Date(T0).toTimeString().slice(0, 8);
  assert.equal(clock, '03:04:05');
  const text = await render('plain', [
    ev('process', { pid: 42, comm: 'bash', filename: '/usr/bin/ls' }),
    ev('process', { pid: 12345678, comm: 'a-very-long-command-name', filename: '/x' }),
    ev('process', { pid: 7, comm: 'sh' }),
  ]);
  assert.equal(
    text,
    'TIME     PID     COMMAND          FILENAME\n' +
      '03:04:05 42      bash             /usr/bin/ls\n' +
      '03:04:05 12345678 a-very-long-command-name /x\n' +
      '03:04:05 7       sh               \n',
  );
});

test('plain: Column.format is used, and a throwing format falls back to the raw value', async () => {
  const cols = (): Column[] => [
    { key: 'uid', format: (v) => `user${String(v)}` },
    { key: 'ret', format: () => { throw new Error('bad formatter'); } },
  ];
  const text = await render('plain', [ev('t', { uid: 0, ret: -2 })], { cols });
  assert.equal(text, 'TIME     UID RET\n03:04:05 user0 -2\n');
});

test('plain: nested fields by dotted key, bytes as hex, bigint, control characters escaped', async () => {
  const cols = (): Column[] => [{ key: 'container.name', header: 'CONTAINER' }, { key: 'raw' }, { key: 'big' }, { key: 'comm' }];
  const text = await render('plain', [
    ev('t', { container: { name: 'web' }, raw: Buffer.from([1, 0xab]), big: 18446744073709551615n, comm: 'evil\x1b[2J\nx' }),
  ], { cols });
  assert.equal(
    text,
    'TIME     CONTAINER RAW BIG COMM\n' + '03:04:05 web       01ab 18446744073709551615 evil\\x1b[2J\\nx\n',
  );
});

test('plain: without columns, the data fields of the first event are the columns', async () => {
  const text = await render('plain', [ev('t', { a: 1, bb: 'x' })], { cols: () => [] });
  assert.equal(text, 'TIME     A BB\n03:04:05 1 x\n');
});

test('plain: several trackers get a TRACKER column and one header each', async () => {
  const text = await render(
    'plain',
    [
      ev('process', { pid: 1, comm: 'init', filename: '/sbin/init' }),
      ev('tcp', { port: 443, addr: '10.0.0.1' }),
      ev('process', { pid: 2, comm: 'kthreadd', filename: '' }),
    ],
    { multiTracker: true },
  );
  assert.equal(
    text,
    'TIME     TRACKER PID     COMMAND          FILENAME\n' +
      '03:04:05 process 1       init             /sbin/init\n' +
      'TIME     TRACKER PORT   ADDR\n' +
      '03:04:05 tcp     443    10.0.0.1\n' +
      '03:04:05 process 2       kthreadd         \n',
  );
});

test('plain: a second tracker appearing switches to the multi-tracker layout', async () => {
  const text = await render('plain', [
    ev('process', { pid: 1, comm: 'init', filename: '/sbin/init' }),
    ev('tcp', { port: 80, addr: 'a' }),
    ev('process', { pid: 2, comm: 'x', filename: 'y' }),
  ]);
  assert.equal(
    text,
    'TIME     PID     COMMAND          FILENAME\n' +
      '03:04:05 1       init             /sbin/init\n' +
      'TIME     TRACKER PORT   ADDR\n' +
      '03:04:05 tcp     80     a\n' +
      'TIME     TRACKER PID     COMMAND          FILENAME\n' +
      '03:04:05 process 2       x                y\n',
  );
});

// ---------------------------------------------------------------- json

test('json: one object per line that JSON.parse reads back, bigint with exact digits', async () => {
  const text = await render('json', [
    ev('process', { pid: 42, big: 18446744073709551615n, neg: -9223372036854775808n, nested: { a: [1, 2n, 'x'], b: null }, comm: 'a"b\nc' }),
    ev('tcp', { raw: Buffer.from([0xde, 0xad]), u32: new Uint32Array([1, 2]), nan: NaN, gone: undefined, time: 'data time' }, T0 + 1, 3),
  ]);
  const lines = text.split('\n');
  assert.equal(lines.length, 3);
  assert.equal(lines[2], '');
  assert.ok(lines[0]!.includes('"big":18446744073709551615,'), lines[0]);
  assert.ok(lines[0]!.includes('"neg":-9223372036854775808,'), lines[0]);
  const a = JSON.parse(lines[0]!);
  assert.deepEqual(Object.keys(a), ['time', 'tracker', 'instance', 'pid', 'big', 'neg', 'nested', 'comm']);
  assert.equal(a.time, new Date(T0).toISOString());
  assert.equal(a.tracker, 'process');
  assert.equal(a.instance, 1);
  assert.equal(a.pid, 42);
  assert.deepEqual(a.nested, { a: [1, 2, 'x'], b: null });
  assert.equal(a.comm, 'a"b\nc');
  const b = JSON.parse(lines[1]!);
  assert.deepEqual(b, {
    time: new Date(T0 + 1).toISOString(),
    tracker: 'tcp',
    instance: 3,
    raw: 'dead',
    u32: [1, 2],
    nan: null,
    _time: 'data time',
  });
});

test('json: never throws on odd values', () => {
  const circ: Record<string, unknown> = { a: 1 };
  circ.self = circ;
  const getterThrows = {
    get x() {
      throw new Error('nope');
    },
  };
  assert.equal(toJson(circ), '{"a":1,"self":"[Circular]"}');
  assert.equal(toJson({ g: getterThrows }), '{"g":"[unserializable: nope]"}');
  assert.equal(toJson([undefined, () => 1, Symbol('s')]), '[null,null,null]');
  assert.equal(toJson(new Map([[1, 2n]])), '{"1":2}');
  assert.equal(toJson(new Date(NaN)), 'null');
  assert.equal(toJson(undefined), undefined);
  const sink = createSink({ format: 'json', output: collector().out });
  sink.write(ev('t', getterThrows as unknown as Record<string, unknown>, NaN));
  assert.deepEqual(sink.stats(), { written: 1, dropped: 0, renderErrors: 0 });
});

// ---------------------------------------------------------------- csv

/** Minimal RFC 4180 parser (CRLF or LF line ends). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
      } else if (ch === '"') {
        quoted = false;
        i++;
      } else {
        field += ch;
        i++;
      }
    } else if (ch === '"' && field === '') {
      quoted = true;
      i++;
    } else if (ch === ',') {
      row.push(field);
      field = '';
      i++;
    } else if (ch === '\r' || ch === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
    } else {
      field += ch;
      i++;
    }
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

test('csv: RFC 4180 quoting round-trips through a parser', async () => {
  const nasty = ['plain', 'a,b', 'say "hi"', 'two\nlines', 'cr\r\nlf', ' lead', 'trail ', '', '"', 'x""y'];
  const events = nasty.map((s, i) => ev('process', { pid: i, comm: s, filename: `/f${i}` }));
  const text = await render('csv', events);
  assert.ok(text.startsWith('time,pid,comm,filename\r\n'), text);
  assert.ok(text.includes(`\r\n${new Date(T0).toISOString()},1,"a,b",/f1\r\n`), text);
  assert.ok(text.includes(',"say ""hi""",'), text);
  const rows = parseCsv(text);
  assert.deepEqual(rows[0], ['time', 'pid', 'comm', 'filename']);
  assert.equal(rows.length, nasty.length + 1);
  rows.slice(1).forEach((r, i) => assert.deepEqual(r, [new Date(T0).toISOString(), String(i), nasty[i], `/f${i}`]));
});

test('csv: several trackers get a tracker column and one header each', async () => {
  const text = await render(
    'csv',
    [ev('process', { pid: 1, comm: 'a', filename: 'b' }), ev('tcp', { port: 22, addr: 'h' }), ev('process', { pid: 2, comm: 'c', filename: 'd' })],
    { multiTracker: true },
  );
  const iso = new Date(T0).toISOString();
  assert.equal(
    text,
    'time,tracker,pid,comm,filename\r\n' +
      `${iso},process,1,a,b\r\n` +
      'time,tracker,port,addr\r\n' +
      `${iso},tcp,22,h\r\n` +
      `${iso},process,2,c,d\r\n`,
  );
});

// ---------------------------------------------------------------- files and streams

test('openOutput + createSink write a real file, readable after close()', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eunomia-test-'));
  try {
    const file = path.join(dir, 'out.jsonl');
    fs.writeFileSync(file, 'old content that must go\n');
    const sink = createSink({ format: 'json_format', output: openOutput(file), name: 'file' });
    assert.equal(sink.name, 'file');
    const n = 20_000; // more than one 64 KiB batch
    for (let i = 0; i < n; i++) sink.write(ev('process', { i, path: '/some/path/to/a/file' }));
    await sink.close();
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, n);
    assert.deepEqual(lines.map((l) => JSON.parse(l).i), Array.from({ length: n }, (_, i) => i));
    assert.deepEqual(sink.stats(), { written: n, dropped: 0, renderErrors: 0 });
    sink.write(ev('process', { late: true }));
    assert.equal(sink.stats().dropped, 1, 'writes after close are dropped and counted');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('openOutput reports an unopenable file synchronously as an IO error', () => {
  const bad = path.join(os.tmpdir(), 'eunomia-no-such-dir', 'x', 'out.txt');
  assert.throws(
    () => openOutput(bad),
    (e: unknown) =>
      e instanceof EunomiaError &&
      e.code === ErrorCodes.IO &&
      e.message === `cannot open output file ${bad}: ENOENT: no such file or directory` &&
      e.errno === 2,
  );
  // Standard output is an fs stream on fd 1 (asynchronous, so a slow reader causes counted
  // drops instead of stalling the event loop), never closed by the sink.
  for (const o of [openOutput(), openOutput('-')]) {
    assert.notEqual(o, process.stdout);
    assert.equal((o as unknown as { fd: number }).fd, 1);
    assert.equal((o as unknown as { autoClose: boolean }).autoClose, false);
  }
});

test('close() ends an owned output, but not one with closeOutput: false', async () => {
  const a = collector();
  const owned = createSink({ format: 'plain', output: a.out });
  owned.write(ev('t', { x: 1 }));
  await owned.close();
  assert.equal(a.out.writableFinished, true);
  assert.equal(a.text(), 'TIME     X\n03:04:05 1\n');

  const b = collector();
  const borrowed = createSink({ format: 'csv', output: b.out, closeOutput: false });
  borrowed.write(ev('t', { x: 1 }));
  await borrowed.close();
  assert.equal(b.out.writableEnded, false);
  assert.equal(b.text(), `time,x\r\n${new Date(T0).toISOString()},1\r\n`);
});

test('lines are batched: one write() for the lines of a turn', async () => {
  let writes = 0;
  const out = new Writable({
    write(_c, _e, cb) {
      writes++;
      cb();
    },
  });
  const sink = createSink({ format: 'json', output: out });
  for (let i = 0; i < 100; i++) sink.write(ev('t', { i }));
  assert.equal(writes, 0, 'nothing written synchronously');
  await new Promise((r) => setImmediate(r));
  assert.equal(writes, 1);
  await sink.close();
});

test('while events keep coming, one write per flushMs: the first after a quiet spell at once, the rest wait (close() writes them)', async () => {
  const lines: string[] = [];
  const out = new Writable({
    write(c: Buffer, _e, cb) {
      lines.push(c.toString());
      cb();
    },
  });
  const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
  // A window no test run reaches: what is written before close() is the quiet spell's first batch alone.
  const sink = createSink({ format: 'json', output: out, flushMs: 3_600_000 });
  sink.write(ev('t', { i: 1 }));
  await turn();
  assert.equal(lines.length, 1, 'the first write goes at the end of its turn');
  sink.write(ev('t', { i: 2 }));
  sink.write(ev('t', { i: 3 }));
  await turn();
  await turn();
  assert.equal(lines.length, 1, 'later lines wait for the window');
  assert.deepEqual(sink.stats(), { written: 3, dropped: 0, renderErrors: 0 });
  await sink.close();
  assert.equal(lines.length, 2);
  assert.deepEqual(lines.join('').trim().split('\n').map((l) => JSON.parse(l).i), [1, 2, 3]);
});

test('a batch reaching 64 KiB is written at once, inside the window too; flushMs 0 writes every turn', async () => {
  let writes = 0;
  const counting = (): Writable =>
    new Writable({
      write(_c, _e, cb) {
        writes++;
        cb();
      },
    });
  const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
  const windowed = createSink({ format: 'json', output: counting(), flushMs: 3_600_000 });
  windowed.write(ev('t', { i: 0 }));
  await turn();
  for (let i = 0; i < 1000; i++) windowed.write(ev('t', { pad: 'x'.repeat(100) }));
  assert.ok(writes >= 2, `writes ${writes}`);
  await windowed.close();
  writes = 0;
  const everyTurn = createSink({ format: 'json', output: counting(), flushMs: 0 });
  for (let i = 0; i < 3; i++) {
    everyTurn.write(ev('t', { i }));
    await turn();
  }
  assert.equal(writes, 3);
  await everyTurn.close();
});

test('backpressure: a stream that never drains makes events drop, counted, memory bounded', async () => {
  let received = 0;
  const stuck = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer) {
      received += chunk.length; // callback never called: the stream never drains
    },
  });
  const max = 200_000;
  const sink = createSink({ format: 'json', output: stuck, maxQueuedBytes: max });
  let pushed = 0;
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 2_000; i++, pushed++) sink.write(ev('t', { i, pad: 'x'.repeat(50) }));
    await new Promise((r) => setImmediate(r));
  }
  const st = sink.stats();
  assert.ok(st.dropped > 0, 'some events dropped');
  assert.ok(st.written > 0, 'some events written');
  assert.equal(st.written + st.dropped, pushed);
  // Queued bytes stay within the bound plus one batch.
  assert.ok(stuck.writableLength <= max + 70 * 1024, `writableLength ${stuck.writableLength}`);
  assert.ok(received <= 70 * 1024);
  assert.equal(sink.lastError, undefined);
  stuck.destroy();
});

/** Writes batches of events until the sink records an error (or 10 s pass); returns how many were pushed. */
async function writeUntilError(sink: StreamSink): Promise<number> {
  let pushed = 0;
  const deadline = Date.now() + 10_000;
  while (sink.lastError === undefined && Date.now() < deadline) {
    for (let i = 0; i < 1000; i++, pushed++) sink.write(ev('process', { pid: i, comm: 'x', filename: 'y' }));
    await new Promise((r) => setTimeout(r, 1));
  }
  return pushed;
}

test('EPIPE: the reader closes its end, writing stops, the error is recorded and drops are counted', async () => {
  // Reads one byte, then closes stdin but stays alive: our next writes get EPIPE.
  const child = spawn('sh', ['-c', 'head -c 1 >/dev/null; exec 0<&-; exec sleep 30'], { stdio: ['pipe', 'ignore', 'ignore'] });
  try {
    const sink = createSink({ format: 'plain', output: child.stdin, name: 'pipe' });
    let pushed = await writeUntilError(sink);
    for (let i = 0; i < 1000; i++, pushed++) sink.write(ev('process', { pid: i }));
    const err = sink.lastError;
    assert.ok(err instanceof EunomiaError, 'error recorded');
    assert.equal(err.code, ErrorCodes.IO);
    assert.equal((err.cause as NodeJS.ErrnoException).code, 'EPIPE');
    assert.equal(err.errno, 32);
    assert.match(err.message, /^cannot write to the output of sink pipe: .*EPIPE/);
    const st = sink.stats();
    assert.ok(st.dropped >= 1000, `dropped ${st.dropped}`);
    assert.equal(st.written + st.dropped, pushed);
    await sink.close(); // a broken pipe is how `| head` ends: close() does not reject
  } finally {
    child.kill();
  }
});

test('the reader (head -c 1) exits: no crash, error recorded, drops counted', async () => {
  const child = spawn('head', ['-c', '1'], { stdio: ['pipe', 'ignore', 'ignore'] });
  const exited = new Promise((r) => child.on('exit', r));
  const sink = createSink({ format: 'json', output: child.stdin, name: 'head' });
  let pushed = await writeUntilError(sink);
  await exited;
  for (let i = 0; i < 1000; i++, pushed++) sink.write(ev('process', { pid: i }));
  const err = sink.lastError;
  assert.ok(err instanceof EunomiaError, 'error recorded');
  assert.equal(err.code, ErrorCodes.IO);
  // Either EPIPE, or Node destroyed the child's stdin on exit before a write failed.
  assert.ok(['EPIPE', 'ERR_STREAM_DESTROYED'].includes((err.cause as NodeJS.ErrnoException).code!), String(err.cause));
  const st = sink.stats();
  assert.ok(st.dropped >= 1000, `dropped ${st.dropped}`);
  assert.equal(st.written + st.dropped, pushed);
  await sink.close();
});

test('stdout piped into `head -c 1`: the process does not crash on EPIPE', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eunomia-test-'));
  try {
    const index = new URL('../../src/exporters/index.js', import.meta.url).href;
    const script = path.join(dir, 'writer.mjs');
    const result = path.join(dir, 'result.json');
    fs.writeFileSync(
      script,
      `import { createSink, openOutput } from ${JSON.stringify(index)};
import { writeFileSync } from 'node:fs';
const sink = createSink({ format: 'plain', output: openOutput() });
let pushed = 0;
const deadline = Date.now() + 10000;
while (!sink.lastError && Date.now() < deadline) {
  for (let i = 0; i < 1000; i++, pushed++) sink.write({ tracker: 'p', instance: 1, time: Date.now(), data: { i } });
  await new Promise((r) => setTimeout(r, 1));
}
for (let i = 0; i < 1000; i++, pushed++) sink.write({ tracker: 'p', instance: 1, time: Date.now(), data: { i } });
await sink.close();
writeFileSync(process.argv[2], JSON.stringify({ pushed, ...sink.stats(), code: sink.lastError?.code, cause: sink.lastError?.cause?.code }));
`,
    );
    const sh = spawn('sh', ['-c', `"${process.execPath}" "${script}" "${result}" | head -c 1 >/dev/null`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    sh.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise((r) => sh.on('close', r));
    assert.equal(stderr, '', 'nothing on stderr (no uncaught exception)');
    const r = JSON.parse(fs.readFileSync(result, 'utf8'));
    assert.equal(r.code, ErrorCodes.IO);
    assert.equal(r.cause, 'EPIPE');
    assert.ok(r.dropped >= 1000);
    assert.equal(r.written + r.dropped, r.pushed);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a write error other than EPIPE stops the sink and close() rejects with it', async () => {
  const out = new Writable({
    write(_c, _e, cb) {
      const e = new Error('ENOSPC: no space left on device, write') as NodeJS.ErrnoException;
      e.code = 'ENOSPC';
      cb(e);
    },
  });
  const sink = createSink({ format: 'csv', output: out, name: 'disk' });
  sink.write(ev('t', { a: 1 }));
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  sink.write(ev('t', { a: 2 }));
  assert.ok(sink.lastError);
  assert.deepEqual(sink.stats(), { written: 1, dropped: 1, renderErrors: 0 });
  await assert.rejects(sink.close(), (e: unknown) => e instanceof EunomiaError && e.code === ErrorCodes.IO && /ENOSPC/.test(e.message));
});

test('a render that throws drops that event only, counted', async () => {
  const c = collector();
  const sink = new StreamSink({
    name: 'r',
    output: c.out,
    render: (e) => {
      if (e.data.bad) throw new Error('cannot render');
      return `${String(e.data.i)}\n`;
    },
  });
  sink.write(ev('t', { i: 1 }));
  sink.write(ev('t', { i: 2, bad: true }));
  sink.write(ev('t', { i: 3 }));
  await sink.close();
  assert.equal(c.text(), '1\n3\n');
  assert.deepEqual(sink.stats(), { written: 2, dropped: 1, renderErrors: 1 });
  assert.equal(sink.lastRenderError, 'cannot render');
});

test('a pipeline fans out to a json and a csv sink', async () => {
  const j = collector();
  const c = collector();
  const p = new Pipeline({
    handlers: [],
    sinks: [createSink({ format: 'json', output: j.out }), createSink({ format: 'csv', output: c.out, columnsFor })],
  });
  p.push(ev('tcp', { port: 1, addr: 'x' }));
  await p.close();
  assert.deepEqual(JSON.parse(j.text()), { time: new Date(T0).toISOString(), tracker: 'tcp', instance: 1, port: 1, addr: 'x' });
  assert.equal(c.text(), `time,port,addr\r\n${new Date(T0).toISOString()},1,x\r\n`);
  assert.deepEqual(
    p.stats().sinks.map((s) => [s.name, s.written, s.dropped]),
    [
      ['json', 1, 0],
      ['csv', 1, 0],
    ],
  );
});

test('an object carrying its JSON text (withJsonText) serializes to exactly that text, frozen', () => {
  const c = withJsonText({ id: 'abc', name: 'we"b', image: undefined as string | undefined });
  assert.ok(Object.isFrozen(c));
  assert.equal(toJson(c), '{"id":"abc","name":"we\\"b"}');
  assert.deepEqual(Object.keys(c), ['id', 'name', 'image'], 'the text is not an enumerable field');
  const line = jsonLine({ tracker: 't', instance: 1, time: 0, data: { pid: 1, container: c } });
  assert.equal(JSON.parse(line).container.name, 'we"b');
});
