/**
 * The seccomp helper on the real kernel: commands run under filters built from Docker profiles,
 * and what they are refused, and how, is checked on real processes.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { isEunomiaError } from '../../src/core/errors.js';
import { makeCgroup, type Cgroup } from '../../src/seccomp/cgroup.js';
import { helperPath, HelperExit, launch, type LaunchOptions } from '../../src/seccomp/launch.js';
import type { DockerProfile, DockerRule } from '../../src/seccomp/types.js';
import { SYSCALLS_X86_64 } from '../../src/trackers/names/syscalls-x86_64.js';

const isRoot = process.getuid?.() === 0;
const python = ['/usr/bin/python3', '/usr/local/bin/python3'].find((p) => existsSync(p));

/**
 * Every x86-64 call allowed except `except`: what a shell, coreutils, util-linux or python need
 * is then certainly in, and the calls left out are the ones tested.
 */
function allBut(except: string[], extra: DockerRule[] = []): DockerProfile {
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [{ names: SYSCALLS_X86_64.filter((n) => n !== '' && !except.includes(n)), action: 'SCMP_ACT_ALLOW' }, ...extra],
  };
}

interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The helper's arguments (the filter file's path among them). */
  args: string[];
}

function wait(child: ChildProcess): Promise<Ran> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, args: child.spawnargs }));
  });
}

function run(cmd: string[], opts: LaunchOptions): Promise<Ran> {
  return wait(launch(cmd, { stdio: ['ignore', 'pipe', 'pipe'], ...opts }));
}

describe('seccomp helper', () => {
  test('is built (npm run setup)', () => {
    assert.ok(existsSync(helperPath()));
  });

  test("the command's exit status passes through, and the filter file is removed after it", async () => {
    const r = await run(['sh', '-c', 'exit 3'], { profile: allBut([]) });
    assert.equal(r.code, 3, r.stderr);
    const file = r.args[r.args.indexOf('--filter') + 1];
    assert.ok(file && !existsSync(file), `${file} is left`);
    assert.equal((await run(['sh', '-c', 'exit 4'], { allowAll: true })).code, 4);
  });

  describe('unshare -U true, under a profile without unshare', () => {
    const profile = allBut(['unshare']);
    // The shell turns core dumps off: a process killed by SIGSYS would otherwise leave one.
    const cmd = ['sh', '-c', 'ulimit -c 0; exec unshare -U true'];

    test('runs as allowed when unshare is in the profile', async () => {
      const r = await run(cmd, { profile: allBut([]), mode: 'errno' });
      assert.equal(r.code, 0, r.stderr);
    });

    test('errno mode: unshare fails with EPERM', async () => {
      const r = await run(cmd, { profile, mode: 'errno' });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /unshare failed: Operation not permitted/);
    });

    test('kill mode: the process dies by SIGSYS', async () => {
      const r = await run(cmd, { profile, mode: 'kill' });
      assert.equal(r.signal, 'SIGSYS', `code ${r.code}: ${r.stderr}`);
    });

    test('log mode: the call is let through (and logged)', async () => {
      const r = await run(cmd, { profile, mode: 'log' });
      assert.equal(r.code, 0, r.stderr);
    });
  });

  test('a rule with args: socket only for AF_UNIX', { skip: !python && 'python3 is not installed (scripts/setup.sh installs it)' }, async () => {
    const profile = allBut(['socket'], [{ names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }] }]);
    const program = [
      'import socket',
      'for name in ("AF_UNIX", "AF_INET"):',
      '    try:',
      '        socket.socket(getattr(socket, name)).close(); print(name, "ok")',
      '    except OSError as e:',
      '        print(name, "errno", e.errno)',
    ].join('\n');
    const r = await run([python!, '-c', program], { profile });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['AF_UNIX ok', 'AF_INET errno 1']);
  });

  test('the filter is in place: Seccomp 2 and NoNewPrivs 1 in the command\'s /proc status', async () => {
    const child = launch(['sleep', '30'], { profile: allBut(['keyctl', 'mount', 'ptrace']), stdio: 'ignore' });
    const done = wait(child);
    try {
      const pid = child.pid!;
      // The helper becomes sleep: wait for the exec, then read the same pid's status.
      for (let i = 0; i < 200 && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'sleep'; i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal(readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), 'sleep');
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      assert.match(status, /^Seccomp:\s+2$/m);
      assert.match(status, /^NoNewPrivs:\s+1$/m);
    } finally {
      child.kill('SIGKILL');
      await done;
    }
  });

  describe('--cgroup', { skip: !isRoot && 'needs root to make a cgroup' }, () => {
    let cg: Cgroup | undefined;
    after(() => cg?.remove());

    test('the command runs in the made cgroup, whose id is the directory\'s inode number', async () => {
      cg = makeCgroup('seccomp test');
      assert.match(basename(cg.dir), new RegExp(`^eunomia-seccomp-${process.pid}-\\d+$`));
      assert.equal(cg.id, Number(execFileSync('stat', ['-c', '%i', cg.dir], { encoding: 'utf8' }).trim()));
      const r = await run(['cat', '/proc/self/cgroup'], { allowAll: true, cgroupDir: cg.dir });
      assert.equal(r.code, 0, r.stderr);
      // The v2 line: the cgroup sits right below the root.
      assert.match(r.stdout, new RegExp(`^0::/${basename(cg.dir)}$`, 'm'));
      cg.remove();
      assert.ok(!existsSync(cg.dir));
      cg.remove(); // again: nothing to do
    });
  });

  describe('bad input', () => {
    test('an unknown syscall name: an error naming it, and nothing runs', () => {
      const profile = allBut([], [{ names: ['no_such_call'], action: 'SCMP_ACT_ERRNO' }]);
      assert.throws(() => launch(['true'], { profile }), (e: unknown) => isEunomiaError(e) && /"no_such_call"/.test(e.message));
    });

    test('a malformed filter line: exit 125 and a message naming the line', () => {
      const dir = mkdtempSync(join(tmpdir(), 'eunomia-seccomp-test-'));
      try {
        const file = join(dir, 'filter');
        writeFileSync(file, '# a comment\ndefault allow\nrule 41 errno 1 arg 0 frob 2\n');
        const r = spawnSync(helperPath(), ['--filter', file, '--', 'true'], { encoding: 'utf8' });
        assert.equal(r.status, HelperExit.FAILED);
        assert.match(r.stderr, /^eunomia-seccomp-exec: .*filter line 3: unknown comparison "frob".*\(in "rule 41 errno 1 arg 0 frob 2"\)/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('a missing command: exit 127', async () => {
      const r = await run(['/nonexistent/eunomia-command'], { allowAll: true });
      assert.equal(r.code, HelperExit.NOT_FOUND);
      assert.match(r.stderr, /cannot run \/nonexistent\/eunomia-command: No such file or directory/);
    });
  });
});
