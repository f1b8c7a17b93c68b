/**
 * The seccomp recorder on the real kernel: a C workload in a cgroup of its own makes known
 * calls; the tracker's entry for that cgroup holds exactly those, with their arguments and
 * capability checks, and nothing of what ran before the workload's exec or outside the cgroup.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cgroup2Root } from '../../src/containers/cgroup.js';
import { seccompTracker, type SeccompRow } from '../../src/trackers/seccomp/index.js';
import { KernelWatch, NOTHING_LEFT, needsRoot } from '../helpers.js';
import { traceWhile } from './harness.js';

const needsCc: string | false = spawnSync('cc', ['--version']).status !== 0 && 'no C compiler (cc) for the workload';
const root = cgroup2Root();
const needsCgroup2: string | false = !root && 'no cgroup v2 hierarchy mounted';

// Waits for a line on stdin (the tracker is attached by then), then makes GETPPID getppid()
// calls, two sockets (AF_UNIX, AF_INET6), a prctl(PR_SET_NAME), a personality query, a
// setuid(0) (a CAP_SETUID check as root), an unshare(CLONE_NEWUSER), a fork, and exits.
const WORKLOAD = `
#define _GNU_SOURCE
#include <sched.h>
#include <stdlib.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	int n = atoi(argv[1]);
	char c;
	if (read(0, &c, 1) != 1)
		return 1;
	for (int i = 0; i < n; i++)
		syscall(SYS_getppid);
	close(socket(AF_UNIX, SOCK_STREAM, 0));
	close(socket(AF_INET6, SOCK_DGRAM, 0));
	prctl(PR_SET_NAME, "sc-renamed");
	personality(0xffffffff);
	if (setuid(0)) /* before unshare: in the new user namespace uid 0 is not mapped */
		return 2;
	unshare(CLONE_NEWUSER);
	pid_t p = fork();
	if (p == 0)
		_exit(0);
	waitpid(p, 0, 0);
	return 0;
}
`;
const GETPPID = 777;

describe('seccomp recorder', { skip: needsRoot || needsCc || needsCgroup2 }, () => {
  const watch = new KernelWatch();
  let bin = '';
  let dir = '';
  let cgroupId = 0;

  before(() => {
    const work = mkdtempSync(join(tmpdir(), 'eunomia-seccomp-'));
    writeFileSync(join(work, 'w.c'), WORKLOAD);
    bin = join(work, 'sc-workload');
    execFileSync('cc', ['-O2', '-o', bin, join(work, 'w.c')]);
    dir = join(root!, `eunomia-test-seccomp-${process.pid}`);
    mkdirSync(dir);
    cgroupId = statSync(dir).ino; // a cgroup v2 directory's inode number is its id
  });

  after(async () => {
    rmdirSync(dir);
    assert.ok(watch.seen.progs.size >= 1, 'the tests did load programs');
    assert.deepEqual(await watch.leftovers(), NOTHING_LEFT);
  });

  test('counts exactly what the workload calls after its exec, with the arguments and capabilities that decide safety', async () => {
    // The shell joins the cgroup, then execs the workload: the shell's own calls come before
    // the exec (no filter here: the recording starts at the first exec) and are not counted.
    const outsider = () => spawnSync(bin, ['5'], { input: '\n' }); // the same calls, outside the cgroup
    const { events, stats } = await traceWhile(
      seccompTracker,
      { cgroup: cgroupId, interval: 3600 },
      async () => {
        const child = spawn('sh', ['-c', `echo $$ > ${dir}/cgroup.procs && exec ${bin} ${GETPPID}`], { stdio: ['pipe', 'ignore', 'inherit'] });
        const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
        await new Promise((r) => setTimeout(r, 200)); // the shell is in the cgroup and exec'd
        outsider();
        child.stdin!.end('\n');
        assert.equal(await exited, 0);
      },
      () => false,
      { watch, waitMs: 0 },
    );
    assert.equal(stats.decodeErrors + stats.mapInsertFailures, 0);
    const rows = events.map((e) => e.data as unknown as SeccompRow);
    assert.equal(rows.length, 1, 'one recorded cgroup (the stop reports it)');
    const r = rows[0]!;
    assert.equal(r.cgroup_id, cgroupId);
    assert.equal(r.gate, 'exec');
    assert.equal(r.syscalls.getppid, GETPPID, 'getppid: exactly the workload\'s calls (none of the shell\'s, none of the outsider\'s)');
    for (const name of ['execve', 'socket', 'prctl', 'personality', 'unshare', 'clone', 'wait4', 'setuid', 'exit_group']) assert.ok(r.syscalls[name], `${name} recorded`);
    assert.equal(r.syscalls.socket, 2);
    assert.deepEqual(r.args.socketFamilies, [1, 10]);
    assert.ok(r.args.prctlOptions.includes(15), 'PR_SET_NAME');
    assert.ok(r.args.personalities.includes(0xffffffff), 'the persona query');
    assert.equal(r.args.unshareNamespaces, 0x10000000, 'CLONE_NEWUSER to unshare');
    assert.equal(r.args.cloneNamespaces, 0, 'fork: no namespace flags');
    assert.ok(r.capabilities.used.includes('CAP_SETUID'), `setuid(0) checked CAP_SETUID: ${JSON.stringify(r.capabilities)}`);
    assert.equal(r.compat_calls, 0);
  });
});
