/** The mountsnoop tracker on the real kernel: mount(8), umount(8) and the new mount API from a C program. */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { TrackerEvent } from '../../src/pipeline/types.js';
import { mountsnoopTracker } from '../../src/trackers/mountsnoop/index.js';
import { KernelWatch, NOTHING_LEFT, needsRoot } from '../helpers.js';
import { traceWhile } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'eunomia-mountsnoop-'));
const mnt = join(dir, 'mnt');
const mnt2 = join(dir, 'mnt2');
mkdirSync(mnt);
mkdirSync(mnt2);
const hostMntNs = Number(readlinkSync('/proc/self/ns/mnt').replace(/\D/g, ''));

function run(cmd: string, args: string[]): { pid: number; status: number | null; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { pid: r.pid, status: r.status, stderr: r.stderr };
}

const byPid = (evs: TrackerEvent[], pid: number): TrackerEvent[] => evs.filter((e) => e.data.pid === pid);

/** fsopen → fsconfig → fsmount → move_mount; a bind through open_tree → move_mount; a
 * reconfigure through fspick → fsconfig; then both unmounted. */
const C_SOURCE = String.raw`
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char **argv) {
  const char *a = argv[1], *b = argv[2];
  int fs = syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
  long c1 = syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "size", "1m", 0);
  long c2 = syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0);
  int mfd = syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
  long m1 = syscall(SYS_move_mount, mfd, "", AT_FDCWD, a, MOVE_MOUNT_F_EMPTY_PATH);
  int tree = syscall(SYS_open_tree, AT_FDCWD, a, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  long m2 = syscall(SYS_move_mount, tree, "", AT_FDCWD, b, MOVE_MOUNT_F_EMPTY_PATH);
  int pick = syscall(SYS_fspick, AT_FDCWD, a, FSPICK_CLOEXEC);
  long c3 = syscall(SYS_fsconfig, pick, FSCONFIG_CMD_RECONFIGURE, NULL, NULL, 0);
  close(fs); close(mfd); close(tree); close(pick);
  long u1 = syscall(SYS_umount2, b, 2 /* MNT_DETACH */);
  long u2 = syscall(SYS_umount2, a, 0);
  printf("%d %d %d %d %ld %ld %ld %ld %ld %ld %ld\n", fs, mfd, tree, pick, c1, c2, m1, m2, c3, u1, u2);
  return 0;
}
`;

function buildHelper(): string | undefined {
  try {
    const src = join(dir, 'newmount.c');
    writeFileSync(src, C_SOURCE);
    execFileSync('cc', ['-O1', '-o', join(dir, 'newmount'), src], { stdio: 'pipe' });
    return join(dir, 'newmount');
  } catch {
    return undefined;
  }
}

describe('mountsnoop tracker', { skip: needsRoot }, () => {
  const watch = new KernelWatch();

  after(async () => {
    // Whatever a failed test left mounted.
    for (const m of [mnt2, mnt]) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(await watch.leftovers(), NOTHING_LEFT);
  });

  test('mount(8) of a tmpfs with options and flags, its umount, and a mount on a missing target', async () => {
    const missing = join(dir, 'missing', 'target');
    let m = { pid: 0, status: null as number | null, stderr: '' };
    let u = m;
    let bad = m;
    const t = await traceWhile(
      mountsnoopTracker,
      {},
      () => {
        m = run('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700,nosuid,nodev', 'tmpfs', mnt]);
        u = run('umount', [mnt]);
        bad = run('mount', ['-t', 'tmpfs', 'tmpfs', missing]);
      },
      (evs) => byPid(evs, bad.pid).length > 0,
      { watch },
    );
    assert.equal(t.stats.lostKernel + t.stats.lostQueue + t.stats.decodeErrors, 0, 'nothing lost or undecodable');
    assert.equal(m.status, 0, m.stderr);
    assert.equal(u.status, 0, u.stderr);
    assert.notEqual(bad.status, 0);

    const mounts = byPid(t.events, m.pid);
    assert.equal(mounts.length, 1, 'one mount(2)');
    const me = mounts[0]!;
    assert.equal(me.tracker, 'mountsnoop');
    assert.equal(me.data.call, 'mount');
    assert.equal(me.data.comm, 'mount');
    assert.equal(me.data.ppid, process.pid);
    assert.equal(me.data.source, 'tmpfs');
    assert.equal(me.data.target, mnt);
    assert.equal(me.data.fs_type, 'tmpfs');
    assert.equal(me.data.data, 'size=1m,mode=0700', 'flag options become MS_ bits, the rest stays in data');
    assert.equal(me.data.flags_raw, 2 | 4);
    assert.equal(me.data.flags, 'MS_NOSUID|MS_NODEV');
    assert.equal(me.data.error_raw, 0);
    assert.equal(me.data.error, '');
    assert.equal(me.data.fd, -1);
    assert.equal(me.data.mnt_ns, hostMntNs);

    const [ue] = byPid(t.events, u.pid);
    assert.ok(ue, 'umount seen');
    assert.equal(ue.data.call, 'umount');
    assert.equal(ue.data.comm, 'umount');
    assert.equal(ue.data.target, mnt);
    assert.equal(ue.data.flags, '');
    assert.equal(ue.data.error, '');

    const [be] = byPid(t.events, bad.pid);
    assert.ok(be, 'failed mount seen');
    assert.equal(be.data.call, 'mount');
    assert.equal(be.data.target, missing);
    assert.equal(be.data.error_raw, 2);
    assert.equal(be.data.error, 'ENOENT');
  });

  test('a mount inside a new mount namespace carries that namespace', async () => {
    let r = { pid: 0, status: null as number | null, stderr: '' };
    const t = await traceWhile(
      mountsnoopTracker,
      {},
      () => {
        // The namespace, and the mount with it, goes away when mount exits.
        r = run('unshare', ['-m', '--propagation', 'private', 'mount', '-t', 'tmpfs', '-o', 'ro', 'tmpfs', mnt]);
      },
      (evs) => byPid(evs, r.pid).some((e) => e.data.target === mnt),
      { watch },
    );
    assert.equal(t.stats.lostKernel + t.stats.lostQueue + t.stats.decodeErrors, 0, 'nothing lost or undecodable');
    assert.equal(r.status, 0, r.stderr);
    const evs = byPid(t.events, r.pid);
    const priv = evs.find((e) => e.data.comm === 'unshare');
    assert.ok(priv, "unshare's own mount (making / private) seen");
    assert.equal(priv.data.target, '/');
    assert.equal(priv.data.flags, 'MS_REC|MS_PRIVATE');
    const me = evs.find((e) => e.data.comm === 'mount');
    assert.ok(me);
    assert.equal(me.data.flags, 'MS_RDONLY');
    assert.notEqual(me.data.mnt_ns, hostMntNs, 'the new namespace');
    assert.equal(me.data.mnt_ns, priv.data.mnt_ns);
  });

  const helper = buildHelper();
  test('the new mount API: fsopen, fsconfig, fsmount, move_mount, open_tree, fspick', { skip: !helper && 'no C compiler (cc)' }, async () => {
    let out = '';
    let pid = 0;
    const t = await traceWhile(
      mountsnoopTracker,
      {},
      () => {
        const r = spawnSync(helper!, [mnt, mnt2], { encoding: 'utf8' });
        out = r.stdout;
        pid = r.pid;
      },
      (evs) => byPid(evs, pid).filter((e) => e.data.call === 'umount').length >= 2,
      { watch },
    );
    assert.equal(t.stats.lostKernel + t.stats.lostQueue + t.stats.decodeErrors, 0, 'nothing lost or undecodable');
    const [fs, mfd, tree, pick, ...rets] = out.trim().split(' ').map(Number);
    assert.ok(fs! >= 3 && mfd! >= 3 && tree! >= 3 && pick! >= 3, `fds: ${out}`);
    assert.deepEqual(rets, [0, 0, 0, 0, 0, 0, 0], `all calls succeeded: ${out}`);
    const evs = byPid(t.events, pid);
    const calls = evs.map((e) => e.data.call);
    assert.deepEqual(calls, ['fsopen', 'fsconfig', 'fsconfig', 'fsmount', 'move_mount', 'open_tree', 'move_mount', 'fspick', 'fsconfig', 'umount', 'umount']);
    const [open, set, create, fsm, mv, ot, mv2, fp, reconf, u1, u2] = evs.map((e) => e.data);
    assert.equal(open!.fs_type, 'tmpfs');
    assert.equal(open!.flags, 'FSOPEN_CLOEXEC');
    assert.equal(open!.fd, fs);
    assert.equal(set!.in_fd, fs);
    assert.equal(set!.flags, 'FSCONFIG_SET_STRING');
    assert.equal(set!.data, 'size=1m');
    assert.equal(create!.flags, 'FSCONFIG_CMD_CREATE');
    assert.equal(create!.data, '');
    assert.equal(fsm!.in_fd, fs);
    assert.equal(fsm!.fd, mfd);
    assert.equal(fsm!.flags, 'FSMOUNT_CLOEXEC');
    assert.equal(fsm!.attr, 'MOUNT_ATTR_NOSUID|MOUNT_ATTR_NODEV');
    assert.equal(mv!.in_fd, mfd);
    assert.equal(mv!.source, '');
    assert.equal(mv!.aux_fd, -100, 'AT_FDCWD');
    assert.equal(mv!.target, mnt);
    assert.equal(mv!.flags, 'MOVE_MOUNT_F_EMPTY_PATH');
    assert.equal(ot!.source, mnt);
    assert.equal(ot!.fd, tree);
    assert.equal(ot!.flags, 'OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC');
    assert.equal(mv2!.in_fd, tree);
    assert.equal(mv2!.target, mnt2);
    assert.equal(fp!.target, mnt);
    assert.equal(fp!.fd, pick);
    assert.equal(fp!.flags, 'FSPICK_CLOEXEC');
    assert.equal(reconf!.in_fd, pick);
    assert.equal(reconf!.flags, 'FSCONFIG_CMD_RECONFIGURE');
    assert.equal(u1!.target, mnt2);
    assert.equal(u1!.flags, 'MNT_DETACH');
    assert.equal(u2!.target, mnt);
    for (const e of evs) assert.equal(e.data.error, '', `${e.data.call} succeeded`);
  });
});
