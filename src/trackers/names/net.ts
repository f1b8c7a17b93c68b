/** Socket address helpers: the kernel sends raw bytes, user space shows addresses. */
import { isIPv4 } from 'node:net';

export const AF_INET = 2;
export const AF_INET6 = 10;

/** An address from its family and bytes (4 used for IPv4, 16 for IPv6); '' when unknown. */
export function ipString(family: number, bytes: readonly number[] | Uint8Array): string {
  if (family === AF_INET) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (family !== AF_INET6) return '';
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  // IPv4-mapped addresses read best as IPv4.
  if (groups.slice(0, 5).every((g) => g === '0') && groups[5] === 'ffff') {
    const v4 = `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
    if (isIPv4(v4)) return `::ffff:${v4}`;
  }
  // Collapse the longest run of zero groups (RFC 5952).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

export function familyName(family: number): string {
  return family === AF_INET ? 'ipv4' : family === AF_INET6 ? 'ipv6' : String(family);
}
