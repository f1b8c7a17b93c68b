/** User docs stay in sync with the code: every error code, tracker option and event field. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Btf, compileDecoder } from '../../src/core/btf/index.js';
import { ErrorCodes } from '../../src/core/errors.js';
import { objectDir } from '../../src/core/paths.js';
import { allOptions } from '../../src/trackers/options.js';
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
    const fields = compileDecoder(Btf.fromElf(readFileSync(obj)), t.event.struct).fields.filter((f) => !f.hidden);
    assert.ok(fields.length > 5);
    for (const f of fields) assert.ok(text.includes('`' + f.name + '`'), `field ${f.name}`);
  });
}
