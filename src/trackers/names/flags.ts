/** Flag words as names: the kernel sends the raw value (kept as `<field>_raw` by convention). */
export type FlagTable = readonly (readonly [number, string])[];

/** "O_WRONLY|O_CREAT|O_TRUNC"-style text; bits with no name are kept as hex. */
export function flagNames(value: number, table: FlagTable, zero = '0'): string {
  const names: string[] = [];
  let rest = value >>> 0;
  for (const [bit, name] of table) {
    if (bit !== 0 && (rest & bit) === bit) {
      names.push(name);
      rest = (rest & ~bit) >>> 0;
    }
  }
  if (rest) names.push('0x' + rest.toString(16));
  return names.length ? names.join('|') : zero;
}
