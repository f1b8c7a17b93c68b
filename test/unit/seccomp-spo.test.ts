/**
 * The Security Profiles Operator resource: the YAML read back and checked against a JSON schema
 * written here from the real CRD (kubernetes-sigs/security-profiles-operator,
 * api/seccompprofile/v1beta1/seccompprofile_types.go and deploy/base-crds/crds/seccompprofile.yaml):
 * field names and enums as the operator declares them. Unknown fields are refused here, where the
 * API server would prune them silently (a `comment` or `defaultErrnoRet` would vanish).
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import type { Ajv as AjvType } from 'ajv';
import { parse } from 'yaml';
import { isEunomiaError } from '../../src/core/errors.js';
import { noArgs, toProfile } from '../../src/seccomp/profile.js';
import { readProfile } from '../../src/seccomp/read.js';
import { toSpo } from '../../src/seccomp/spo.js';
import type { Recording } from '../../src/seccomp/types.js';

const { Ajv } = createRequire(import.meta.url)('ajv') as { Ajv: new (o: object) => AjvType };

// The CRD's enums (+kubebuilder:validation:Enum markers).
const ACTIONS = ['SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP', 'SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY'];
const ARCHES = ['SCMP_ARCH_NATIVE', 'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64',
  'SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32', 'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64', 'SCMP_ARCH_MIPSEL64N32',
  'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64', 'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390', 'SCMP_ARCH_S390X', 'SCMP_ARCH_PARISC',
  'SCMP_ARCH_PARISC64', 'SCMP_ARCH_RISCV64'];
const OPS = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'];
const FLAGS = ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'];
const INT32 = 2147483647;

const schema = {
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  additionalProperties: false,
  properties: {
    apiVersion: { const: 'security-profiles-operator.x-k8s.io/v1beta1' },
    kind: { const: 'SeccompProfile' },
    metadata: {
      type: 'object',
      required: ['name'],
      additionalProperties: false,
      properties: {
        name: { type: 'string', maxLength: 253, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$' },
        namespace: { type: 'string', maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' },
        annotations: { type: 'object', additionalProperties: { type: 'string' } },
      },
    },
    spec: {
      type: 'object',
      required: ['defaultAction'],
      additionalProperties: false,
      properties: {
        baseProfileName: { type: 'string' },
        defaultAction: { enum: ACTIONS },
        architectures: { type: 'array', uniqueItems: true, items: { enum: ARCHES } },
        listenerPath: { type: 'string', pattern: '^/var/run/security-profiles-operator/[a-zA-Z0-9_\\-\\.]+$' },
        listenerMetadata: { type: 'string' },
        flags: { type: 'array', uniqueItems: true, items: { enum: FLAGS } },
        state: { enum: ['Enabled', 'Disabled'] },
        syscalls: {
          type: 'array',
          items: {
            type: 'object',
            required: ['action', 'names'],
            additionalProperties: false,
            properties: {
              names: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string' } },
              action: { enum: ACTIONS },
              errnoRet: { type: 'integer', minimum: 0, maximum: INT32 },
              args: {
                type: 'array',
                maxItems: 6,
                items: {
                  type: 'object',
                  required: ['index', 'op'],
                  additionalProperties: false,
                  properties: {
                    index: { type: 'integer', minimum: 0, maximum: INT32 },
                    value: { type: 'integer', minimum: 0 },
                    valueTwo: { type: 'integer', minimum: 0 },
                    op: { enum: OPS },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
};
const validate = new Ajv({ allErrors: true, strict: true }).compile(schema);

const recording: Recording = {
  target: { kind: 'container', name: 'web', id: 'ab'.repeat(32), image: 'nginx:1.27' },
  started: '2024-06-01T08:00:00.000Z', ended: '2024-06-01T08:10:00.000Z', gate: 'filter',
  syscalls: { accept4: 20, socket: 2, bind: 2, listen: 2, clone: 4, epoll_wait: 50, read: 90, write: 80, close: 40, openat: 30, prctl: 1, personality: 1 },
  unnamed: [], compatCalls: 0,
  args: { ...noArgs(), socketFamilies: [1, 2, 10], prctlOptions: [15], personalities: [0xffffffff] },
  capabilities: { used: ['CAP_NET_BIND_SERVICE'], denied: [] },
};

type Resource = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; annotations?: Record<string, string> }; spec: { syscalls: Record<string, unknown>[]; [k: string]: unknown } };

test('toSpo: a SeccompProfile the CRD\'s schema accepts, the profile\'s rules kept', () => {
  const profile = toProfile([recording]);
  const text = toSpo(profile, 'web-nginx');
  assert.ok(text.startsWith('# A seccomp profile for the Security Profiles Operator, made by Eunomia.\n'));
  const r = parse(text) as Resource;
  assert.ok(validate(r), JSON.stringify(validate.errors));
  assert.equal(r.apiVersion, 'security-profiles-operator.x-k8s.io/v1beta1');
  assert.equal(r.kind, 'SeccompProfile');
  assert.deepEqual(r.metadata, {
    name: 'web-nginx',
    annotations: {
      'eunomia/runs': '1',
      'eunomia/targets': 'r1 container web (nginx:1.27)',
      'eunomia/recorded': '2024-06-01T08:00:00.000Z to 2024-06-01T08:10:00.000Z',
      'eunomia/seen': '12',
      'eunomia/base-list': profile.eunomia!.base.join(', '),
    },
  });
  assert.equal(r.spec.defaultAction, 'SCMP_ACT_ERRNO');
  assert.deepEqual(r.spec.architectures, ['SCMP_ARCH_X86_64']);
  // The same rules, without what the CRD has no field for (comments; defaultErrnoRet 1 is the runtimes' default).
  assert.deepEqual(r.spec.syscalls, profile.syscalls.map(({ comment: _c, ...rule }) => rule));
  assert.ok(!('defaultErrnoRet' in r.spec));
  assert.deepEqual(r.spec.syscalls.find((s) => (s.names as string[])[0] === 'personality'),
    { action: 'SCMP_ACT_ALLOW', names: ['personality'], args: [{ index: 0, value: 0xffffffff, op: 'SCMP_CMP_EQ' }] });
});

test('the schema written from the CRD refuses a wrong action or operator', () => {
  const r = parse(toSpo(toProfile([recording]), 'web')) as Resource;
  const wrongAction = structuredClone(r);
  wrongAction.spec.syscalls[0]!.action = 'SCMP_ACT_DENY';
  assert.equal(validate(wrongAction), false);
  const wrongOp = structuredClone(r);
  (wrongOp.spec.syscalls.find((s) => s.args)!.args as { op: string }[])[0]!.op = 'SCMP_CMP_EQUAL';
  assert.equal(validate(wrongOp), false);
  const wrongDefault = structuredClone(r);
  wrongDefault.spec.defaultAction = 'SCMP_ACT_REFUSE';
  assert.equal(validate(wrongDefault), false);
});

test('toSpo: namespace (for operators before 0.9), kill mode, archMap, and a profile read from a file', () => {
  const r = parse(toSpo(toProfile([recording], { mode: 'kill' }), 'web', 'shop')) as Resource;
  assert.ok(validate(r), JSON.stringify(validate.errors));
  assert.equal(r.metadata.namespace, 'shop');
  assert.equal(r.spec.defaultAction, 'SCMP_ACT_KILL_PROCESS');
  const mapped = readProfile(JSON.stringify({
    defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 1,
    archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] }, { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] }],
    syscalls: [{ names: ['read', 'write'], action: 'SCMP_ACT_ALLOW', comment: 'io' }],
  }), 'p.json');
  const m = parse(toSpo(mapped, 'mapped')) as Resource;
  assert.ok(validate(m), JSON.stringify(validate.errors));
  assert.deepEqual(m.spec.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  assert.equal(m.metadata.annotations, undefined);
});

test('toSpo refuses what a SeccompProfile cannot say, and names Kubernetes refuses', () => {
  const refuses = (f: () => unknown, code: string, message: string): void =>
    assert.throws(f, (e: unknown) => isEunomiaError(e) && e.code === code && (assert.equal(e.message, message), true));
  const conditional = readProfile(JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [
    { names: ['read'], action: 'SCMP_ACT_ALLOW' },
    { names: ['bpf', 'mount'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
  ] }), 'p.json');
  refuses(() => toSpo(conditional, 'x'), 'E_PROFILE',
    "syscalls[1] (bpf, mount): includes/excludes are Docker's conditions on the machine, capabilities or kernel, and a SeccompProfile has no such field — make the profile for one machine first (Eunomia's own profiles have none)");
  const enosys = readProfile(JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 38, syscalls: [] }), 'p.json');
  refuses(() => toSpo(enosys, 'x'), 'E_PROFILE',
    'defaultErrnoRet 38: a SeccompProfile has no defaultErrnoRet, and refused calls would fail with EPERM (1) instead — make the profile with defaultErrnoRet 1, or none');
  refuses(() => toSpo(toProfile([recording]), 'Web_1'), 'E_USAGE',
    'SeccompProfile name "Web_1": a Kubernetes name is lowercase letters, digits, \'-\' and \'.\', starting and ending with a letter or digit (253 characters at most)');
  refuses(() => toSpo(toProfile([recording]), 'web', 'my.ns'), 'E_USAGE',
    'namespace "my.ns": a Kubernetes namespace is lowercase letters, digits and \'-\', starting and ending with a letter or digit (63 characters at most)');
});
