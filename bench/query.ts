/**
 * `npm run bench -- query`: query latency over 1 M rows in the real store (SQLite, a temp
 * dir): a page of 100 rows of a time range, a filter on comm over the last hour, a group-by
 * container over a day; and the longest the event loop waited while the day was scanned.
 * Needs neither root nor the kernel: the rows are process exec events made up here, with
 * records the size of real ones.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseQuery, runQuery, type QueryAnswer } from '../src/query/index.js';
import { openStore } from '../src/store/index.js';

const ROWS = 1_000_000;
const DAY = 86_400_000;
const RUNS = 5;
const COMMS = ['sh', 'bash', 'python3', 'node', 'nginx', 'postgres', 'cat', 'ls', 'grep', 'sed', 'awk', 'curl', 'wget', 'git', 'make', 'cc1', 'ld', 'java', 'ruby', 'perl'];
const CONTAINERS = [...Array(20).keys()].map((i) => ({ id: (0xa00000000000 + i).toString(16), full_id: (0xa00000000000 + i).toString(16).repeat(5).slice(0, 64), name: `app-${i}`, image: `registry.local/app-${i}:1.${i}` }));

/** A process exec as the tracker and enrichment make it (about 700 bytes of JSON). */
function exec(i: number, time: number): { tracker: string; instance: number; time: number; data: Record<string, unknown> } {
  const comm = COMMS[(i * 7919) % COMMS.length]!;
  const c = i % 21 === 20 ? { id: 'host', full_id: 'host', name: 'host' } : CONTAINERS[i % 21]!;
  const args = [`/usr/bin/${comm}`, '--option', `value-${i % 1000}`, '/var/lib/data/file.txt'];
  return {
    tracker: 'process', instance: 1, time,
    data: {
      type: 'exec', pid: 10_000 + (i % 50_000), tid: 10_000 + (i % 50_000), ppid: 9000 + (i % 300), uid: i % 5 ? 0 : 1000, gid: 0, comm,
      cgroup_id: 4000 + (i % 21), pid_ns: 4026531836, mnt_ns: 4026531841, user_ns: 4026531837, foreign_exe: 0,
      filename: args[0], exe: args[0], args, args_size: args.join(' ').length + 4, args_truncated: 0, cmdline: args.join(' '), prog: comm,
      pcomm: 'bash', gpcomm: 'sshd', tty: '', stdin: 'pipe', stdout: 'pipe', vpid: 40 + (i % 100), vppid: 1,
      caps: ['CAP_CHOWN', 'CAP_SETUID'], upper_layer: false, exe_fs: 'overlay', ld_preload: '', path_env: '/usr/local/bin:/usr/bin:/bin',
      container: c,
    },
  };
}

function stats(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  return `median ${s[Math.floor(s.length / 2)]!.toFixed(1)} ms, min ${s[0]!.toFixed(1)}, max ${s[s.length - 1]!.toFixed(1)}`;
}

export async function queryBench(rows = ROWS): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'eunomia-query-bench-'));
  const limits = { maxRows: rows * 2, maxBytes: 8 * 1024 ** 3, ttlMs: 7 * DAY };
  const store = await openStore({ path: join(dir, 'events.db'), trackers: ['process'], alerts: false, events: limits, alertLimits: limits });
  try {
    const now = Date.now();
    const t0 = performance.now();
    // Oldest first, spread evenly over the last day; the writer takes them in batches.
    for (let i = 0; i < rows; i++) {
      store.event(exec(i, now - DAY + (i * DAY) / rows));
      if (i % 50_000 === 49_999) await store.flush();
    }
    await store.flush();
    const s = store.stats();
    const writeS = (performance.now() - t0) / 1000;
    console.log(`query: ${s.events.rows.toLocaleString('en-US')} rows stored in ${writeS.toFixed(1)} s (${Math.round(s.events.rows / writeS).toLocaleString('en-US')} rows/s), database ${(s.fileBytes / 1024 ** 2).toFixed(0)} MiB, ${s.events.dropped} dropped`);

    const measure = async (label: string, params: Record<string, string>): Promise<void> => {
      const times: number[] = [];
      let a: QueryAnswer | undefined;
      let lag = 0;
      for (let r = 0; r < RUNS; r++) {
        let last = performance.now();
        const tick = setInterval(() => {
          const t = performance.now();
          lag = Math.max(lag, t - last);
          last = t;
        }, 1);
        const q0 = performance.now();
        a = await runQuery(store, parseQuery(params, now));
        const end = performance.now();
        times.push(end - q0);
        clearInterval(tick);
        lag = Math.max(lag, end - last);
      }
      const n = a!.groups ? `${a!.groups.length} groups` : `${a!.rows!.length} rows`;
      console.log(`  ${label.padEnd(44)} ${stats(times)}; ${n}, ${a!.scanned.toLocaleString('en-US')} rows scanned; longest event-loop wait ${lag.toFixed(1)} ms`);
    };
    console.log(`query latency over ${s.events.rows.toLocaleString('en-US')} stored rows (${RUNS} runs each):`);
    await measure('page of 100 rows, the last hour', { from: '-1h', limit: '100' });
    await measure('page of 100 rows, 12 h ago (from/to)', { from: '-13h', to: '-12h', limit: '100' });
    await measure('where comm = curl, the last hour (all)', { where: 'comm = curl', from: '-1h', limit: '10000' });
    await measure('where comm = curl, the last hour (100)', { where: 'comm = curl', from: '-1h', limit: '100' });
    await measure('group by container.name, the day', { group: 'container.name', from: '-1d', limit: '100' });
    await measure('group by container.name,comm, 1h buckets, day', { group: 'container.name,comm', bucket: '1h', from: '-1d', limit: '10000' });
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// `node dist/bench/query.js [ROWS]` runs it alone.
if (process.argv[1]?.endsWith('/bench/query.js')) await queryBench(process.argv[2] ? Number(process.argv[2]) : ROWS);
