/**
 * The record layout of the seed's hot-update programs, for objects whose BTF lacks it (the
 * seed's example reserves 168-byte records but never names the struct in its BTF):
 *
 *   struct event { int pid; int ppid; unsigned exit_code; unsigned long long duration_ns;
 *                  char comm[16]; char filename[127]; bool exit_event; };
 *
 * A hand-written decoder with the Decoder interface, so it runs like a BTF-generated one.
 */
import type { Decoder, FieldInfo } from '../core/btf/index.js';
import { EunomiaError, ErrorCodes } from '../core/errors.js';

const SIZE = 168;

const field = (name: string, offset: number, size: number, kind: string, type: string): FieldInfo => Object.freeze({ name, offset, size, kind, type, typeId: 0 });

const FIELDS: FieldInfo[] = Object.freeze([
  field('pid', 0, 4, 's32', 'int'),
  field('ppid', 4, 4, 's32', 'int'),
  field('exit_code', 8, 4, 'u32', 'unsigned int'),
  field('duration_ns', 16, 8, 'u64', 'unsigned long long'),
  field('comm', 24, 16, 'string', 'char[16]'),
  field('filename', 40, 127, 'string', 'char[127]'),
  field('exit_event', 167, 1, 'bool', 'bool'),
]) as FieldInfo[];

/** A NUL-terminated string of at most `n` bytes. */
function cstr(b: Buffer, at: number, n: number): string {
  const end = b.indexOf(0, at);
  return b.toString('utf8', at, end < 0 || end > at + n ? at + n : end);
}

function u64(b: Buffer, at: number): number | bigint {
  const hi = b.readUInt32LE(at + 4);
  // Like BTF decoders: a number while exact, a bigint beyond 2^53.
  return hi < 0x200000 ? hi * 4294967296 + b.readUInt32LE(at) : b.readBigUInt64LE(at);
}

export const SEED_EVENT: Decoder = Object.freeze({
  typeName: 'event (seed layout)',
  size: SIZE,
  fields: FIELDS,
  decode(b: Buffer, offset = 0): Record<string, unknown> {
    const o = offset >>> 0;
    if (!Buffer.isBuffer(b) || o !== offset || o + SIZE > b.length) {
      throw new EunomiaError(ErrorCodes.READER, `cannot decode the seed's event: need ${SIZE} bytes at offset ${String(offset)}`);
    }
    return {
      pid: b.readInt32LE(o),
      ppid: b.readInt32LE(o + 4),
      exit_code: b.readUInt32LE(o + 8),
      duration_ns: u64(b, o + 16),
      comm: cstr(b, o + 24, 16),
      filename: cstr(b, o + 40, 127),
      exit_event: b[o + 167] !== 0,
    };
  },
});
