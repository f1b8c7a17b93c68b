/**
 * Parsed rule files cached by content: scripts/rules-cache.js parses the built-in rule files at
 * build time (YAML, and their conditions) into dist/rules-cache.json, and loading takes a
 * file's items from there when its text hashes to an entry. Parsing took most of the agent's
 * start. A file whose text changed (or any other file) misses and is parsed, so no file is
 * served stale; and a cache made by another build of the parser is not used.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Item, Text, Where } from './parse.js';

/** Bumped when the items' shape changes: an older cache is then ignored. */
export const CACHE_VERSION = 1;

/** dist/rules-cache.json: two levels up from dist/src/rules/ (and from dist/bundle/cli/). */
export const CACHE_FILE = fileURLToPath(new URL('../../rules-cache.json', import.meta.url));

export interface CacheFile {
  version: number;
  /** Of the parser's compiled code (parserFingerprint), when it was a file of its own. */
  parser: string | null;
  /** sha256 of a file's text → its items, with `where.file` empty (set to the file read). */
  entries: Record<string, Item[]>;
}

export const textKey = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * A hash of the compiled parsers beside this module (parse.js, condition.js), or null where
 * they are not files of their own (the CLI's bundle, made with the cache by the same build).
 * A cache made before the parser last changed is then ignored.
 */
export function parserFingerprint(): string | null {
  try {
    const read = (name: string): string => readFileSync(new URL(name, import.meta.url), 'utf8');
    return textKey(`${read('./parse.js')}\0${read('./condition.js')}`);
  } catch {
    return null;
  }
}

/** Items with every `where` naming `file` (new objects: cached items are shared). */
function withFile(items: readonly Item[], file: string): Item[] {
  const at = (w: Where): Where => ({ ...w, file });
  const text = (t: Text): Text => ({ ...t, where: at(t.where) });
  return items.map((it): Item => {
    if (it.kind === 'list') return { ...it, where: at(it.where), items: it.items.map((x) => ({ ...x, where: at(x.where) })) };
    if (it.kind === 'macro') return { ...it, where: at(it.where), condition: text(it.condition) };
    const r = { ...it, where: at(it.where) };
    if (it.condition) r.condition = text(it.condition);
    if (it.output) r.output = text(it.output);
    if (it.exceptions) r.exceptions = it.exceptions.map(text);
    return r;
  });
}

/** The cache's entries; undefined when there is none usable. */
function readCache(file: string): Record<string, Item[]> | undefined {
  let parsed: CacheFile;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as CacheFile;
  } catch {
    return undefined; // none built (a source checkout before `npm run build`), or unreadable
  }
  if (parsed?.version !== CACHE_VERSION || typeof parsed.entries !== 'object') return undefined;
  const parser = parserFingerprint();
  return parser === null || parser === parsed.parser ? parsed.entries : undefined;
}

const loaded = new Map<string, Record<string, Item[]> | undefined>();

/** The items of `text` (read from `file`) if the cache has them. */
export function cachedItems(text: string, file: string, cacheFile = CACHE_FILE): Item[] | undefined {
  if (!loaded.has(cacheFile)) loaded.set(cacheFile, readCache(cacheFile));
  const entries = loaded.get(cacheFile);
  const items = entries && entries[textKey(text)];
  return items && withFile(items, file);
}

/** Forgets the cache files read, so that the next load reads them again (tests). */
export function forgetCache(): void {
  loaded.clear();
}
