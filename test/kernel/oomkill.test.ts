/** The oomkill tracker on the real kernel: OOM kills in a memory cgroup limited to 32 MiB. */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TrackerEvent } from '../../src/pipeline/types.js';
import { oomkillTracker } from '../../src/trackers/oomkill/index.js';
import { KernelWatch, NOTHING_LEFT, needsRoot, waitFor } from '../helpers.js';
import { traceWhile } from './harness.js';

const MEMORY_ROOT = '/sys/fs/cgroup/memory'; // cgroup v1 memory controller (hybrid layout)
const LIMIT = 32 * 1024 * 1024;
const skip = needsRoot || (!existsSync(join(MEMORY_ROOT, 'cgroup.procs')) && 'no cgroup v1 memory controller at ' + MEMORY_ROOT);

/** Touches MiB mebibytes, then holds them (pause) or exits 0; sets its oom_score_adj first. */
const HOG_C = `
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv) {
  int mib = atoi(argv[1]);
  FILE *f = fopen("/proc/self/oom_score_adj", "w");
  if (!f || fprintf(f, "%s", argv[2]) < 0 || fclose(f)) return 2;
  for (int i = 0; i < mib; i++) {
    char *p = malloc(1 << 20);
    if (!p) return 3;
    memset(p, i + 1, 1 << 20);
  }
  if (argc > 3) { puts("ready"); fflush(stdout); for (;;) pause(); }
  return 0;
}
`;

/** Our own memory cgroup: test cgroups go below it, so the limits above us still apply. */
function ownMemcg(): string {
  const line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(l));
  return line ? line.slice(line.lastIndexOf(':') + 1) : '/';
}

const exited = (p: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> =>
  new Promise((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) resolve({ code: p.exitCode, signal: p.signalCode });
    else p.on('exit', (code, signal) => resolve({ code, signal }));
  });

describe('oomkill tracker', { skip }, () => {
  const watch = new KernelWatch();
  const cgroups: string[] = [];
  const children: ChildProcess[] = [];
  let bin = '';

  /** A fresh memory cgroup limited to 32 MiB (memory+swap too), OOM killing enabled. */
  function makeCgroup(): { dir: string; rel: string } {
    const rel = join(ownMemcg(), `eunomia-oom-${process.pid}-${cgroups.length}`);
    const dir = join(MEMORY_ROOT, rel);
    mkdirSync(dir);
    cgroups.push(dir);
    writeFileSync(join(dir, 'memory.limit_in_bytes'), String(LIMIT));
    if (existsSync(join(dir, 'memory.memsw.limit_in_bytes'))) writeFileSync(join(dir, 'memory.memsw.limit_in_bytes'), String(LIMIT));
    writeFileSync(join(dir, 'memory.oom_control'), '0');
    assert.match(readFileSync(join(dir, 'memory.oom_control'), 'utf8'), /^oom_kill_disable 0$/m);
    return { dir, rel };
  }

  /** Runs `argv` inside the cgroup: the shell moves itself in, then execs. */
  function runIn(dir: string, argv: string[], stdout: 'pipe' | 'ignore' = 'ignore'): ChildProcess {
    const p = spawn('/bin/sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', dir, ...argv], { stdio: ['ignore', stdout, 'inherit'] });
    children.push(p);
    return p;
  }

  const victims = (events: TrackerEvent[], pid: number | undefined) => events.filter((e) => e.data.victim_pid === pid);

  before(() => {
    const dir = mkdtempSync(join(tmpdir(), 'eunomia-oom-'));
    chmodSync(dir, 0o755); // the victim runs as nobody
    execFileSync('cc', ['-O1', '-x', 'c', '-', '-o', join(dir, 'oom-victim')], { input: HOG_C });
    execFileSync('cp', [join(dir, 'oom-victim'), join(dir, 'oom-trigger')]);
    bin = dir;
  });

  after(async () => {
    for (const p of children) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await Promise.all(children.map(exited));
    for (const dir of cgroups) {
      // The kernel empties a cgroup shortly after its last task is reaped.
      for (let i = 0; ; i++) {
        try {
          rmdirSync(dir);
          break;
        } catch (e) {
          if (i > 100) throw e;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    }
    if (bin) rmSync(bin, { recursive: true, force: true });
    assert.deepEqual(await watch.leftovers(), NOTHING_LEFT);
  });

  test('tail /dev/zero over the limit is killed: victim pid, comm, sizes, oom_score_adj and memcg', async () => {
    const { dir, rel } = makeCgroup();
    let tail: ChildProcess | undefined;
    const { events, stats } = await traceWhile(
      oomkillTracker,
      {},
      async () => {
        // tail buffers the endless line of /dev/zero until the cgroup runs out of memory.
        tail = runIn(dir, ['/bin/sh', '-c', 'echo 500 > /proc/self/oom_score_adj && exec tail /dev/zero']);
        const r = await exited(tail);
        assert.equal(r.signal, 'SIGKILL', 'tail was killed by the OOM killer');
      },
      (evs) => victims(evs, tail?.pid).length > 0,
      { watch, waitMs: 10000 },
    );
    assert.equal(stats.lostKernel + stats.lostQueue + stats.decodeErrors, 0);
    const [e] = victims(events, tail!.pid);
    assert.ok(e, 'the kill of tail was seen');
    const d = e.data;
    assert.equal(d.victim_comm, 'tail');
    assert.equal(d.victim_tid, tail!.pid);
    assert.equal(d.victim_uid, 0);
    assert.equal(d.oom_score_adj, 500);
    // tail allocated the memory itself, so it is also the trigger.
    assert.equal(d.pid, tail!.pid);
    assert.equal(d.comm, 'tail');
    const anon = d.anon_rss_kb as number;
    assert.ok(anon > 8 * 1024 && anon <= LIMIT / 1024, `anon rss ${anon} kB within the 32 MiB limit`);
    assert.ok((d.total_vm_kb as number) >= anon, 'total vm covers the rss');
    assert.ok((d.pgtables_kb as number) > 0);
    assert.equal(d.memcg_path, rel);
    assert.equal(d.memcg_truncated, 0);
    assert.equal(BigInt(d.memcg_id as number), statSync(dir, { bigint: true }).ino, 'memcg id is the cgroup directory inode');
    assert.ok(Number(d.victim_cgroup_id) > 0);
  });

  test('the trigger is the allocating task, not the victim it chose', async () => {
    const { dir, rel } = makeCgroup();
    let victim: ChildProcess | undefined;
    let trigger: ChildProcess | undefined;
    let triggerExit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    const { events, stats } = await traceWhile(
      oomkillTracker,
      {},
      async () => {
        // The victim (as nobody, oom_score_adj 1000: chosen first) holds 20 MiB; the trigger,
        // asking for 20 MiB more, hits the limit and the OOM killer picks the victim.
        victim = runIn(dir, ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', join(bin, 'oom-victim'), '20', '1000', 'hold'], 'pipe');
        let out = '';
        victim.stdout!.on('data', (b: Buffer) => (out += b.toString()));
        await waitFor(() => out.includes('ready'), 'the victim holding its memory', 10000);
        trigger = runIn(dir, [join(bin, 'oom-trigger'), '20', '0']);
        const [v, t] = await Promise.all([exited(victim), exited(trigger)]);
        triggerExit = t;
        assert.equal(v.signal, 'SIGKILL', 'the victim was killed');
        // The kernel does not promise the trigger its memory: its charge is retried once the
        // victim is marked, and if the cgroup is still over the limit when the victim's memory
        // was reaped (or the reaper gave up), the next OOM kill in the cgroup takes the trigger
        // (SIGKILL: no exit code). It never sees an allocation failure (a memcg charge in a page
        // fault is retried, not failed), so it exits 0 or is killed.
        assert.ok(t.code === 0 || t.signal === 'SIGKILL', `the trigger exits 0 or is OOM-killed, not ${JSON.stringify(t)}`);
      },
      (evs) => victims(evs, victim?.pid).length > 0 && (triggerExit?.signal !== 'SIGKILL' || victims(evs, trigger?.pid).length > 0),
      { watch, waitMs: 10000 },
    );
    assert.equal(stats.lostKernel + stats.lostQueue + stats.decodeErrors, 0);
    const mine = events.filter((e) => e.data.memcg_path === rel);
    // mark_victim fires once per task, in the task that ran the OOM killer: the only one
    // allocating in this cgroup is the trigger (a dying victim's charges are forced, not
    // OOM-handled), so every kill here names it as the trigger.
    for (const e of mine) {
      assert.ok([victim!.pid, trigger!.pid].includes(e.data.victim_pid as number), `kill of ${String(e.data.victim_pid)}: only the victim and the trigger are in the cgroup`);
      assert.deepEqual([e.data.pid, e.data.comm, e.data.uid], [trigger!.pid, 'oom-trigger', 0], 'trigger pid, comm and uid: the allocating task');
    }
    const chosen = victims(mine, victim!.pid);
    assert.equal(chosen.length, 1, 'the victim is killed once');
    const d = chosen[0]!.data;
    assert.equal(d.victim_comm, 'oom-victim');
    assert.equal(d.victim_uid, 65534);
    assert.equal(d.oom_score_adj, 1000);
    assert.ok((d.anon_rss_kb as number) >= 19 * 1024, `victim anon rss ${String(d.anon_rss_kb)} kB holds its 20 MiB`);
    assert.equal(BigInt(d.memcg_id as number), statSync(dir, { bigint: true }).ino);
    // killed later, the trigger is its own victim; exited 0, it was never chosen
    assert.equal(victims(mine, trigger!.pid).length, triggerExit!.signal === 'SIGKILL' ? 1 : 0, `trigger exit ${JSON.stringify(triggerExit)}`);
  });
});
