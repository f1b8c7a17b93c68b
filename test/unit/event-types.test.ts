/**
 * Each tracker's event type (src/trackers/<name>/event.gen.ts) is its object's BTF: regenerated
 * here from the built objects, it must equal the committed file. And the descriptors are
 * compiled against it: a member renamed in a C struct changes the generated type, and the
 * tracker's code that uses the old name no longer compiles.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import { Btf } from '../../src/core/btf/index.js';
import { objectDir } from '../../src/core/paths.js';
import type { TrackerDescriptor } from '../../src/runtime/types.js';
import { repoRoot } from '../helpers.js';

interface Generated {
  file: string;
  text: string;
  committed: string;
}
interface Generator {
  generate(o?: { btfOf?: (d: TrackerDescriptor) => Btf | undefined }): Promise<Generated[]>;
  lineDiff(a: string, b: string): string;
}
// Plain ESM outside the compiled tree (it reads dist/): imported from the repository.
const gen = (await import(join(repoRoot, 'scripts/gen-event-types.js'))) as Generator;

test('every committed event type is what the built object\'s BTF gives (node scripts/gen-event-types.js regenerates)', async () => {
  const files = await gen.generate();
  assert.ok(files.length >= 15, 'one file per tracker');
  for (const f of files) assert.ok(f.text === f.committed, `${f.file} differs from the object's BTF:\n${gen.lineDiff(f.committed, f.text)}`);
});

test('a member renamed in a C struct is reported, and the tracker using the old name no longer compiles', async () => {
  // sigsnoop's signal_raw, renamed in a copy of the object: BTF names are NUL-separated strings.
  const obj = readFileSync(join(objectDir, 'sigsnoop.bpf.o'));
  const at = obj.indexOf('\0signal_raw\0');
  assert.ok(at > 0 && obj.indexOf('\0signal_raw\0', at + 1) < 0, 'one signal_raw string');
  const renamed = Buffer.from(obj);
  renamed.write('signal_num', at + 1);
  const [f] = (await gen.generate({ btfOf: (d) => (d.name === 'sigsnoop' ? Btf.fromElf(renamed) : undefined) })).filter((x) => x.file.includes('/sigsnoop/'));
  assert.ok(f && f.text !== f.committed);
  assert.equal(gen.lineDiff(f.committed, f.text), '-   signal_raw: number; // __s32\n+   signal_num: number; // __s32');

  // The tracker compiled with the project's options against the regenerated file instead of the committed one.
  const { options } = ts.parseJsonConfigFileContent(ts.readConfigFile(join(repoRoot, 'tsconfig.json'), ts.sys.readFile).config, ts.sys, repoRoot);
  Object.assign(options, { noEmit: true, incremental: false });
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const generated = join(repoRoot, f.file);
  host.readFile = (p) => (p === generated ? f.text : readFile(p));
  const diagnostics = ts.getPreEmitDiagnostics(ts.createProgram([join(repoRoot, 'src/trackers/sigsnoop/index.ts')], options, host));
  const errors = diagnostics.map((d) => `${d.file?.fileName}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
  assert.ok(errors.some((e) => e.includes("Property 'signal_raw' does not exist")), errors.join('\n'));
  assert.ok(diagnostics.every((d) => d.file?.fileName.includes('/src/trackers/sigsnoop/')), `only sigsnoop's code is wrong:\n${errors.join('\n')}`);
});
