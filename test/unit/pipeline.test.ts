import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EunomiaError, ErrorCodes } from '../../src/core/errors.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { countingSink, filterHandler, mapHandler } from '../../src/pipeline/handlers.js';
import type { Handler, Sink, TrackerEvent } from '../../src/pipeline/types.js';

function ev(n: number, extra: Record<string, unknown> = {}): TrackerEvent {
  return { tracker: 'process', instance: 1, time: 1_700_000_000_000 + n, data: { n, ...extra } };
}

/** A sink that keeps what it gets, for checking order and content. */
function collectSink(name = 'collect'): Sink & { events: TrackerEvent[]; closed: boolean } {
  const events: TrackerEvent[] = [];
  const s = {
    name,
    events,
    closed: false,
    write(e: TrackerEvent) {
      events.push(e);
    },
    stats: () => ({ written: events.length, dropped: 0 }),
    close: async () => {
      s.closed = true;
    },
  };
  return s;
}

const ns = (s: { events: TrackerEvent[] }) => s.events.map((e) => e.data.n);

const fanOut = (name: string, copies: number): Handler => ({
  name,
  handle(e, next) {
    for (let i = 0; i < copies; i++) next({ ...e, data: { ...e.data, copy: i } });
  },
});

test('pass, drop, transform and fan-out keep handler order and event order', () => {
  const sink = collectSink();
  const p = new Pipeline({
    handlers: [
      filterHandler('even', (e) => (e.data.n as number) % 2 === 0),
      mapHandler('times10', (e) => ({ ...e, data: { ...e.data, n: (e.data.n as number) * 10 } })),
      fanOut('twice', 2),
    ],
    sinks: [sink],
  });
  for (let i = 0; i < 5; i++) p.push(ev(i));
  assert.deepEqual(
    sink.events.map((e) => [e.data.n, e.data.copy]),
    [
      [0, 0],
      [0, 1],
      [20, 0],
      [20, 1],
      [40, 0],
      [40, 1],
    ],
  );
  // The map ran after the filter: the filter saw the original n.
  assert.equal(sink.events[2]!.time, 1_700_000_000_002);
});

test('mapHandler drops when the function returns null or undefined', () => {
  const sink = collectSink();
  const p = new Pipeline({
    handlers: [mapHandler('m', (e) => ((e.data.n as number) === 1 ? null : (e.data.n as number) === 2 ? undefined : e))],
    sinks: [sink],
  });
  for (let i = 0; i < 4; i++) p.push(ev(i));
  assert.deepEqual(ns(sink), [0, 3]);
  assert.equal(p.stats().handlers[0]!.filtered, 2);
});

test('every sink receives every event that reaches the end', () => {
  const a = collectSink('a');
  const b = collectSink('b');
  const c = countingSink('c');
  const p = new Pipeline({ handlers: [filterHandler('not3', (e) => e.data.n !== 3)], sinks: [a, b, c] });
  for (let i = 0; i < 5; i++) p.push(ev(i));
  assert.deepEqual(ns(a), [0, 1, 2, 4]);
  assert.deepEqual(ns(b), [0, 1, 2, 4]);
  assert.equal(c.count, 4);
  assert.equal(a.events[0], b.events[0], 'sinks share the event object');
});

test('push works as a detached callback', () => {
  const c = countingSink();
  const p = new Pipeline({ handlers: [], sinks: [c] });
  const push = p.push;
  push(ev(1));
  [ev(2), ev(3)].forEach(push);
  assert.equal(c.count, 3);
  assert.equal(p.stats().out, 3);
});

test('a throwing handler is counted, its event dropped, and the pipeline goes on', () => {
  const sink = collectSink();
  const boom: Handler = {
    name: 'boom',
    handle(e, next) {
      if ((e.data.n as number) % 3 === 0) throw new Error(`bad event ${String(e.data.n)}`);
      next(e);
    },
  };
  const p = new Pipeline({ handlers: [boom, mapHandler('id', (e) => e)], sinks: [sink], maxErrorSamples: 2 });
  for (let i = 0; i < 10; i++) p.push(ev(i));
  assert.deepEqual(ns(sink), [1, 2, 4, 5, 7, 8]);
  const st = p.stats();
  assert.deepEqual(st.handlers[0], { name: 'boom', in: 10, forwarded: 6, filtered: 0, errors: 4 });
  assert.deepEqual(st.handlers[1], { name: 'id', in: 6, forwarded: 6, filtered: 0, errors: 0 });
  assert.equal(st.errors, 4);
  assert.deepEqual(st.errorSamples, [
    { kind: 'handler', stage: 'boom', message: 'bad event 0' },
    { kind: 'handler', stage: 'boom', message: 'bad event 3' },
  ]);
  assert.equal(st.in, 10);
  assert.equal(st.out, 6);
});

test('an error thrown downstream is charged to the stage that threw, not to the one upstream', () => {
  const sink = collectSink();
  const p = new Pipeline({
    handlers: [
      mapHandler('up', (e) => e),
      {
        name: 'down',
        handle() {
          throw 'not an Error object';
        },
      },
    ],
    sinks: [sink],
  });
  p.push(ev(1));
  const st = p.stats();
  assert.deepEqual(st.handlers[0], { name: 'up', in: 1, forwarded: 1, filtered: 0, errors: 0 });
  assert.deepEqual(st.handlers[1], { name: 'down', in: 1, forwarded: 0, filtered: 0, errors: 1 });
  assert.equal(st.errorSamples[0]!.message, 'not an Error object');
  assert.equal(sink.events.length, 0);
});

test('a sink whose write throws does not stop the other sinks', () => {
  const bad: Sink = {
    name: 'bad',
    write() {
      throw new Error('sink broke');
    },
    stats: () => ({ written: 0, dropped: 0 }),
    close: async () => {},
  };
  const good = collectSink('good');
  const p = new Pipeline({ sinks: [bad, good] });
  p.push(ev(1));
  p.push(ev(2));
  assert.deepEqual(ns(good), [1, 2]);
  const st = p.stats();
  assert.deepEqual(st.sinks, [
    { name: 'bad', written: 0, dropped: 0, errors: 2 },
    { name: 'good', written: 2, dropped: 0, errors: 0 },
  ]);
  assert.equal(st.errors, 2);
  assert.deepEqual(st.errorSamples[0], { kind: 'sink', stage: 'bad', message: 'sink broke' });
});

test('handlers and sinks can be added and removed at runtime', () => {
  const a = collectSink('a');
  const p = new Pipeline({ handlers: [mapHandler('tag', (e) => ({ ...e, data: { ...e.data, tag: 'x' } }))], sinks: [a] });
  p.push(ev(1));
  p.addHandler(filterHandler('odd-only', (e) => (e.data.n as number) % 2 === 1), 0);
  assert.deepEqual(p.handlerNames(), ['odd-only', 'tag']);
  p.push(ev(2));
  p.push(ev(3));
  p.addHandler(mapHandler('last', (e) => ({ ...e, data: { ...e.data, last: true } })));
  assert.deepEqual(p.handlerNames(), ['odd-only', 'tag', 'last']);
  p.push(ev(5));
  const removed = p.removeHandler('odd-only');
  assert.equal(removed?.name, 'odd-only');
  assert.equal(p.removeHandler('odd-only'), undefined);
  p.push(ev(6));
  assert.deepEqual(ns(a), [1, 3, 5, 6]);
  assert.deepEqual(
    a.events.map((e) => e.data.last),
    [undefined, undefined, true, true],
  );

  const b = collectSink('b');
  p.addSink(b);
  p.push(ev(7));
  assert.equal(p.removeSink('a'), a);
  p.push(ev(8));
  assert.deepEqual(ns(a), [1, 3, 5, 6, 7]);
  assert.deepEqual(ns(b), [7, 8]);
  assert.deepEqual(p.sinkNames(), ['b']);

  // Counters of a handler survive recomposition of the chain.
  const tag = p.stats().handlers.find((h) => h.name === 'tag')!;
  assert.equal(tag.in, 6);
});

test('a handler may unplug itself while handling an event', () => {
  const sink = collectSink();
  const p: Pipeline = new Pipeline({ sinks: [sink] });
  p.addHandler({
    name: 'once',
    handle(e, next) {
      p.removeHandler('once');
      next({ ...e, data: { ...e.data, seen: true } });
    },
  });
  p.push(ev(1));
  p.push(ev(2));
  assert.deepEqual(
    sink.events.map((e) => e.data.seen),
    [true, undefined],
  );
});

test('duplicate names and bad stages are rejected with EunomiaError', () => {
  const p = new Pipeline({ handlers: [mapHandler('a', (e) => e)], sinks: [countingSink('s')] });
  assert.throws(
    () => p.addHandler(mapHandler('a', (e) => e)),
    (e: unknown) => e instanceof EunomiaError && e.code === ErrorCodes.USAGE && /"a"/.test(e.message),
  );
  assert.throws(() => p.addSink(countingSink('s')), (e: unknown) => e instanceof EunomiaError && e.code === ErrorCodes.USAGE);
  assert.throws(
    () => p.addHandler({ name: 'x' } as unknown as Handler),
    (e: unknown) => e instanceof EunomiaError && e.code === ErrorCodes.USAGE,
  );
  assert.throws(
    () => new Pipeline({ handlers: [mapHandler('d', (e) => e), mapHandler('d', (e) => e)] }),
    (e: unknown) => e instanceof EunomiaError,
  );
});

test('stats are exact for filter, fan-out and an async-later handler', () => {
  const c = countingSink();
  const p = new Pipeline({
    handlers: [filterHandler('f', (e) => (e.data.n as number) < 7), fanOut('x3', 3), filterHandler('g', (e) => e.data.copy !== 1)],
    sinks: [c],
  });
  for (let i = 0; i < 10; i++) p.push(ev(i));
  assert.deepEqual(p.stats(), {
    in: 10,
    out: 14,
    droppedClosed: 0,
    errors: 0,
    handlers: [
      { name: 'f', in: 10, forwarded: 7, filtered: 3, errors: 0 },
      { name: 'x3', in: 7, forwarded: 21, filtered: 0, errors: 0 },
      { name: 'g', in: 21, forwarded: 14, filtered: 7, errors: 0 },
    ],
    sinks: [{ name: 'count', written: 14, dropped: 0, errors: 0 }],
    errorSamples: [],
  });
});

test('a handler that forwards later is counted filtered now and forwarded later', async () => {
  const c = countingSink();
  const p = new Pipeline({
    handlers: [
      {
        name: 'later',
        handle(e, next) {
          setImmediate(() => next(e));
        },
      },
    ],
    sinks: [c],
  });
  p.push(ev(1));
  assert.deepEqual(p.stats().handlers[0], { name: 'later', in: 1, forwarded: 0, filtered: 1, errors: 0 });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(p.stats().handlers[0], { name: 'later', in: 1, forwarded: 1, filtered: 1, errors: 0 });
  assert.equal(c.count, 1);
  assert.equal(p.stats().out, 1);
});

test('close() closes every handler and sink even when some fail, then reports the failures', async () => {
  const order: string[] = [];
  const buffered: TrackerEvent[] = [];
  let flushNext: ((e: TrackerEvent) => void) | undefined;
  const batcher: Handler = {
    name: 'batcher',
    handle(e, next) {
      flushNext = next;
      buffered.push(e); // holds events until close
    },
    async close() {
      for (const e of buffered.splice(0)) flushNext!(e);
      order.push('batcher');
    },
  };
  const failing: Handler = {
    name: 'failing',
    handle(e, next) {
      next(e);
    },
    close() {
      order.push('failing');
      throw new Error('handler close failed');
    },
  };
  const tail: Handler = {
    name: 'tail',
    handle(e, next) {
      next(e);
    },
    async close() {
      await new Promise((r) => setTimeout(r, 5));
      order.push('tail');
    },
  };
  const good = collectSink('good');
  const badSink: Sink = {
    name: 'bad-sink',
    write() {},
    stats: () => ({ written: 0, dropped: 0 }),
    close: async () => {
      order.push('bad-sink');
      throw new Error('sink close failed');
    },
  };
  const p = new Pipeline({ handlers: [batcher, failing, tail], sinks: [badSink, good] });
  p.push(ev(1));
  p.push(ev(2));
  assert.equal(good.events.length, 0);

  await assert.rejects(p.close(), (e: unknown) => {
    assert.ok(e instanceof EunomiaError);
    assert.equal(e.code, ErrorCodes.IO);
    assert.match(e.message, /2 stage\(s\) failed/);
    assert.match(e.message, /handler failing: handler close failed/);
    assert.match(e.message, /sink bad-sink: sink close failed/);
    return true;
  });
  // Events flushed by a handler on close still went through the rest of the chain.
  assert.deepEqual(ns(good), [1, 2]);
  assert.deepEqual(order, ['batcher', 'failing', 'tail', 'bad-sink']);
  assert.equal(good.closed, true);
  assert.equal(p.isClosed, true);

  // After close: pushes are counted and go nowhere; close is idempotent; no hot-plug.
  p.push(ev(3));
  assert.equal(p.stats().droppedClosed, 1);
  assert.equal(p.stats().in, 2);
  assert.deepEqual(ns(good), [1, 2]);
  await assert.rejects(p.close(), EunomiaError);
  assert.throws(() => p.addSink(countingSink('late')), (e: unknown) => e instanceof EunomiaError && e.code === ErrorCodes.STATE);
});

test('close() passes a single EunomiaError through unchanged and resolves when all is well', async () => {
  const err = new EunomiaError(ErrorCodes.IO, 'disk full');
  const p = new Pipeline({
    sinks: [
      { name: 's', write() {}, stats: () => ({ written: 0, dropped: 0 }), close: () => Promise.reject(err) },
    ],
  });
  await assert.rejects(p.close(), (e) => e === err);

  const ok = new Pipeline({ handlers: [mapHandler('m', (e) => e)], sinks: [countingSink()] });
  await ok.close();
});

test('countingSink counts and keeps nothing; writes after close count as dropped', async () => {
  const c = countingSink('n');
  c.write(ev(1));
  c.write(ev(2));
  await c.close();
  c.write(ev(3));
  assert.equal(c.count, 2);
  assert.deepEqual(c.stats(), { written: 2, dropped: 1 });
  assert.equal(c.name, 'n');
});
