/** open(2) flag names (include/uapi/asm-generic/fcntl.h; arm and arm64 move four of them). */
import { flagNames, type FlagTable } from './flags.js';

const arm = process.arch === 'arm64' || process.arch === 'arm';

export const O_CREAT = 0o100;
const O_TRUNC = 0o1000;
/** __O_TMPFILE: O_TMPFILE is this plus O_DIRECTORY. */
const O_TMPFILE_BIT = 0o20000000;
const O_DIRECTORY = arm ? 0o40000 : 0o200000;

/** Combined flags first so that O_SYNC wins over O_DSYNC and O_TMPFILE over O_DIRECTORY. */
const OPEN_FLAGS: FlagTable = [
  [0o4010000, 'O_SYNC'],
  [O_TMPFILE_BIT | O_DIRECTORY, 'O_TMPFILE'],
  [O_CREAT, 'O_CREAT'],
  [0o200, 'O_EXCL'],
  [0o400, 'O_NOCTTY'],
  [O_TRUNC, 'O_TRUNC'],
  [0o2000, 'O_APPEND'],
  [0o4000, 'O_NONBLOCK'],
  [0o10000, 'O_DSYNC'],
  [0o20000, 'O_ASYNC'],
  [arm ? 0o200000 : 0o40000, 'O_DIRECT'],
  [arm ? 0o400000 : 0o100000, 'O_LARGEFILE'],
  [O_DIRECTORY, 'O_DIRECTORY'],
  [arm ? 0o100000 : 0o400000, 'O_NOFOLLOW'],
  [0o1000000, 'O_NOATIME'],
  [0o2000000, 'O_CLOEXEC'],
  [0o10000000, 'O_PATH'],
];

const ACCESS = ['O_RDONLY', 'O_WRONLY', 'O_RDWR', 'O_ACCMODE'];

/**
 * Programs open files with a handful of flag sets, so their texts are kept (bounded): the hot
 * path then reuses one flat string instead of joining a new one per event.
 */
const flagText = new Map<number, string>();
const FLAG_TEXTS_KEPT = 256;

/** "O_WRONLY|O_CREAT|O_TRUNC": the access mode (two low bits, O_RDONLY is 0) and then the flags. */
export function openFlags(flags: number): string {
  let text = flagText.get(flags);
  if (text === undefined) {
    const rest = flagNames(flags & ~3, OPEN_FLAGS, '');
    text = rest ? `${ACCESS[flags & 3]}|${rest}` : ACCESS[flags & 3]!;
    if (flagText.size < FLAG_TEXTS_KEPT) flagText.set(flags, text);
  }
  return text;
}

/** Permission bits as octal text: "0640". */
export function octalMode(mode: number): string {
  return '0' + (mode & 0o7777).toString(8).padStart(3, '0');
}

/** Opened to change the file: a write access mode, or O_CREAT or O_TRUNC. */
export function opensForWriting(flags: number): boolean {
  return (flags & 3) !== 0 || (flags & (O_CREAT | O_TRUNC)) !== 0;
}

/** The mode only matters when a file may be created. */
export function createsFile(flags: number): boolean {
  return (flags & O_CREAT) !== 0 || (flags & O_TMPFILE_BIT) !== 0;
}

const RESOLVE: FlagTable = [
  [0x01, 'RESOLVE_NO_XDEV'],
  [0x02, 'RESOLVE_NO_MAGICLINKS'],
  [0x04, 'RESOLVE_NO_SYMLINKS'],
  [0x08, 'RESOLVE_BENEATH'],
  [0x10, 'RESOLVE_IN_ROOT'],
  [0x20, 'RESOLVE_CACHED'],
];

export function resolveFlags(resolve: number): string {
  return flagNames(resolve, RESOLVE, '');
}
