/**
 * What recording a container's syscalls (`eunomia seccomp record`, the `seccomp` tracker) costs
 * (issue 17), printed, asserted nowhere:
 *  1. a syscall-heavy loop IN the recorded container (getppid alone: the worst case; and a mix of
 *     cheap calls), its rate with an idle `eunomia server` (defaults) and with the same server
 *     recording that container (POST /instances {"tracker":"seccomp"} … DELETE), by turns,
 *     rates per second of the loop's CPU time (and wall clock); target ≤ 1.10× slow-down on top
 *     of the idle server;
 *  2. the same recording's cost OUTSIDE the container (a host process, another container), in the
 *     same turns; target: not measurable. Against a control in the same turns: a second secsnoop
 *     instance, one more near-empty program on sys_enter (what any program there costs). Also which
 *     syscall hooks the idle server already holds (the kernel's tracepoint slow path), and
 *     record_enter's own run time (BPF stats);
 *  3. `eunomia seccomp record --container NAME -o FILE` on a busy container: SIGINT → exit (the
 *     profile is written before it exits);
 *  4. the kernel map of a recording: one recording of N sleeping containers, each made busy by a
 *     shell loop, the `recordings` map's memlock (a fixed table) and how many it recorded.
 * Containers are named eunomia-bench-seccomp-<pid>-…, removed at the end. Needs root and a
 * Docker engine with the test image (scripts/test-env.sh).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NativeBinding } from '../src/core/native.js';
import type { DockerProfile } from '../src/seccomp/types.js';
import { dockerReady, IMAGE, run } from './docker-host.js';
import { bin, fdInfos, startServer, stopServer } from './server.js';

/**
 * The workload, static (the busybox image has no libc): `loop MODE SECONDS` prints "calls
 * getppids wall-seconds cpu-seconds" (the CPU time is its own, user + system: the rate per CPU
 * second is what other load on a shared machine moves least). getppid: one call per iteration,
 * the cheapest there is (what the recorder adds is largest relative to it); mix: getppid, read,
 * write, fstat, lseek, getuid.
 * No opens: the idle server's opensnoop would report each (and its rules judge each).
 */
const LOOP_C = `#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
int main(int argc, char **argv) {
	if (argc < 3) return 1;
	int mix = !strcmp(argv[1], "mix");
	int zero = open("/dev/zero", O_RDONLY), null = open("/dev/null", O_WRONLY);
	char buf[64];
	struct stat st;
	double secs = atof(argv[2]), t0 = now(), el;
	unsigned long calls = 0, getppids = 0;
	while ((el = now() - t0) < secs) {
		for (int i = 0; i < 64; i++) {
			syscall(SYS_getppid);
			if (mix) {
				read(zero, buf, sizeof(buf));
				write(null, buf, sizeof(buf));
				fstat(zero, &st);
				lseek(zero, 0, SEEK_SET);
				syscall(SYS_getuid);
			}
		}
		getppids += 64;
		calls += mix ? 64 * 6 : 64;
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	printf("%lu %lu %.4f %.4f\\n", calls, getppids, el, cpu);
	return 0;
}
`;

const PREFIX = `eunomia-bench-seccomp-${process.pid}`;
const WINDOW_S = 1; // seconds per workload run
const ROUNDS = 8; // recording windows, and as many control windows; idle-server windows between them all
const STOP_RUNS = 5;
const MAP_COUNTS = [1, 5, 20];
const NOISE = '±5 % is noise on this machine (bench figures move that much between identical runs)';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const kib = (b: number): string => `${(b / 1024).toFixed(1)} KiB`;
const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

interface Loop {
  calls: number;
  getppids: number;
  seconds: number;
  /** Calls per second of the loop's own CPU time: what other load on the machine does not move. */
  rate: number;
  /** Calls per second of wall-clock time. */
  wallRate: number;
}

interface Workload {
  label: string;
  /** A container's name, or undefined: a host process. */
  container?: string;
  mode: 'getppid' | 'mix';
  /** In the recorded container: its getppid calls must all be counted. */
  recorded: boolean;
}

async function loop(loopBin: string, w: Workload, seconds = WINDOW_S): Promise<Loop> {
  const args = [w.mode, String(seconds)];
  const { stdout } = w.container ? await run('docker', ['exec', w.container, '/b/loop', ...args], { encoding: 'utf8' }) : await run(loopBin, args, { encoding: 'utf8' });
  const [calls, getppids, secs, cpu] = stdout.trim().split(' ').map(Number) as [number, number, number, number];
  return { calls, getppids, seconds: secs, rate: calls / cpu, wallRate: calls / secs };
}

async function api(base: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const r = await fetch(`${base}${path}`, { method, ...(body ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}) });
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  return r.json();
}

async function startRecording(base: string, containers: string[]): Promise<number> {
  const v = (await api(base, 'POST', '/instances', { tracker: 'seccomp', options: { container: containers.join(',') } })) as { id: number };
  return v.id;
}

async function stopRecording(base: string, id: number): Promise<void> {
  await api(base, 'DELETE', `/instances/${id}`);
}

/** The recording so far, as the server makes it (its provenance: runs, and calls by name). */
async function profileOf(base: string, id: number): Promise<DockerProfile> {
  return (await api(base, 'GET', `/instances/${id}/seccomp`)) as DockerProfile;
}

interface BpfProg {
  id: number;
  name: string;
  run_cnt?: number;
  run_time_ns?: number;
  map_ids?: number[];
}
interface BpfMap {
  id: number;
  name: string;
  type: string;
  max_entries: number;
  bytes_value: number;
  bytes_memlock: number;
}
const progs = (): BpfProg[] => JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' })) as BpfProg[];
const mapInfo = (id: number): BpfMap => JSON.parse(execFileSync('bpftool', ['-j', 'map', 'show', 'id', String(id)], { encoding: 'utf8' })) as BpfMap;

/** The newest loaded program of that name (the recording just started). */
function newestProg(name: string): BpfProg {
  const p = progs().filter((x) => x.name === name).sort((a, b) => b.id - a.id)[0];
  if (!p) throw new Error(`no BPF program "${name}" loaded (bpftool prog show)`);
  return p;
}

/**
 * The syscall hooks a process holds, from its link fds' fdinfo: programs on the raw
 * sys_enter / sys_exit tracepoints (raw_tp, tp_btf), and syscalls:sys_enter_* / sys_exit_*
 * tracepoints (perf links). Any of them puts every task on the kernel's syscall slow path.
 */
function syscallHooks(pid: number): { raw: string[]; perSyscall: number } {
  const names = new Map(progs().map((p) => [p.id, p.name]));
  const raw: string[] = [];
  let perSyscall = 0;
  for (const info of fdInfos(pid)) {
    const tp = /^tp_name:\s+(\S+)/m.exec(info)?.[1];
    if (!tp) continue;
    const prog = Number(/^prog_id:\s+(\d+)/m.exec(info)?.[1]);
    if (tp === 'sys_enter' || tp === 'sys_exit') raw.push(`${names.get(prog) ?? `prog ${prog}`} (${tp})`);
    else if (/^sys_(enter|exit)_/.test(tp)) perSyscall++;
  }
  return { raw, perSyscall };
}

/** Idle server vs the same server recording the container, and vs a control (one more program on sys_enter), by turns. */
async function recordingCost(native: NativeBinding, loopBin: string, work: string, other: string): Promise<void> {
  const workloads: Workload[] = [
    { label: 'recorded container, getppid', container: work, mode: 'getppid', recorded: true },
    { label: 'recorded container, mix', container: work, mode: 'mix', recorded: true },
    { label: 'host process, getppid', mode: 'getppid', recorded: false },
    { label: 'another container, getppid', container: other, mode: 'getppid', recorded: false },
  ];
  type Runs = { cpu: number[]; wall: number[] }[];
  const runs = (): Runs => workloads.map(() => ({ cpu: [], wall: [] }));
  const window = async (into: Runs): Promise<Loop[]> => {
    const out: Loop[] = [];
    for (const [k, w] of workloads.entries()) {
      const l = await loop(loopBin, w);
      into[k]!.cpu.push(l.rate);
      into[k]!.wall.push(l.wallRate);
      out.push(l);
    }
    return out;
  };

  // Context: the same loops with no server at all (what the idle server itself costs).
  const bare = runs();
  for (let r = 0; r < 2; r++) await window(bare);

  const { child, base } = await startServer(['--metrics-listen', 'off']);
  try {
    await sleep(3000); // past the start's work (rules compiled, containers listed)
    const hooks = syscallHooks(child.pid!);

    // By turns: idle, recording, idle, control, idle, recording … The control is a second
    // secsnoop instance: one more program on raw_syscalls:sys_enter (its raw_module_kexec
    // returns after one comparison) and nothing else a getppid passes: what any program on the
    // hook costs every syscall here, the floor the recording's cost outside the container is
    // measured against.
    const idle = runs();
    const recording = runs();
    const control = runs();
    const counted: number[] = [];
    await window(idle);
    for (let r = 0; r < ROUNDS; r++) {
      const id = await startRecording(base, [work]);
      const loops = await window(recording);
      // The recording must have seen the recorded loops' calls, and none of the others'.
      const seen = (await profileOf(base, id)).eunomia?.syscalls.getppid?.count ?? 0;
      const expected = loops.reduce((n, l, k) => n + (workloads[k]!.recorded ? l.getppids : 0), 0);
      counted.push(seen / expected);
      await stopRecording(base, id);
      await window(idle);
      const floor = (await api(base, 'POST', '/instances', { tracker: 'secsnoop' })) as { id: number };
      await window(control);
      await api(base, 'DELETE', `/instances/${floor.id}`);
      await window(idle);
    }

    // Each run against the mean of the idle runs either side of it (the machine's load drifts).
    const turns = (a: number[], b: number[], first: number): number[] => b.map((x, r) => (a[2 * r + first]! + a[2 * r + first + 1]!) / 2 / x);
    console.log(`1–2. recording's cost: the loops' rate with an idle \`eunomia server\` (defaults, metrics off) and with the same server recording the container`);
    console.log(`     (POST /instances {"tracker":"seccomp","options":{"container":"${work}"}} … DELETE), and with a second secsnoop instance instead (the control: one more`);
    console.log(`     near-empty program on sys_enter): ${WINDOW_S} s runs by turns, ${2 * ROUNDS + 1} idle, ${ROUNDS} recording, ${ROUNDS} control, medians.`);
    console.log(`     Rates are syscalls per second of the loop's own CPU time (user + system: other load on the machine does not move them); the wall-clock slow-down is shown too. ${NOISE}.`);
    console.log(`     ${'workload'.padEnd(28)} ${'no server'.padStart(10)} ${'idle server'.padStart(11)} ${'recording'.padStart(10)}  slow-down  (per turn)                                 wall clock  control  target`);
    for (const [k, w] of workloads.entries()) {
      const a = idle[k]!;
      const b = recording[k]!;
      const t = turns(a.cpu, b.cpu, 0);
      console.log(
        `     ${w.label.padEnd(28)} ${fmt(median(bare[k]!.cpu)).padStart(10)} ${fmt(median(a.cpu)).padStart(11)} ${fmt(median(b.cpu)).padStart(10)}  ` +
          `${(median(t).toFixed(3) + '×').padStart(9)}  ${`(${t.map((x) => x.toFixed(2)).join(' ')})`.padEnd(41)} ${(median(turns(a.wall, b.wall, 0)).toFixed(3) + '×').padStart(10)}  ` +
          `${(median(turns(a.cpu, control[k]!.cpu, 1)).toFixed(3) + '×').padStart(7)}  ` +
          (w.recorded ? '≤ 1.10×' : 'not measurable'),
      );
    }
    console.log(`     the recording counted ${(100 * median(counted)).toFixed(1)} % of the recorded loops' getppid calls (median of ${counted.length}; above 100 % would say it counted the other loops' too)`);
    console.log(
      `     the idle server already holds ${hooks.raw.length ? hooks.raw.join(', ') : 'no raw sys_enter/sys_exit program'} and ${hooks.perSyscall} syscalls:sys_* tracepoints: ` +
        (hooks.raw.length || hooks.perSyscall
          ? 'every syscall on the host already takes the kernel\'s tracepoint slow path, and a recording adds only record_enter\'s run (for tasks it does not record: its early exit)'
          : 'a recording puts every syscall on the host on the kernel\'s tracepoint slow path'),
    );

    // The programs' own time per run, from the kernel's BPF stats (on only for this: they add a
    // clock read to every program run). secsnoop's raw_module_kexec, on the same hook, returns
    // after comparing the syscall number: the floor of a program on sys_enter on this machine.
    const statsFd = native.enableBpfStats();
    try {
      const id = await startRecording(base, [work]);
      try {
        const ids = { record_enter: newestProg('record_enter').id, raw_module_kexec: newestProg('raw_module_kexec').id };
        const stat = (): Record<string, { cnt: number; ns: number }> => {
          const all = progs();
          return Object.fromEntries(Object.entries(ids).map(([name, pid]) => {
            const p = all.find((x) => x.id === pid);
            return [name, { cnt: p?.run_cnt ?? 0, ns: p?.run_time_ns ?? 0 }];
          }));
        };
        for (const k of [0, 2]) {
          const w = workloads[k]!;
          const s0 = stat();
          await loop(loopBin, w);
          const s1 = stat();
          const ns = (name: string): number => (s1[name]!.ns - s0[name]!.ns) / Math.max(1, s1[name]!.cnt - s0[name]!.cnt);
          const call = 1e9 / median(idle[k]!.cpu);
          const own = ns('record_enter') - ns('raw_module_kexec');
          console.log(
            `     BPF stats during the ${w.label}: record_enter ${ns('record_enter').toFixed(0)} ns per run (${fmt(s1.record_enter!.cnt - s0.record_enter!.cnt)} runs), ` +
              `raw_module_kexec ${ns('raw_module_kexec').toFixed(0)} ns (the floor); a getppid takes ${call.toFixed(0)} ns with the idle server: ` +
              `record_enter's work above the floor, ${own.toFixed(0)} ns, is ${((100 * own) / call).toFixed(1)} % of it`,
          );
        }
      } finally {
        await stopRecording(base, id);
      }
    } finally {
      if (statsFd >= 0) closeSync(statsFd);
    }
    console.log('');
    await mapSize(base);
  } finally {
    await stopServer(child);
  }
}

/** `eunomia seccomp record` on a busy container: SIGINT → exit, the profile written. */
async function recordStop(busy: string, dir: string): Promise<void> {
  const starts: number[] = [];
  const stops: number[] = [];
  const written: number[] = [];
  const sizes: number[] = [];
  for (let i = 0; i < STOP_RUNS; i++) {
    const file = join(dir, `profile-${i}.json`);
    const t0 = performance.now();
    const child: ChildProcess = spawn(bin, ['seccomp', 'record', '--container', busy, '-o', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number>((r) => child.once('exit', (code, signal) => r(code ?? (signal ? 128 : 0))));
    try {
      const end = Date.now() + 20_000;
      while (!/recording container/.test(err)) {
        if (Date.now() > end || child.exitCode !== null) throw new Error(`eunomia seccomp record did not start: ${err.trim()}`);
        await sleep(5);
      }
      starts.push(performance.now() - t0);
      await sleep(2000); // two of its reports (every second) meanwhile
      const [t1, at] = [performance.now(), Date.now()];
      child.kill('SIGINT');
      const code = await exited;
      stops.push(performance.now() - t1);
      // The file's modification time (the kernel's coarse clock: a few ms) says when the profile was written.
      if (existsSync(file)) written.push(statSync(file).mtimeMs - at);
      if (code !== 0 || !existsSync(file)) throw new Error(`eunomia seccomp record exited ${code}${existsSync(file) ? '' : ' without writing the profile'}: ${err.trim()}`);
      const p = JSON.parse(readFileSync(file, 'utf8')) as DockerProfile;
      sizes.push(Object.keys(p.eunomia?.syscalls ?? {}).length);
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    }
  }
  console.log(`3. \`eunomia seccomp record --container ${busy} -o FILE\` on a busy container (a shell re-running the mix loop), ${STOP_RUNS} runs of ~2 s:`);
  console.log(
    `     SIGINT → exit: median ${median(stops).toFixed(0)} ms (runs: ${stops.map((x) => x.toFixed(0)).join(' ')}); SIGINT → the profile written (its mtime): median ${median(written).toFixed(0)} ms; ` +
      `spawn → "recording" median ${median(starts).toFixed(0)} ms; profiles of ${Math.min(...sizes)}–${Math.max(...sizes)} syscalls`,
  );
}

/** One recording of N sleeping containers, each then made busy: the `recordings` map's memlock. */
async function mapSize(base: string): Promise<void> {
  const idle = Array.from({ length: Math.max(...MAP_COUNTS) }, (_, i) => `${PREFIX}-idle-${i}`);
  console.log(`4. kernel memory of a recording (bpftool map show: bytes_memlock, the kernel's own account of a map):`);
  for (const n of MAP_COUNTS) {
    const names = idle.slice(0, n);
    const id = await startRecording(base, names);
    try {
      const prog = newestProg('record_enter');
      const map = prog.map_ids!.map(mapInfo).find((m) => m.name === 'recordings')!;
      // A call under the container's filter claims its entry: a short shell loop in each.
      await Promise.all(names.map((c) => run('docker', ['exec', c, 'sh', '-c', 'i=0; while [ $i -lt 100 ]; do i=$((i+1)); echo $i >/dev/null; done'])));
      const runs = (await profileOf(base, id)).eunomia?.runs.length ?? 0;
      console.log(
        `     ${String(n).padStart(2)} container${n === 1 ? ' ' : 's'}: ${runs} recorded, recordings map ${kib(mapInfo(map.id).bytes_memlock)} ` +
          `(${map.type}, ${fmt(map.max_entries)} entries of ${fmt(map.bytes_value)} bytes, allocated when the recording starts)`,
      );
      if (n === MAP_COUNTS[0]) {
        const maps = prog.map_ids!.map(mapInfo);
        const total = maps.reduce((sum, m) => sum + m.bytes_memlock, 0);
        const big = maps.filter((m) => m.bytes_memlock >= 64 * 1024).sort((x, y) => y.bytes_memlock - x.bytes_memlock);
        console.log(
          `     every map of one recording's programs (record_enter's): ${kib(total)}, of which ` +
            big.map((m) => `${m.name} ${kib(m.bytes_memlock)} (${m.type}, ${fmt(m.max_entries)} entries)`).join(', '),
        );
      }
    } finally {
      await stopRecording(base, id);
    }
  }
}

async function docker(args: string[]): Promise<void> {
  await run('docker', args);
}

export async function seccompBench(native: NativeBinding): Promise<void> {
  if (!(await dockerReady('seccomp'))) return;
  const dir = mkdtempSync(join(tmpdir(), 'eunomia-bench-seccomp-'));
  const containers: string[] = [];
  const started = (name: string): string => (containers.push(name), name);
  try {
    writeFileSync(join(dir, 'loop.c'), LOOP_C);
    try {
      execFileSync('cc', ['-O2', '-static', '-o', join(dir, 'loop'), join(dir, 'loop.c')], { stdio: 'pipe' });
    } catch (e) {
      throw new Error(`seccomp bench: cannot build a static loop (the busybox image has no libc; libc6-dev provides libc.a): ${(e as Error).message}`);
    }
    const loopBin = join(dir, 'loop');
    // The loop is bind-mounted; the containers run with Docker's default seccomp profile (the recorder's filter gate).
    const mount = ['-v', `${dir}:/b:ro`];
    const work = started(`${PREFIX}-work`);
    const other = started(`${PREFIX}-other`);
    const busy = started(`${PREFIX}-busy`);
    await docker(['run', '-d', '--name', work, ...mount, IMAGE, 'sleep', '3600']);
    await docker(['run', '-d', '--name', other, ...mount, IMAGE, 'sleep', '3600']);
    // Busy all through part 3: execs the loop (mix) again and again.
    await docker(['run', '-d', '--name', busy, ...mount, IMAGE, 'sh', '-c', 'while :; do /b/loop mix 0.2 >/dev/null; done']);
    const idle = Array.from({ length: Math.max(...MAP_COUNTS) }, (_, i) => started(`${PREFIX}-idle-${i}`));
    for (let i = 0; i < idle.length; i += 5) await Promise.all(idle.slice(i, i + 5).map((c) => docker(['run', '-d', '--name', c, IMAGE, 'sleep', '3600'])));

    console.log(`seccomp recording (${IMAGE} containers; load average ${loadavg()} at the start):`);
    // Part 3 first, with no server running: its own process alone; then the busy container goes.
    await recordStop(busy, dir);
    await docker(['rm', '-f', busy]);
    console.log('');
    await recordingCost(native, loopBin, work, other);
    console.log(`(load average ${loadavg()} at the end: other work on the machine shows in the wall-clock figures)`);
  } finally {
    if (containers.length) await run('docker', ['rm', '-f', ...containers]).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}
