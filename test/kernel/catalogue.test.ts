/**
 * The whole catalogue at once on the real kernel: every tracker loads and attaches together,
 * and all of them run for 30 s under a mixed workload without losing anything.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { systemClock } from '../../src/core/clock.js';
import { preflight } from '../../src/core/kernel.js';
import { TrackerManager } from '../../src/runtime/manager.js';
import { loadNative } from '../../src/core/native.js';
import { createSink } from '../../src/exporters/index.js';
import { countingSink } from '../../src/pipeline/handlers.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { trackers } from '../../src/trackers/registry.js';
import { heldBy, KernelWatch, NOTHING_LEFT, needsRoot, requiredOptions } from '../helpers.js';
import { Writable } from 'node:stream';

/** Trackers the workload below must make report something (oomkill needs an OOM: not here; secsnoop sees bash's `echo hi >&3` dup2 the TCP socket onto stdout). */
const ACTIVE = ['process', 'files', 'syscall', 'syscount', 'opensnoop', 'sigsnoop', 'mountsnoop', 'bindsnoop', 'capable', 'secsnoop', 'ipc', 'tcpconnect', 'tcpconnlat', 'tcprtt'];

const WORKLOAD = `
set -u
end=$((SECONDS + $SECS)); i=0
while [ $SECONDS -lt $end ]; do
  i=$((i + 1))
  dd if=/dev/zero of="$DIR/f" bs=4k count=16 status=none; cat "$DIR/f" > /dev/null
  ls "$DIR" > /dev/null
  sleep 5 & kill -USR1 $! 2>/dev/null; wait 2>/dev/null
  { exec 3<>/dev/tcp/127.0.0.1/$PORT && echo hi >&3 && exec 3>&-; } 2>/dev/null
  if [ $((i % 10)) = 0 ]; then
    id=$(ipcmk -Q | awk '{print $NF}'); ipcrm -q "$id"
    mount -t tmpfs -o size=1m tmpfs "$DIR/m" && umount "$DIR/m"
    python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0))"
  fi
done
echo "$i"
`;

describe('the tracker catalogue together', { skip: needsRoot }, () => {
  const native = loadNative();
  const watch = new KernelWatch();
  after(async () => assert.deepEqual(await watch.leftovers(), NOTHING_LEFT, 'stopping left no program, link or map behind'));

  test('every tracker loads and attaches at the same time', async () => {
    preflight(native);
    const m = new TrackerManager({ native, clock: systemClock(), emit: () => {} });
    try {
      for (const t of trackers) m.start(t, requiredOptions(t.name));
      const held = heldBy();
      watch.note();
      assert.equal(m.list().length, trackers.length);
      assert.ok(held.links.size >= trackers.length, `${held.links.size} links for ${trackers.length} trackers`);
    } finally {
      await m.stopAll();
    }
    const left = heldBy();
    assert.equal(left.progs.size + left.links.size + left.maps.size, 0, 'this process holds nothing any more');
  });

  test('all trackers for 30 s under a mixed workload: events from each, nothing lost', { timeout: 180_000 }, async () => {
    preflight(native);
    const dir = mkdtempSync(join(tmpdir(), 'eunomia-mix-'));
    mkdirSync(join(dir, 'm'));
    const server = createServer((s) => s.on('data', () => s.end()).on('error', () => {}));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const counts = countingSink();
    // A real exporter too, so the output stage is part of "nothing lost".
    const json = createSink({ format: 'json', output: new Writable({ write: (_c, _e, cb) => cb() }) });
    const pipeline = new Pipeline({ sinks: [counts, json] });
    const perTracker = new Map<string, number>();
    const m = new TrackerManager({
      native,
      clock: systemClock(),
      emit: (ev) => {
        perTracker.set(ev.tracker, (perTracker.get(ev.tracker) ?? 0) + 1);
        pipeline.push(ev);
      },
    });
    try {
      for (const t of trackers) m.start(t, { ...requiredOptions(t.name), ...(t.interval ? { interval: 2 } : {}) });
      watch.note();
      const port = (server.address() as AddressInfo).port;
      const sh = spawn('bash', ['-c', WORKLOAD], { env: { ...process.env, SECS: '30', DIR: dir, PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      sh.stdout!.on('data', (d) => (out += d));
      const code = await new Promise((r) => sh.on('exit', r));
      assert.equal(code, 0);
      assert.ok(Number(out.trim()) > 50, `workload iterations: ${out.trim()}`);
    } finally {
      const stopped = await m.stopAll();
      server.close();
      await pipeline.close();
      rmSync(dir, { recursive: true, force: true });
      for (const [, { name, stats }] of stopped) {
        assert.equal(stats.lostKernel, 0, `${name}: nothing lost in the kernel`);
        assert.equal(stats.lostQueue, 0, `${name}: nothing lost in the native queue`);
        assert.equal(stats.decodeErrors, 0, `${name}: every record decoded`);
      }
    }
    for (const name of ACTIVE.filter((n) => trackers.some((t) => t.name === n))) {
      assert.ok((perTracker.get(name) ?? 0) > 0, `${name} reported events`);
    }
    const ps = pipeline.stats();
    assert.equal(ps.errors, 0);
    for (const s of ps.sinks) assert.equal(s.dropped, 0, `sink ${s.name} dropped nothing`);
    assert.equal(counts.count, ps.in);
  });
});
