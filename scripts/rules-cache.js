#!/usr/bin/env node
/**
 * Parses the built-in rule files (rules/*.yaml) and their conditions into
 * dist/rules-cache.json, keyed by each file's content hash (src/rules/cache.ts): loading them
 * then skips the parsers, which took most of the agent's start. A file edited later no longer
 * matches its key and is parsed at load, so the cache is never stale; run this after `tsc`
 * (scripts/setup.sh does, when the rules or dist/src/rules changed).
 *
 *   node scripts/rules-cache.js [OUT]      (default dist/rules-cache.json)
 */
import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dist = new URL('../dist/src/rules/', import.meta.url);
const { BUILTIN_RULES } = await import(new URL('builtin.js', dist).href);
const { parseRuleFile } = await import(new URL('parse.js', dist).href);
const { parseCondition } = await import(new URL('condition.js', dist).href);
const { CACHE_FILE, CACHE_VERSION, parserFingerprint, textKey } = await import(new URL('cache.js', dist).href);

/** Adds the parsed condition to a Text; one that does not parse is left to the load to report. */
const withAst = (t) => {
  try {
    return { ...t, ast: parseCondition(t.value, (offset, message) => { throw new Error(message); }) };
  } catch {
    return t;
  }
};

const out = process.argv[2] ?? CACHE_FILE;
const entries = {};
const files = readdirSync(BUILTIN_RULES).filter((f) => /\.ya?ml$/.test(f)).sort();
for (const name of files) {
  const text = readFileSync(join(BUILTIN_RULES, name), 'utf8');
  let items;
  try {
    items = parseRuleFile(text, ''); // `where.file` is set to the path read, at load
  } catch (e) {
    console.error(`rules-cache: ${name}${e.message}`);
    process.exit(1);
  }
  entries[textKey(text)] = items.map((it) => {
    if (it.kind === 'macro') return { ...it, condition: withAst(it.condition) };
    if (it.kind !== 'rule') return it;
    const r = { ...it };
    if (r.condition) r.condition = withAst(r.condition);
    if (r.exceptions) r.exceptions = r.exceptions.map(withAst);
    return r;
  });
}
// Written whole, then renamed: a load never reads half a file.
writeFileSync(`${out}.tmp`, JSON.stringify({ version: CACHE_VERSION, parser: parserFingerprint(), entries }));
renameSync(`${out}.tmp`, out);
console.log(`rules-cache: ${files.length} rule file${files.length === 1 ? '' : 's'} parsed into ${out}`);
