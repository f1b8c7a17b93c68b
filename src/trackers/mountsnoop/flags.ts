/** Flag names of the mount calls (include/uapi/linux/mount.h, sys/mount.h). */
import { flagNames, type FlagTable } from '../names/flags.js';

const MS: FlagTable = [
  [1, 'MS_RDONLY'], [2, 'MS_NOSUID'], [4, 'MS_NODEV'], [8, 'MS_NOEXEC'], [16, 'MS_SYNCHRONOUS'], [32, 'MS_REMOUNT'],
  [64, 'MS_MANDLOCK'], [128, 'MS_DIRSYNC'], [256, 'MS_NOSYMFOLLOW'], [1024, 'MS_NOATIME'], [2048, 'MS_NODIRATIME'],
  [4096, 'MS_BIND'], [8192, 'MS_MOVE'], [16384, 'MS_REC'], [32768, 'MS_SILENT'], [1 << 16, 'MS_POSIXACL'],
  [1 << 17, 'MS_UNBINDABLE'], [1 << 18, 'MS_PRIVATE'], [1 << 19, 'MS_SLAVE'], [1 << 20, 'MS_SHARED'],
  [1 << 21, 'MS_RELATIME'], [1 << 22, 'MS_KERNMOUNT'], [1 << 23, 'MS_I_VERSION'], [1 << 24, 'MS_STRICTATIME'],
  [1 << 25, 'MS_LAZYTIME'], [1 << 26, 'MS_SUBMOUNT'], [1 << 27, 'MS_NOREMOTELOCK'], [1 << 28, 'MS_NOSEC'],
  [1 << 29, 'MS_BORN'], [1 << 30, 'MS_ACTIVE'], [2 ** 31, 'MS_NOUSER'],
];
/** Old callers put this magic in the high 16 bits; the kernel strips it. */
const MS_MGC_VAL = 0xc0ed0000;

const UMOUNT: FlagTable = [[1, 'MNT_FORCE'], [2, 'MNT_DETACH'], [4, 'MNT_EXPIRE'], [8, 'UMOUNT_NOFOLLOW']];
const FSOPEN: FlagTable = [[1, 'FSOPEN_CLOEXEC']];
const FSMOUNT: FlagTable = [[1, 'FSMOUNT_CLOEXEC']];
const FSPICK: FlagTable = [[1, 'FSPICK_CLOEXEC'], [2, 'FSPICK_SYMLINK_NOFOLLOW'], [4, 'FSPICK_NO_AUTOMOUNT'], [8, 'FSPICK_EMPTY_PATH']];
const MOVE_MOUNT: FlagTable = [
  [0x1, 'MOVE_MOUNT_F_SYMLINKS'], [0x2, 'MOVE_MOUNT_F_AUTOMOUNTS'], [0x4, 'MOVE_MOUNT_F_EMPTY_PATH'],
  [0x10, 'MOVE_MOUNT_T_SYMLINKS'], [0x20, 'MOVE_MOUNT_T_AUTOMOUNTS'], [0x40, 'MOVE_MOUNT_T_EMPTY_PATH'],
  [0x100, 'MOVE_MOUNT_SET_GROUP'], [0x200, 'MOVE_MOUNT_BENEATH'],
];
const OPEN_TREE: FlagTable = [
  [1, 'OPEN_TREE_CLONE'], [0o2000000, 'OPEN_TREE_CLOEXEC'], [0x100, 'AT_SYMLINK_NOFOLLOW'], [0x800, 'AT_NO_AUTOMOUNT'],
  [0x1000, 'AT_EMPTY_PATH'], [0x8000, 'AT_RECURSIVE'],
];
const FSCONFIG_CMDS = [
  'FSCONFIG_SET_FLAG', 'FSCONFIG_SET_STRING', 'FSCONFIG_SET_BINARY', 'FSCONFIG_SET_PATH', 'FSCONFIG_SET_PATH_EMPTY',
  'FSCONFIG_SET_FD', 'FSCONFIG_CMD_CREATE', 'FSCONFIG_CMD_RECONFIGURE', 'FSCONFIG_CMD_CREATE_EXCL',
];

/** MOUNT_ATTR__ATIME (0x70) is a 3-bit field, not flags: relatime is 0. */
const ATTR: FlagTable = [
  [0x1, 'MOUNT_ATTR_RDONLY'], [0x2, 'MOUNT_ATTR_NOSUID'], [0x4, 'MOUNT_ATTR_NODEV'], [0x8, 'MOUNT_ATTR_NOEXEC'],
  [0x10, 'MOUNT_ATTR_NOATIME'], [0x20, 'MOUNT_ATTR_STRICTATIME'], [0x80, 'MOUNT_ATTR_NODIRATIME'],
  [0x100000, 'MOUNT_ATTR_IDMAP'], [0x200000, 'MOUNT_ATTR_NOSYMFOLLOW'],
];

function mountFlags(flags: number): string {
  if (((flags & 0xffff0000) >>> 0) === MS_MGC_VAL) {
    const rest = flagNames(flags & 0xffff, MS, '');
    return rest ? `MS_MGC_VAL|${rest}` : 'MS_MGC_VAL';
  }
  return flagNames(flags, MS, '');
}

/** The flags argument of `call` as names; '' when none is set. */
export function callFlags(call: unknown, raw: number | bigint): string {
  const wide = BigInt(raw);
  const low = lowFlags(call, Number(BigInt.asUintN(32, wide)));
  const high = wide >> 32n; // no call defines these bits
  return high ? `${low ? low + '|' : ''}0x${(high << 32n).toString(16)}` : low;
}

function lowFlags(call: unknown, flags: number): string {
  switch (call) {
    case 'mount': return mountFlags(flags);
    case 'umount': return flagNames(flags, UMOUNT, '');
    case 'fsopen': return flagNames(flags, FSOPEN, '');
    case 'fsconfig': return FSCONFIG_CMDS[flags] ?? String(flags);
    case 'fsmount': return flagNames(flags, FSMOUNT, '');
    case 'move_mount': return flagNames(flags, MOVE_MOUNT, '');
    case 'open_tree': return flagNames(flags, OPEN_TREE, '');
    case 'fspick': return flagNames(flags, FSPICK, '');
    default: return flags ? '0x' + flags.toString(16) : '';
  }
}

export function attrFlags(attr: number): string {
  return flagNames(attr, ATTR, '');
}
