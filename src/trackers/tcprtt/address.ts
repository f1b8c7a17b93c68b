/** Addresses for tcprtt's filters: parsed into the 16-byte form the kernel compares. */
import { isIPv4, isIPv6 } from 'node:net';
import { EunomiaError, ErrorCodes } from '../../core/errors.js';
import { AF_INET, ipString } from '../names/net.js';

/** 16 bytes of an IPv6 address; IPv4 as ::ffff:a.b.c.d (how the kernel side stores both). */
export function addressBytes(text: string): Buffer {
  const s = text.trim().replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  const out = Buffer.alloc(16);
  if (isIPv4(s)) {
    out.writeUInt16BE(0xffff, 10);
    s.split('.').forEach((p, i) => (out[12 + i] = Number(p)));
    return out;
  }
  if (!isIPv6(s)) throw new EunomiaError(ErrorCodes.OPTION, `tracker tcprtt: "${text}" is not an IPv4 or IPv6 address`);
  const groups = (part: string): number[] => {
    if (part === '') return [];
    return part.split(':').flatMap((g) => {
      if (!g.includes('.')) return [parseInt(g, 16)];
      const [a, b, c, d] = g.split('.').map(Number) as [number, number, number, number];
      return [(a << 8) | b, (c << 8) | d];
    });
  };
  const [head, tail] = s.split('::') as [string, string | undefined];
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  all.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  if (out.every((b) => b === 0)) throw new EunomiaError(ErrorCodes.OPTION, `tracker tcprtt: "${text}" (the unspecified address) cannot be a filter`);
  return out;
}

/** The kernel's two words for an address filter (little-endian loads of the 16 bytes). */
export function addressWords(v: unknown): bigint[] {
  const b = addressBytes(String(v));
  return [b.readBigUInt64LE(0), b.readBigUInt64LE(8)];
}

/** Text of a key address: IPv4 sockets read as a.b.c.d, IPv6 ones as IPv6. */
export function addressText(family: number, bytes: readonly number[]): string {
  return family === AF_INET ? ipString(AF_INET, bytes.slice(12)) : ipString(family, bytes);
}
