/** The rules shipped with Eunomia, and loading them before the user's. */
import { fileURLToPath } from 'node:url';
import { RuleSet } from './ruleset.js';

/** rules/ at the package root (next to dist/ and src/). */
export const BUILTIN_RULES = fileURLToPath(new URL('../../../rules/', import.meta.url));

/** The built-in rules (unless `builtin` is false), then `files` in order: later ones may override. */
export function loadRules(files: string[], builtin = true): RuleSet {
  const set = new RuleSet();
  set.loadFiles([...(builtin ? [BUILTIN_RULES] : []), ...files]);
  return set;
}
