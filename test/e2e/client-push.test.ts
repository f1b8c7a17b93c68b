/**
 * `eunomia client push --header/--btf/--raw/--fallback` and the client's counters: the event
 * type's BTF compiled from a tool's header with the real clang, checked against the layout a
 * host compile of the same header gives (what the tool's own user space reads), the package
 * keys, and the CLI against a stand-in HTTP server (the real server's decoding is tested
 * with the server).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { instancesTable, packageFromFile, type InstanceJson } from '../../src/cli/client.js';
import { fileBtf, findClang, headerBtf } from '../../src/cli/header-btf.js';
import { Btf } from '../../src/core/btf/index.js';
import { readElfSections } from '../../src/core/elf.js';
import { ErrorCodes, EunomiaError } from '../../src/core/errors.js';
import { parseProgramPackage, programDescriptor } from '../../src/hotload/index.js';
import { resolveOptions } from '../../src/runtime/options.js';
import type { OptionValues } from '../../src/runtime/types.js';
import { buildBpf, needsClang, repoRoot } from '../helpers.js';

const headers = join(repoRoot, 'test/fixtures/headers');
const snoop = join(headers, 'snoop.h');
const bin = join(repoRoot, 'bin/eunomia.js');
const hostCc = ['cc', 'gcc', 'clang-16'].find((c) => spawnSync(c, ['--version']).status === 0);
const needsHeaderTools: string | false =
  needsClang || (!existsSync(join(repoRoot, 'bpf/include/vmlinux.h')) && 'bpf/include/vmlinux.h is missing (npm run setup generates it)');

function fails(code: string, re: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof EunomiaError, `expected an EunomiaError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, re);
    return true;
  };
}

/** sizeof and offsetof of each field, from the header compiled for this host with <linux/types.h>. */
function hostLayout(types: Record<string, string[]>): Record<string, { size: number; offsets: Record<string, number> }> {
  const dir = mkdtempSync(join(tmpdir(), 'eunomia-layout-'));
  const lines = Object.entries(types).flatMap(([t, fields]) => [
    `printf("%s|size|%zu\\n", "${t}", sizeof(${t}));`,
    ...fields.map((f) => `printf("%s|%s|%zu\\n", "${t}", "${f}", offsetof(${t}, ${f}));`),
  ]);
  writeFileSync(join(dir, 'layout.c'), `#include <stddef.h>\n#include <stdio.h>\n#include <sys/types.h>\n#include <linux/types.h>\n#include "${snoop}"\nint main(void) {\n${lines.join('\n')}\nreturn 0;\n}\n`);
  const cc = spawnSync(hostCc!, ['-o', join(dir, 'layout'), join(dir, 'layout.c')], { encoding: 'utf8' });
  assert.equal(cc.status, 0, cc.stderr);
  const out: Record<string, { size: number; offsets: Record<string, number> }> = {};
  for (const line of spawnSync(join(dir, 'layout'), { encoding: 'utf8' }).stdout.trim().split('\n')) {
    const [t, f, n] = line.split('|');
    out[t!] ??= { size: 0, offsets: {} };
    if (f === 'size') out[t!]!.size = Number(n);
    else out[t!]!.offsets[f!] = Number(n);
  }
  return out;
}

/** The BTF's size and member byte offsets of `name` (a struct or a typedef of one). */
function btfLayout(blob: Buffer, name: string): { size: number; offsets: Record<string, number> } {
  const btf = Btf.parse(blob);
  const t = btf.resolve((btf.find(name, 'struct') ?? btf.find(name, 'typedef'))!.id);
  assert.equal(t.kind, 'struct');
  return { size: t.size!, offsets: Object.fromEntries(t.members!.map((m) => [m.name, m.bitOffset / 8])) };
}

describe('headerBtf: the event type from a tool header, compiled by clang', { skip: needsHeaderTools }, () => {
  test('struct event: the BTF has the size and field offsets of a host compile of the header', { skip: !hostCc && 'no host C compiler (cc, gcc or clang-16)' }, () => {
    const r = headerBtf(snoop, 'event');
    const host = hostLayout({ 'struct event': ['ts', 'pid', 'uid', 'ret', 'comm', 'fname'] })['struct event']!;
    assert.equal(r.struct, 'event');
    assert.equal(r.size, host.size);
    assert.deepEqual(btfLayout(r.btf, 'event'), host);
    // 255 chars after 36 bytes of fields, padded to the u64's alignment: nothing is guessed.
    assert.equal(host.size, 296);
    // The kernel types the fields name come along, so the blob stands alone.
    const btf = Btf.parse(r.btf);
    assert.equal(btf.describe(btf.find('event', 'struct')!.members![1]!.type), 'pid_t');
  });

  test('a typedef name: of an anonymous struct (with padding and a union), and of a named struct', { skip: !hostCc && 'no host C compiler (cc, gcc or clang-16)' }, () => {
    const anon = headerBtf(snoop, 'sample_t');
    const host = hostLayout({ sample_t: ['flags', 'delta_ns', 'port', 'cpu', 'addr'] }).sample_t!;
    assert.equal(anon.struct, '');
    assert.equal(anon.size, host.size);
    assert.deepEqual(btfLayout(anon.btf, 'sample_t'), host);
    assert.deepEqual(host.offsets, { flags: 0, delta_ns: 8, port: 16, cpu: 20, addr: 24 });
    const named = headerBtf(snoop, 'event_t');
    assert.equal(named.struct, 'event');
    assert.equal(named.size, 296);
    assert.equal(Btf.parse(named.btf).find('event_t', 'typedef')?.kind, 'typedef');
  });

  test('a name the header does not define: the error lists what it defines', () => {
    assert.throws(() => headerBtf(snoop, 'evnt'),
      fails(ErrorCodes.USAGE, /^header snoop\.h has no struct or typedef named evnt \(it defines struct event, sample_t, event_t, count_t\) — pass the name of the event struct with --event$/));
    assert.throws(() => headerBtf(snoop, 'count_t'), fails(ErrorCodes.USAGE, /count_t in header snoop\.h is a typedef of int, not of a struct/));
    assert.throws(() => headerBtf(snoop, 'struct event'), fails(ErrorCodes.USAGE, /--event expects a C type name/));
  });

  test('a header that does not compile: clang\'s first error, with file and line', () => {
    assert.throws(() => headerBtf(join(headers, 'broken.h'), 'event'), (e) => {
      fails(ErrorCodes.USAGE, /^header broken\.h does not compile with vmlinux\.h for target bpf — fix it, or pass -I DIR for the headers it includes:\n {2}\S*broken\.h:4:\d+: error: unknown type name 'no_such_type_t'/)(e);
      assert.match((e as EunomiaError).log!, /1 error generated/); // clang's whole output stays on the error
      return true;
    });
  });

  test('a missing header, a missing include, a clang that cannot run', () => {
    assert.throws(() => headerBtf(join(headers, 'nope.h'), 'event'), fails(ErrorCodes.IO, /^header \S*nope\.h not found — give the path of the tool's \.h file$/));
    const dir = mkdtempSync(join(tmpdir(), 'eunomia-hdr-'));
    writeFileSync(join(dir, 'tool.h'), '#include "common.h"\nstruct event { struct common c; };\n');
    assert.throws(() => headerBtf(join(dir, 'tool.h'), 'event'), fails(ErrorCodes.USAGE, /tool\.h:1:\d+: fatal error: 'common\.h' file not found/));
    // -I DIR finds it
    const inc = mkdtempSync(join(tmpdir(), 'eunomia-inc-'));
    writeFileSync(join(inc, 'common.h'), 'struct common { __u32 pid; __u64 ts; };\n');
    assert.equal(headerBtf(join(dir, 'tool.h'), 'event', { includes: [inc] }).size, 16);
    assert.throws(() => headerBtf(snoop, 'event', { clang: '/nonexistent/clang' }),
      fails(ErrorCodes.USAGE, /cannot run clang "\/nonexistent\/clang": ENOENT — install clang, or pass --btf FILE built elsewhere, or --raw/));
  });
});

test('findClang: $CLANG first, then clang-16, then clang on PATH', () => {
  const dir = mkdtempSync(join(tmpdir(), 'eunomia-path-'));
  assert.equal(findClang({ PATH: dir }), undefined);
  writeFileSync(join(dir, 'clang'), '#!/bin/sh\n');
  assert.equal(findClang({ PATH: dir }), undefined, 'not executable: not a clang');
  chmodSync(join(dir, 'clang'), 0o755);
  assert.equal(findClang({ PATH: `/nonexistent:${dir}` }), join(dir, 'clang'));
  writeFileSync(join(dir, 'clang-16'), '#!/bin/sh\n', { mode: 0o755 });
  assert.equal(findClang({ PATH: dir }), join(dir, 'clang-16'));
  assert.equal(findClang({ PATH: dir, CLANG: '/opt/llvm/bin/clang' }), '/opt/llvm/bin/clang');
});

describe('packageFromFile: the package keys', { skip: needsHeaderTools }, () => {
  let tool: string;
  before(() => {
    tool = buildBpf(join(headers, 'tool.bpf.c'));
  });

  test('--header: the object lacks struct event, the package carries its BTF', () => {
    assert.equal(Btf.fromElf(readFileSync(tool)).find('event', 'struct'), undefined, 'a local variable\'s type is not in the BTF');
    const pkg = packageFromFile(tool, { header: snoop, event: 'event', fallback: ['handle_btf,handle_raw'], set: ['targ_pid=5'] }) as Record<string, unknown>;
    assert.deepEqual(Object.keys(pkg), ['name', 'object', 'event', 'btf', 'fallbacks', 'options']);
    assert.equal(pkg.name, 'tool');
    assert.equal(pkg.event, 'event');
    assert.deepEqual(Buffer.from(pkg.object as string, 'base64'), readFileSync(tool));
    assert.equal(btfLayout(Buffer.from(pkg.btf as string, 'base64'), 'event').size, 296);
    assert.deepEqual(pkg.fallbacks, [['handle_btf', 'handle_raw']]);
    assert.deepEqual(pkg.options, { targ_pid: 5 });
  });

  test('--btf: a raw BTF blob as it is, or the .BTF of an object', () => {
    const dir = mkdtempSync(join(tmpdir(), 'eunomia-btf-'));
    const blob = headerBtf(snoop, 'sample_t').btf;
    writeFileSync(join(dir, 'sample.btf'), blob);
    const raw = packageFromFile(tool, { btf: join(dir, 'sample.btf'), event: 'sample_t' }) as Record<string, unknown>;
    assert.deepEqual(Object.keys(raw), ['name', 'object', 'event', 'btf']);
    assert.equal(raw.btf, blob.toString('base64'));
    const lite = buildBpf(join(repoRoot, 'examples/opensnoop-lite/opensnoop.bpf.c'));
    const fromElf = packageFromFile(tool, { btf: lite, event: 'open_lite_event' }) as Record<string, unknown>;
    assert.deepEqual(Buffer.from(fromElf.btf as string, 'base64'), Buffer.from(readElfSections(readFileSync(lite)).get('.BTF')!.data));
    assert.equal(fileBtf(lite, 'open_lite_event').struct, 'open_lite_event');
    // the object itself as --btf: it lacks the struct, and says what it has
    assert.throws(() => packageFromFile(tool, { btf: tool, event: 'event' }), fails(ErrorCodes.USAGE, /^--btf \S*tool\.bpf\.o has no struct or typedef named event \(structs: none\)$/));
    writeFileSync(join(dir, 'junk.btf'), 'not btf');
    assert.throws(() => packageFromFile(tool, { btf: join(dir, 'junk.btf'), event: 'event' }), fails(ErrorCodes.USAGE, /neither raw BTF \(magic 0xeb9f\) nor an ELF object/));
    writeFileSync(join(dir, 'cut.btf'), blob.subarray(0, 40));
    assert.throws(() => packageFromFile(tool, { btf: join(dir, 'cut.btf'), event: 'event' }), fails(ErrorCodes.USAGE, /^--btf \S*cut\.btf: /));
  });

  test('--raw and --fallback', () => {
    const pkg = packageFromFile(tool, { raw: true, fallback: ['handle_btf,handle_raw', 'a, b ,c'] }) as Record<string, unknown>;
    assert.deepEqual(Object.keys(pkg), ['name', 'object', 'raw', 'fallbacks']);
    assert.equal(pkg.raw, true);
    assert.deepEqual(pkg.fallbacks, [['handle_btf', 'handle_raw'], ['a', 'b', 'c']]);
    assert.throws(() => packageFromFile(tool, { fallback: ['handle_btf'] }), fails(ErrorCodes.USAGE, /--fallback expects two or more program names, best first, separated by commas .*got "handle_btf"/));
    assert.throws(() => packageFromFile(tool, { fallback: ['a,,b'] }), fails(ErrorCodes.USAGE, /--fallback expects/));
  });

  test('flags that do not go together', () => {
    const json = join(mkdtempSync(join(tmpdir(), 'eunomia-pkg-')), 'p.json');
    writeFileSync(json, JSON.stringify({ name: 'x', object: '' }));
    assert.throws(() => packageFromFile(tool, { header: snoop }), fails(ErrorCodes.USAGE, /--header needs --event NAME/));
    assert.throws(() => packageFromFile(tool, { btf: tool }), fails(ErrorCodes.USAGE, /--btf needs --event NAME/));
    assert.throws(() => packageFromFile(json, { header: snoop, event: 'event' }), fails(ErrorCodes.USAGE, /--header applies to a compiled object \(\.o\), and \S*p\.json is not one: in a package JSON, set "btf" instead/));
    assert.throws(() => packageFromFile(json, { fallback: ['a,b'] }), fails(ErrorCodes.USAGE, /set "fallbacks" instead/));
    assert.throws(() => packageFromFile(tool, { raw: true, header: snoop, event: 'event' }), fails(ErrorCodes.USAGE, /--raw streams the records undecoded: drop --header/));
    assert.throws(() => packageFromFile(tool, { raw: true, event: 'event' }), fails(ErrorCodes.USAGE, /--raw streams the records undecoded: drop --event/));
    assert.throws(() => packageFromFile(tool, { header: snoop, btf: tool, event: 'event' }), fails(ErrorCodes.USAGE, /pass one/));
    assert.throws(() => packageFromFile(tool, { includes: [headers] }), fails(ErrorCodes.USAGE, /-I is for compiling --header/));
    // a JSON package without the new flags is sent as it is
    assert.deepEqual(packageFromFile(json, {}), { name: 'x', object: '' });
  });
});

test('instancesTable: an UNDECODABLE column next to EVENTS and LOST', () => {
  const list: InstanceJson[] = [
    { id: 3, name: 'opensnoop', kind: 'program', startedAt: '2026-01-02T03:04:05.000Z', stats: { events: 120345, lostKernel: 2, lostQueue: 1, decodeErrors: 17 } },
    { id: 12, name: 'process', kind: 'tracker', startedAt: '2026-01-02T03:04:06.000Z', stats: { events: 5, lostKernel: 0, lostQueue: 0, decodeErrors: 0 } },
  ];
  assert.equal(instancesTable(list), [
    'ID  NAME       KIND     EVENTS  LOST  UNDECODABLE  STARTED',
    '3   opensnoop  program  120345  3     17           2026-01-02T03:04:05.000Z',
    '12  process    tracker  5       0     0            2026-01-02T03:04:06.000Z',
    '',
  ].join('\n'));
});

describe('eunomia client against a stand-in server', () => {
  const requests: { method: string; url: string; body: unknown }[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d));
    req.on('end', () => {
      requests.push({ method: req.method!, url: req.url!, body: text ? JSON.parse(text) : undefined });
      const stats = { events: 10, lostKernel: 2, lostQueue: 1, decodeErrors: 4 };
      const answer = req.method === 'GET' ? { instances: [{ id: 7, name: 'tool', kind: 'program', startedAt: '2026-01-02T03:04:05.000Z', stats }] }
        : req.method === 'DELETE' ? { stats } : { id: 7, name: 'tool', kind: 'program', startedAt: '2026-01-02T03:04:05.000Z', stats };
      res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  });
  let url: string;
  before(async () => {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, [bin, 'client', '--server', url, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const [status] = (await once(child, 'exit')) as [number | null];
    return { status, stdout, stderr };
  }

  test('list and stop show the undecodable count', async () => {
    const list = await cli(['list']);
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, /^ID\s+NAME\s+KIND\s+EVENTS\s+LOST\s+UNDECODABLE\s+STARTED\n7\s+tool\s+program\s+10\s+3\s+4\s+2026-01-02T03:04:05\.000Z\n$/);
    const stop = await cli(['stop', '7']);
    assert.equal(stop.stdout, 'stopped instance 7: 10 events, 3 lost, 4 undecodable\n');
  });

  test('push --header -I --fallback sends the BTF and the groups', { skip: needsHeaderTools }, async () => {
    const tool = buildBpf(join(headers, 'tool.bpf.c'));
    requests.length = 0;
    const r = await cli(['push', tool, '--header', snoop, '-I', headers, '--event', 'event', '--fallback', 'handle_btf,handle_raw']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'loaded tool as instance 7\n');
    assert.equal(requests.length, 1);
    const { method, url: path, body } = requests[0]!;
    assert.equal(`${method} ${path}`, 'POST /instances');
    const pkg = (body as { program: Record<string, unknown> }).program;
    assert.deepEqual(Object.keys(pkg), ['name', 'object', 'event', 'btf', 'fallbacks']);
    assert.deepEqual(btfLayout(Buffer.from(pkg.btf as string, 'base64'), 'event'), btfLayout(headerBtf(snoop, 'event').btf, 'event'));
  });

  test('push --header with no clang: a usage error that says what to do, and nothing sent', { skip: needsHeaderTools }, async () => {
    // Only the ELF magic is looked at before clang is looked for.
    const obj = join(mkdtempSync(join(tmpdir(), 'eunomia-obj-')), 'x.bpf.o');
    writeFileSync(obj, Buffer.concat([Buffer.from('\x7fELF', 'latin1'), Buffer.alloc(60)]));
    requests.length = 0;
    const r = await cli(['push', obj, '--header', snoop, '--event', 'event'], { PATH: '/nonexistent', CLANG: '' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /eunomia: --header needs clang to compile snoop\.h, and neither \$CLANG, clang-16 nor clang is on PATH — install clang, or pass --btf FILE built elsewhere, or --raw/);
    assert.equal(requests.length, 0);
  });

  test("push PACKAGE -- FLAGS: an eunomia-bpf package's own flags (ecli's, from its globals) become its options", { skip: needsHeaderTools }, async () => {
    const obj = readFileSync(buildBpf(join(repoRoot, 'test/fixtures/ecli/writesize.bpf.c')));
    const skel = JSON.parse(readFileSync(join(repoRoot, 'test/fixtures/ecli/writesize.skel.json'), 'utf8')) as { bpf_skel: Record<string, unknown> };
    const file = join(mkdtempSync(join(tmpdir(), 'eunomia-pkg-')), 'package.json');
    writeFileSync(file, JSON.stringify({ ...skel, bpf_skel: { ...skel.bpf_skel, data: obj.toString('base64'), data_sz: obj.length } }));
    requests.length = 0;
    const r = await cli(['push', file, '--', '--pid', '42', '-m', '2', '--disable-per_fd']);
    assert.equal(r.status, 0, r.stderr);
    const { program, options } = requests[0]!.body as { program: unknown; options: OptionValues };
    assert.deepEqual(options, { target_tgid: '42', min_bytes: '2', 'disable-per_fd': true }, 'as the flags read, like "client start"');
    // What the server makes of them: the same package, the same descriptor.
    const { globals } = resolveOptions(programDescriptor(parseProgramPackage(program)), options, process.pid);
    // Integer strings are what JSON carries for a u64; the BTF encoder reads them.
    assert.deepEqual({ target_tgid: globals.target_tgid, min_bytes: globals.min_bytes, per_fd: globals.per_fd }, { target_tgid: '42', min_bytes: '2', per_fd: false });
    const bad = await cli(['push', file, '--', '--targ_pid', '42']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /Unknown option '--targ_pid'/);
    assert.equal(requests.length, 1, 'nothing sent for a bad flag');
  });

  test('push a libbpf skeleton tool: the eBPF object it embeds is sent', { skip: !existsSync('/usr/sbin/tcpstates') && "Debian's libbpf-tools is not installed (scripts/test-env.sh installs it)" }, async () => {
    requests.length = 0;
    const r = await cli(['push', '/usr/sbin/tcpstates', '--raw']);
    assert.equal(r.status, 0, r.stderr);
    const pkg = (requests[0]!.body as { program: { name: string; object: string; raw: boolean } }).program;
    assert.equal(pkg.name, 'tcpstates');
    const obj = Buffer.from(pkg.object, 'base64');
    assert.equal(obj.readUInt16LE(18), 247, 'an EM_BPF object, not the x86-64 program');
    assert.ok(parseProgramPackage(pkg).programs.some((p) => p.section === 'tracepoint/sock/inet_sock_set_state'));
    const none = await cli(['push', '/bin/true', '--raw']);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /is a program with no eBPF object inside \(libbpf skeleton tools embed theirs\): push its \.bpf\.o/);
  });
});
