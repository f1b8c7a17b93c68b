/**
 * The original Eunomia's spellings of tracker flags (its README's `--container-id`): each is
 * read as the flag of this release that replaces it, with a note naming that flag.
 */

/** Original flag → this release's. */
const ORIGINAL_FLAGS: Readonly<Record<string, string>> = {
  'container-id': 'container',
};

/** `argv` with the original's flags replaced (`--container-id X`, `--container-id=X`), and a note for each one given. */
export function fromOriginalFlags(argv: readonly string[]): { argv: string[]; notes: string[] } {
  const notes = new Set<string>();
  const out = argv.map((a) => {
    const m = /^--([^=]+)(=.*)?$/s.exec(a);
    const now = m ? ORIGINAL_FLAGS[m[1]!] : undefined;
    if (!m || now === undefined) return a;
    notes.add(`--${m[1]} is deprecated (the original Eunomia's): read as --${now}`);
    return `--${now}${m[2] ?? ''}`;
  });
  return { argv: out, notes: [...notes] };
}
