/** The cache of parsed built-in rule files (scripts/rules-cache.js, src/rules/cache.ts): the same items as parsing, and never stale. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILTIN_RULES, parseRuleFile, RuleSet } from '../../src/rules/index.js';
import { cachedItems, forgetCache, type CacheFile } from '../../src/rules/cache.js';
import { parseCondition, type Fail } from '../../src/rules/condition.js';
import type { Item } from '../../src/rules/parse.js';
import type { TrackerEvent } from '../../src/pipeline/types.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const fail: Fail = (_, message) => {
  throw new Error(message);
};

/** Runs the cache script into a fresh directory; returns the cache's path. */
function makeCache(): { file: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'eunomia-rules-cache-'));
  const file = join(dir, 'rules-cache.json');
  const r = spawnSync(process.execPath, [join(root, 'scripts/rules-cache.js'), file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /rules-cache: \d+ rule files? parsed into /);
  return { file, done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Items without the parsed conditions the cache adds. */
const withoutAst = (items: Item[]): unknown => JSON.parse(JSON.stringify(items, (k, v: unknown) => (k === 'ast' ? undefined : v)));

const builtinFiles = (): string[] => readdirSync(BUILTIN_RULES).filter((f) => /\.ya?ml$/.test(f)).map((f) => join(BUILTIN_RULES, f));

test('the cache holds what parsing gives, positions naming the file read, conditions parsed', () => {
  const { file, done } = makeCache();
  try {
    forgetCache();
    for (const path of builtinFiles()) {
      const text = readFileSync(path, 'utf8');
      const cached = cachedItems(text, path, file);
      assert.ok(cached, `${path} is in the cache`);
      assert.deepEqual(withoutAst(cached), withoutAst(parseRuleFile(text, path)));
      for (const it of cached) {
        const texts = it.kind === 'macro' ? [it.condition] : it.kind === 'rule' ? [...(it.condition ? [it.condition] : []), ...(it.exceptions ?? [])] : [];
        for (const t of texts) assert.deepEqual(t.ast, parseCondition(t.value, fail), t.value);
      }
      // Each load gets items of its own (and its own file name).
      const again = cachedItems(text, '/elsewhere.yaml', file)!;
      assert.equal(again[0]!.where.file, '/elsewhere.yaml');
      assert.equal(cached[0]!.where.file, path);
    }
  } finally {
    done();
  }
});

test('an edited file is parsed, not taken from the cache; a cache of another version or parser is not used', () => {
  const { file, done } = makeCache();
  try {
    forgetCache();
    const path = builtinFiles()[0]!;
    const text = readFileSync(path, 'utf8');
    assert.equal(cachedItems(`${text}\n# edited\n`, path, file), undefined);
    assert.equal(cachedItems(text.replace('name: BPF program loaded', 'name: BPF program loaded!'), path, file), undefined);
    const cache = JSON.parse(readFileSync(file, 'utf8')) as CacheFile;
    for (const stale of [{ ...cache, version: cache.version + 1 }, { ...cache, parser: 'another parser' }]) {
      writeFileSync(file, JSON.stringify(stale));
      forgetCache();
      assert.equal(cachedItems(text, path, file), undefined);
    }
    writeFileSync(file, '{"version":');
    forgetCache();
    assert.equal(cachedItems(text, path, file), undefined, 'a broken cache is ignored');
    forgetCache();
    assert.equal(cachedItems(text, path, join(tmpdir(), 'no-such-eunomia-cache.json')), undefined);
  } finally {
    forgetCache();
    done();
  }
});

test('rules loaded through the cache are the rules parsed, and an edited copy of a built-in file loads as edited', () => {
  const { file, done } = makeCache();
  const dir = mkdtempSync(join(tmpdir(), 'eunomia-rules-edited-'));
  try {
    forgetCache();
    const cached = new RuleSet({ cache: file });
    cached.loadFiles([BUILTIN_RULES]);
    const parsed = new RuleSet({ cache: false });
    parsed.loadFiles([BUILTIN_RULES]);
    assert.deepEqual(cached.rules(), parsed.rules());
    const shell: TrackerEvent = {
      tracker: 'process', instance: 1, time: 0,
      data: { type: 'exec', comm: 'sh', prog: 'sh', tty: 'pts/0', args: ['sh'], container: { id: 'abc', name: 'web' } },
    };
    assert.deepEqual(cached.match(shell), parsed.match(shell));
    assert.ok(cached.match(shell).some((m) => m.rule === 'shell_in_container'));

    for (const path of builtinFiles()) {
      const text = readFileSync(path, 'utf8').replace('name: Interactive shell in a container', 'name: Edited shell rule');
      writeFileSync(join(dir, path.slice(BUILTIN_RULES.length)), text);
    }
    const edited = new RuleSet({ cache: file });
    edited.loadFiles([dir]);
    assert.equal(edited.rules().find((r) => r.id === 'shell_in_container')?.name, 'Edited shell rule');
  } finally {
    forgetCache();
    rmSync(dir, { recursive: true, force: true });
    done();
  }
});
