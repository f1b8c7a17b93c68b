/** User docs stay in sync with the code: every error code, tracker option and event field. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Btf, compileDecoder } from '../../src/core/btf/index.js';
import { ErrorCodes } from '../../src/core/errors.js';
import { objectDir } from '../../src/core/paths.js';
import { allOptions } from '../../src/runtime/options.js';
import { trackers } from '../../src/trackers/registry.js';
import { repoRoot } from '../helpers.js';

const doc = (p: string): string => readFileSync(join(repoRoot, 'docs', p), 'utf8');

test('every error code is documented in docs/errors.md', () => {
  const text = doc('errors.md');
  for (const code of Object.values(ErrorCodes)) assert.match(text, new RegExp('`' + code + '`'), code);
});

for (const t of trackers) {
  test(`docs/trackers/${t.name}.md documents every option and every event field`, () => {
    const text = doc(`trackers/${t.name}.md`);
    for (const o of allOptions(t)) assert.ok(text.includes(`--${o.flag}`), `option --${o.flag}`);
    const obj = join(objectDir, t.object);
    assert.ok(existsSync(obj), `${obj} is built (npm run setup)`);
    const btf = Btf.fromElf(readFileSync(obj));
    // Streaming trackers: the event struct; aggregating ones: the map's key and value structs.
    const structs: number[] = [];
    if (t.event) structs.push(btf.find(t.event.struct, 'struct')!.id);
    if (t.interval) {
      const m = btf.mapTypes(t.interval.map)!;
      for (const id of [m.keyTypeId!, m.valueTypeId!]) if (btf.resolve(id).kind === 'struct') structs.push(id);
    }
    const fields = structs.flatMap((id) => compileDecoder(btf, id).fields.filter((f) => !f.hidden));
    assert.ok(fields.length > 0);
    for (const f of fields) assert.ok(text.includes('`' + f.name + '`'), `field ${f.name}`);
  });
}
