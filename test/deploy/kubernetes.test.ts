/**
 * The Kubernetes deployment (deploy/helm/eunomia, deploy/kubernetes): no cluster runs here, so
 * the chart is rendered by test/deploy/k8s-render.go (Helm's engine's parts, see there) with the
 * default values and several value sets, and every manifest — rendered or plain — is checked
 * against the Kubernetes schemas (test/deploy/k8s-validate.ts), then for what matters: host
 * PID, the probe, the token as a file, read-only mounts, capabilities, monitors that select
 * the Service and pods. The config the chart writes is checked by the agent's own parser, and
 * the agent is started with the DaemonSet's arguments to answer the readiness probe.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:http';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort, isRoot } from '../helpers.js';
import { buildRenderer, chartDir, parseManifests, render, repoRoot, type Rendered } from './k8s-render.js';
import { packageVersion, unknownFields, validateSchema, type Manifest } from './k8s-validate.js';

const bin = join(repoRoot, 'bin', 'eunomia.js');
const plainDir = join(repoRoot, 'deploy', 'kubernetes');

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const RULE = `- rule: k8s_deploy_test_rule
  desc: a rule shipped in the chart's values (the deploy test's)
  priority: notice
  events: [process]
  condition: type = exec and comm = "k8s-deploy-test"
  output: "test rule {comm}"
`;

/** The value sets the chart is rendered with: each must render, validate and hold its promise. */
const VALUE_SETS: Record<string, object[]> = {
  defaults: [],
  'token from an existing Secret': [{ token: { existingSecret: 'my-token', key: 'api-token' } }],
  'ServiceMonitor on': [{ metrics: { serviceMonitor: { enabled: true, labels: { release: 'kube-prometheus' } } } }],
  'PodMonitor on': [{ metrics: { podMonitor: { enabled: true } } }],
  'OTLP endpoint': [{ otel: { endpoint: 'http://otel-collector.observability:4318', events: ['process'], intervalMs: 15000 } }],
  'extra rules, trackers, config': [
    {
      rules: { extra: { 'local.yaml': RULE }, disable: ['shell_in_container'] },
      trackers: [{ name: 'process' }, { name: 'opensnoop', options: { failed: true } }],
      config: { metrics: { max_series: 5000 } },
    },
  ],
  'no metrics, emptyDir store, every runtime, debugfs, privileged': [
    {
      metrics: { enabled: false },
      store: { type: 'emptyDir' },
      runtimes: { docker: { enabled: true }, podman: { enabled: true } },
      debugfs: true,
      privileged: true,
      extraArgs: ['--no-containers'],
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'infra', effect: 'NoSchedule' }],
    },
  ],
  'no store, given token, two -f files merged': [{ store: { type: 'none' }, token: { value: 'k8s-deploy-test-token-0123456789' } }, { metrics: { port: 9101 } }],
};

/** deploy/kubernetes/ is the chart rendered with these values (EUNOMIA_WRITE_DEPLOY=1 rewrites it). */
const PLAIN_VALUES = [{ token: { existingSecret: 'eunomia-token' }, metrics: { serviceMonitor: { enabled: true }, podMonitor: { enabled: true } } }];
const HAND_WRITTEN = ['00-namespace.yaml', 'examples/token-secret.yaml'];
const PLAIN_HEADER =
  '# Generated from the Helm chart deploy/helm/eunomia (values: PLAIN_VALUES in test/deploy/kubernetes.test.ts),\n' +
  '# less its two Helm-only labels. Edit the chart, then: EUNOMIA_WRITE_DEPLOY=1 node scripts/run-tests.js deploy/kubernetes\n';

/**
 * Without root, scripts/test-env.sh cannot install Go and its libraries: then (only then) the
 * tests that render skip, saying so. As root a missing renderer is a failure.
 */
const noRenderer: string | false = (() => {
  try {
    buildRenderer();
    return false;
  } catch (e) {
    return !isRoot && `the chart's renderer cannot be built without root's scripts/test-env.sh: ${(e as Error).message.split('\n')[0]}`;
  }
})();

const renders = new Map<string, Rendered>();
/** A value set's rendering, made once. */
const rendered = (name: string): Rendered => {
  if (!renders.has(name)) renders.set(name, render(VALUE_SETS[name]!));
  return renders.get(name)!;
};
const one = (r: Rendered, kind: string, suffix = ''): Obj | undefined => r.manifests.find((m) => m.doc.kind === kind && String((m.doc.metadata as Obj).name).endsWith(suffix))?.doc as Obj | undefined;
const must = (r: Rendered, kind: string, suffix = ''): Obj => {
  const d = one(r, kind, suffix);
  assert.ok(d, `a ${kind}${suffix ? ` named *${suffix}` : ''} is rendered`);
  return d;
};
const container = (ds: Obj): Obj => ds.spec.template.spec.containers[0];
/** The value after a flag in the container's args. */
const flag = (args: string[], name: string): string | undefined => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
};

/** Files of deploy/kubernetes/, relative. */
function plainFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name), `${rel}${e.name}/`);
      else if (e.name.endsWith('.yaml')) out.push(`${rel}${e.name}`);
    }
  };
  walk(plainDir, '');
  return out.sort();
}

/** The plain manifests the chart gives: file → text. */
function plainFromChart(): Map<string, string> {
  const r = render(PLAIN_VALUES);
  assert.equal(r.status, 0, r.stderr);
  const files = new Map<string, string>();
  for (const part of r.stdout.split(/^---\n/m).filter((p) => p.trim())) {
    const src = /^# Source: (.+)\n/.exec(part)![1]!;
    const name = basename(src);
    const file = /monitor/.test(name) ? `prometheus-operator/${name}` : name;
    const body = part
      .replace(/^# Source: .+\n/, '')
      .split('\n')
      .filter((l) => !/^\s+(helm\.sh\/chart|app\.kubernetes\.io\/managed-by): /.test(l))
      .join('\n');
    files.set(file, `${files.has(file) ? `${files.get(file)}---\n` : PLAIN_HEADER}${body.endsWith('\n') ? body : `${body}\n`}`);
  }
  return files;
}

describe('Helm chart: rendered and validated against the Kubernetes schemas', { skip: noRenderer }, () => {
  let strict: string[] = [];
  before(() => {
    for (const name of Object.keys(VALUE_SETS)) rendered(name);
    // One compile for every value set's manifests (~2 s), each named by its set.
    strict = unknownFields([...renders].flatMap(([name, r]) => r.manifests.map((m) => ({ ...m, source: `[${name}] ${m.source}` }))));
    process.stderr.write(`# rendered by test/deploy/k8s-render.go; validated by kubernetes-models ${packageVersion('kubernetes-models')}, @kubernetes-models/prometheus-operator ${packageVersion('@kubernetes-models/prometheus-operator')}\n`);
  });

  for (const name of Object.keys(VALUE_SETS)) {
    test(`${name}: renders, and every manifest passes the schemas with no unknown field`, async () => {
      const r = renders.get(name)!;
      assert.equal(r.status, 0, `render failed: ${r.stderr}`);
      assert.ok(r.manifests.length >= 3, 'manifests rendered');
      for (const m of r.manifests) await validateSchema(m);
      assert.deepEqual(
        strict.filter((e) => e.startsWith(`[${name}] `) || !e.startsWith('[')),
        [],
      );
    });
  }

  test('the DaemonSet: host PID, probe on /health at the API port, token as a file from a Secret, API off loopback only with it', () => {
    for (const [name, r] of renders) {
      const ds = must(r, 'DaemonSet');
      const pod = ds.spec.template.spec;
      const c = container(ds);
      assert.equal(pod.hostPID, true, name);
      assert.equal(pod.automountServiceAccountToken, false, `${name}: the agent needs no API server token`);
      // the selector selects the pod template
      for (const [k, v] of Object.entries(ds.spec.selector.matchLabels)) assert.equal(ds.spec.template.metadata.labels[k], v, `${name}: selector ${k}`);
      assert.deepEqual(c.command, ['eunomia', 'server'], `${name}: the agent, as the image installs it`);
      // readiness: GET /health on the port the API listens on
      const listen = flag(c.args, '--listen')!;
      const apiPort = c.ports.find((p: Obj) => p.name === 'api');
      assert.equal(c.readinessProbe.httpGet.path, '/health', name);
      assert.equal(c.readinessProbe.httpGet.port, 'api', name);
      assert.equal(Number(listen.split(':').pop()), apiPort.containerPort, `${name}: --listen ${listen} is the api port`);
      // off loopback (a probe from the kubelet reaches it) only with a token, from a Secret, as a file
      assert.doesNotMatch(listen, /^(127\.|localhost|\[::1\])/, name);
      const tokenFile = flag(c.args, '--token-file');
      assert.ok(tokenFile, `${name}: --token-file given`);
      assert.ok(!c.args.includes('--token'), `${name}: no token on the command line`);
      const mount = c.volumeMounts.find((m: Obj) => tokenFile!.startsWith(`${m.mountPath}/`));
      assert.ok(mount, `${name}: the token file is on a mount`);
      assert.equal(mount.readOnly, true);
      const vol = pod.volumes.find((v: Obj) => v.name === mount.name);
      assert.ok(vol.secret, `${name}: the token's volume is a Secret`);
      assert.equal(`${mount.mountPath}/${vol.secret.items[0].path}`, tokenFile);
      assert.equal(vol.secret.defaultMode, 0o400);
      for (const e of c.env ?? []) assert.ok(!/TOKEN/i.test(e.name) && !e.valueFrom?.secretKeyRef, `${name}: no token in env ${e.name}`);
      // the Secret: the chart's, or the one named
      const values = Object.assign({}, ...VALUE_SETS[name]!) as Obj;
      if (values.token?.existingSecret) {
        assert.equal(vol.secret.secretName, values.token.existingSecret);
        assert.equal(vol.secret.items[0].key, values.token.key);
        assert.equal(one(r, 'Secret'), undefined, `${name}: no Secret made`);
      } else {
        const s = must(r, 'Secret');
        assert.equal(vol.secret.secretName, s.metadata.name);
        const token = Buffer.from(s.data.token, 'base64').toString();
        assert.ok(token.length >= 16, `${name}: the agent takes tokens of 16 characters or more`);
        if (values.token?.value) assert.equal(token, values.token.value);
      }
    }
  });

  test('the DaemonSet: capabilities, not privileged unless asked, host mounts read-only, the node name', () => {
    for (const [name, r] of renders) {
      const ds = must(r, 'DaemonSet');
      const pod = ds.spec.template.spec;
      const c = container(ds);
      const sc = c.securityContext;
      const values = Object.assign({}, ...VALUE_SETS[name]!) as Obj;
      if (values.privileged) {
        assert.equal(sc.privileged, true, name);
      } else {
        assert.equal(sc.privileged, false, name);
        assert.deepEqual(sc.capabilities.drop, ['ALL']);
        for (const cap of ['BPF', 'PERFMON', 'SYS_RESOURCE', 'SYS_PTRACE']) assert.ok(sc.capabilities.add.includes(cap), `${name}: ${cap}`);
        assert.equal(sc.seccompProfile.type, 'Unconfined');
      }
      assert.equal(sc.readOnlyRootFilesystem, true);
      const hostPaths = new Map<string, Obj>(pod.volumes.filter((v: Obj) => v.hostPath).map((v: Obj) => [v.name, v]));
      const mounted = new Map<string, string>();
      for (const m of c.volumeMounts) {
        const hp = hostPaths.get(m.name);
        if (!hp) continue;
        mounted.set(hp.hostPath.path, m.mountPath);
        // the store is the one host directory the agent writes
        if (m.mountPath === '/var/lib/eunomia') assert.notEqual(m.readOnly, true, `${name}: the store is writable`);
        else assert.equal(m.readOnly, true, `${name}: ${m.mountPath} read-only`);
      }
      for (const p of ['/sys/kernel/btf', '/sys/kernel/tracing', '/sys/fs/cgroup']) assert.equal(mounted.get(p), p, `${name}: ${p} mounted`);
      if (values.runtimes?.containerd?.enabled !== false) {
        assert.equal(mounted.get('/run/containerd'), '/run/containerd', `${name}: containerd's socket and k8s.io task directory`);
        assert.equal(c.volumeMounts.find((m: Obj) => m.mountPath === '/run/containerd').mountPropagation, 'HostToContainer');
      }
      if (values.runtimes?.docker?.enabled) assert.equal(hostPaths.get('docker-socket')!.hostPath.type, 'Socket');
      if (values.debugfs) assert.equal(mounted.get('/sys/kernel/debug'), '/sys/kernel/debug');
      assert.ok(c.env.some((e: Obj) => e.name === 'NODE_NAME' && e.valueFrom.fieldRef.fieldPath === 'spec.nodeName'), name);
      if (values.tolerations === undefined) assert.deepEqual(pod.tolerations, [{ operator: 'Exists' }], `${name}: every node, tainted or not`);
      else assert.deepEqual(pod.tolerations, values.tolerations);
    }
  });

  test('metrics: the Service, the ServiceMonitor and the PodMonitor select the agents and their "metrics" port', () => {
    for (const [name, r] of renders) {
      const ds = must(r, 'DaemonSet');
      const podLabels = ds.spec.template.metadata.labels as Obj;
      const c = container(ds);
      const values = Object.assign({}, ...VALUE_SETS[name]!) as Obj;
      const metricsPort = c.ports.find((p: Obj) => p.name === 'metrics');
      if (values.metrics?.enabled === false) {
        assert.equal(metricsPort, undefined);
        assert.equal(flag(c.args, '--metrics-listen'), 'off');
        assert.equal(one(r, 'Service'), undefined);
        continue;
      }
      assert.equal(flag(c.args, '--metrics-listen'), `0.0.0.0:${metricsPort.containerPort}`, name);
      assert.equal(metricsPort.containerPort, values.metrics?.port ?? 8528);
      const svc = must(r, 'Service');
      for (const [k, v] of Object.entries(svc.spec.selector)) assert.equal(podLabels[k], v, `${name}: Service selects the pods by ${k}`);
      const svcPort = svc.spec.ports.find((p: Obj) => p.name === 'metrics');
      assert.equal(svcPort.targetPort, 'metrics');
      assert.ok(!svc.spec.ports.some((p: Obj) => p.port === 8527 || p.targetPort === 'api'), `${name}: the API is not in the Service`);
      const sm = one(r, 'ServiceMonitor');
      assert.equal(sm !== undefined, values.metrics?.serviceMonitor?.enabled === true, `${name}: ServiceMonitor only when asked`);
      if (sm) {
        for (const [k, v] of Object.entries(sm.spec.selector.matchLabels)) assert.equal(svc.metadata.labels[k], v, `ServiceMonitor selects the Service by ${k}`);
        assert.deepEqual(sm.spec.namespaceSelector.matchNames, [svc.metadata.namespace]);
        assert.equal(sm.spec.endpoints[0].port, svcPort.name);
        assert.equal(sm.metadata.labels.release, 'kube-prometheus', 'the labels a Prometheus selects monitors by');
      }
      const pm = one(r, 'PodMonitor');
      assert.equal(pm !== undefined, values.metrics?.podMonitor?.enabled === true, `${name}: PodMonitor only when asked`);
      if (pm) {
        for (const [k, v] of Object.entries(pm.spec.selector.matchLabels)) assert.equal(podLabels[k], v, `PodMonitor selects the pods by ${k}`);
        assert.equal(pm.spec.podMetricsEndpoints[0].port, metricsPort.name);
      }
      for (const mon of [sm, pm].filter(Boolean) as Obj[]) {
        const rl = (mon.spec.endpoints ?? mon.spec.podMetricsEndpoints)[0].relabelings as Obj[];
        assert.ok(rl.some((x) => x.targetLabel === 'job' && x.replacement === 'eunomia'), 'job "eunomia", as deploy/prometheus alerts expect');
        assert.ok(rl.some((x) => x.targetLabel === 'instance' && x.sourceLabels?.[0] === '__meta_kubernetes_pod_node_name'), 'instance = node');
        // The series' own pod/namespace/container labels are the watched containers': the
        // operator's target labels of the same names must not be attached to them.
        assert.ok(rl.some((x) => x.action === 'labeldrop' && new RegExp(`^${x.regex}$`).test('pod') && new RegExp(`^${x.regex}$`).test('namespace')), 'labeldrop pod|namespace');
      }
    }
  });

  test('OTLP: the endpoint goes into the config, the node name into the resource', () => {
    const r = renders.get('OTLP endpoint')!;
    const cfg = JSON.parse(must(r, 'ConfigMap', '-config').data['config.json']) as Obj;
    assert.deepEqual(cfg.otel, { enabled: true, protocol: 'http/protobuf', metrics: true, alerts: true, events: ['process'], interval_ms: 15000 });
    const env = container(must(r, 'DaemonSet')).env as Obj[];
    // the endpoint as the variable the agent reads when the config has none (docs/otel.md),
    // so that Kubernetes expands $(NODE_IP) in it
    assert.deepEqual(env.find((e) => e.name === 'OTEL_EXPORTER_OTLP_ENDPOINT'), { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: 'http://otel-collector.observability:4318' });
    assert.deepEqual(env.find((e) => e.name === 'OTEL_RESOURCE_ATTRIBUTES'), { name: 'OTEL_RESOURCE_ATTRIBUTES', value: 'k8s.node.name=$(NODE_NAME)' });
    // variables are expanded only from those defined before them
    const names = env.map((e) => e.name);
    assert.ok(names.indexOf('NODE_NAME') < names.indexOf('OTEL_RESOURCE_ATTRIBUTES'));
    assert.ok(names.indexOf('NODE_IP') < names.indexOf('OTEL_EXPORTER_OTLP_ENDPOINT'));
    const local = render([{ otel: { endpoint: 'http://$(NODE_IP):4318' } }]);
    assert.equal(local.status, 0, local.stderr);
    assert.equal(container(must(local, 'DaemonSet')).env.find((e: Obj) => e.name === 'OTEL_EXPORTER_OTLP_ENDPOINT').value, 'http://$(NODE_IP):4318');
    assert.equal(JSON.parse(must(renders.get('defaults')!, 'ConfigMap', '-config').data['config.json']).otel, undefined, 'no export by default');
  });

  test('a changed config rolls the agents (checksum annotation)', () => {
    const sum = (r: Rendered): string => must(r, 'DaemonSet').spec.template.metadata.annotations['checksum/config'];
    assert.match(sum(renders.get('defaults')!), /^[0-9a-f]{64}$/);
    assert.notEqual(sum(renders.get('defaults')!), sum(renders.get('extra rules, trackers, config')!));
    assert.equal(sum(renders.get('defaults')!), sum(renders.get('PodMonitor on')!));
  });

  test('NOTES.txt renders', () => {
    const r = render([], { notes: true });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /port-forward/);
    assert.match(r.stdout, /get secret eunomia-token/);
  });
});

describe('bad values fail at render time, naming the problem (values.schema.json)', { skip: noRenderer }, () => {
  const cases: [string, object, RegExp][] = [
    ['a port as a string', { api: { port: '8527' } }, /api\.port: Invalid type\. Expected: integer, given: string/],
    ['an unknown store type', { store: { type: 'disk' } }, /store\.type: store\.type must be one of the following/],
    ['a token too short', { token: { value: 'short' } }, /token\.value/],
    ['a misspelled key', { tolerations2: [] }, /Additional property tolerations2 is not allowed/],
    ['a misspelled nested key', { metrics: { serviceMonitor: { enable: true } } }, /metrics\.serviceMonitor: Additional property enable is not allowed/],
    ['a rule file not ending .yaml', { rules: { extra: { 'local.txt': RULE } } }, /rules\.extra/],
    ['an OTLP endpoint that is no URL', { otel: { endpoint: 'otel-collector:4318' } }, /otel\.endpoint/],
  ];
  for (const [what, values, message] of cases) {
    test(what, () => {
      const r = render([values]);
      assert.notEqual(r.status, 0, `${what} must not render`);
      assert.match(r.stderr, /values don't meet the specifications of the schema/);
      assert.match(r.stderr, message);
    });
  }
  test('a monitor without metrics is refused by the chart', () => {
    const r = render([{ metrics: { enabled: false, serviceMonitor: { enabled: true } } }]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /metrics\.serviceMonitor\.enabled needs metrics\.enabled/);
  });
});

describe('the renderer refuses what it does not implement, rather than render it wrong', { skip: noRenderer }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'k8s-deploy-chart-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const chartWith = (name: string, template: string, extra: Record<string, string> = {}): string => {
    const c = join(dir, name);
    mkdirSync(join(c, 'templates'), { recursive: true });
    writeFileSync(join(c, 'Chart.yaml'), readFileSync(join(chartDir, 'Chart.yaml')));
    writeFileSync(join(c, 'values.yaml'), 'a: 1\n');
    writeFileSync(join(c, 'templates', 'x.yaml'), template);
    for (const [f, t] of Object.entries(extra)) writeFileSync(join(c, f), t);
    return c;
  };
  const cases: [string, string, RegExp][] = [
    ['tpl', 'a: {{ tpl "x" . }}\n', /function "tpl" not defined/],
    ['lookup', 'a: {{ lookup "v1" "Secret" "ns" "n" }}\n', /function "lookup" not defined/],
    ['.Files', 'a: {{ .Files.Get "x" }}\n', /can't evaluate field Files/],
    ['.Capabilities', 'a: {{ .Capabilities.KubeVersion }}\n', /can't evaluate field Capabilities/],
    ['env (Helm removes it)', 'a: {{ env "HOME" }}\n', /function "env" not defined/],
    ['a value that is not there', 'a: {{ .Values.b }}\n', /map has no entry for key "b"/],
  ];
  for (const [what, template, message] of cases) {
    test(what, () => {
      const r = render([], { chart: chartWith(what.replace(/\W/g, ''), template) });
      assert.notEqual(r.status, 0, `${what} must fail`);
      assert.match(r.stderr, message);
    });
  }
  test('the same renderer renders what it implements (the control case)', () => {
    const r = render([{ a: 2 }], { chart: chartWith('control', 'a: {{ .Values.a }}\nb: {{ include "t" . }}\nc: {{ .Release.Namespace }}/{{ .Chart.Name }}\n{{- define "t" }}{{ .Values.a | toYaml }}{{ end }}\n') });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^---\n# Source: eunomia\/templates\/x\.yaml\na: 2\nb: 2\nc: eunomia\/eunomia$/m);
  });
});

describe('the validation bites: broken manifests are refused', { skip: noRenderer }, () => {
  const ds = (): Manifest => structuredClone(render([]).manifests.find((m) => m.doc.kind === 'DaemonSet')!);
  test('a field of the wrong type (hostPID: "yes")', async () => {
    const m = ds();
    (m.doc as Obj).spec.template.spec.hostPID = 'yes';
    await assert.rejects(validateSchema(m), /hostPID must be boolean/);
    assert.match(unknownFields([m]).join('\n'), /Type 'string' is not assignable to type 'boolean( \| undefined)?'/);
  });
  test('a required field missing (the container image name)', async () => {
    const m = ds();
    delete (m.doc as Obj).spec.template.spec.containers[0].name;
    await assert.rejects(validateSchema(m), /containers\/0 must have required property '?name'?/);
  });
  test('a misspelled field (readonly), which the schemas alone let through', async () => {
    const m = ds();
    const mount = (m.doc as Obj).spec.template.spec.containers[0].volumeMounts[0];
    mount.readonly = mount.readOnly;
    delete mount.readOnly;
    await validateSchema(m); // the OpenAPI schemas allow unknown keys, as the API's do …
    const errs = unknownFields([m]); // … the strict check does not
    assert.equal(errs.length, 1, errs.join('\n'));
    assert.match(errs[0]!, /DaemonSet eunomia\).*'"readonly"' does not exist in type 'IVolumeMount'/);
  });
  test('a ServiceMonitor with a bad field (endpoints as an object)', async () => {
    const r = render([{ metrics: { serviceMonitor: { enabled: true } } }]);
    const m = structuredClone(r.manifests.find((x) => x.doc.kind === 'ServiceMonitor')!);
    (m.doc as Obj).spec.endpoints = { port: 'metrics' };
    await assert.rejects(validateSchema(m), /endpoints must be array/);
  });
  test('a kind with no schema here is an error, not a pass', async () => {
    await assert.rejects(validateSchema({ source: 'x', doc: { apiVersion: 'v1', kind: 'Pod2', metadata: { name: 'x' } } }), /no schema known for v1\/Pod2/);
  });
});

describe('the plain manifests in deploy/kubernetes/', { skip: noRenderer }, () => {
  test('are the chart rendered (less Helm labels), file for file', () => {
    const want = plainFromChart();
    if (process.env.EUNOMIA_WRITE_DEPLOY === '1') {
      for (const f of plainFiles()) if (!HAND_WRITTEN.includes(f)) rmSync(join(plainDir, f));
      for (const [f, text] of want) {
        mkdirSync(join(plainDir, f, '..'), { recursive: true });
        writeFileSync(join(plainDir, f), text);
      }
    }
    assert.deepEqual(plainFiles(), [...new Set([...HAND_WRITTEN, ...want.keys()])].sort(), 'the files of deploy/kubernetes/');
    for (const [f, text] of want) assert.equal(readFileSync(join(plainDir, f), 'utf8'), text, `deploy/kubernetes/${f} is stale: EUNOMIA_WRITE_DEPLOY=1 node scripts/run-tests.js deploy/kubernetes`);
  });
  test('every file passes the schemas with no unknown field', async () => {
    const all: Manifest[] = [];
    for (const f of plainFiles()) all.push(...parseManifests(readFileSync(join(plainDir, f), 'utf8'), `deploy/kubernetes/${f}`));
    assert.ok(all.length >= 8, `${all.length} manifests`);
    for (const m of all) await validateSchema(m);
    assert.deepEqual(unknownFields(all), []);
    const ns = all.find((m) => m.doc.kind === 'Namespace')!.doc as Obj;
    assert.equal(ns.metadata.labels['pod-security.kubernetes.io/enforce'], 'privileged', 'host PID and host paths need the privileged Pod Security level');
    for (const m of all) if (m.doc.kind !== 'Namespace') assert.equal((m.doc.metadata as Obj).namespace, ns.metadata.name, `${m.source} in the namespace`);
  });
});

describe("the agent takes the chart's config and arguments", { skip: noRenderer }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'k8s-deploy-agent-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** The DaemonSet's args with the pod's paths moved to files here; the ConfigMaps written there. */
  function podFiles(r: Rendered, port?: { api: number; metrics: number }): string[] {
    const args = [...(container(must(r, 'DaemonSet')).args as string[])];
    const cfg = join(dir, 'config.json');
    const rulesDir = join(dir, 'rules');
    let text = must(r, 'ConfigMap', '-config').data['config.json'] as string;
    text = text.replaceAll('/etc/eunomia/rules', rulesDir);
    writeFileSync(cfg, text);
    const rules = one(r, 'ConfigMap', '-rules');
    mkdirSync(rulesDir, { recursive: true });
    for (const [f, t] of Object.entries((rules?.data ?? {}) as Record<string, string>)) writeFileSync(join(rulesDir, f), t);
    const secret = one(r, 'Secret');
    if (secret) writeFileSync(join(dir, 'token'), Buffer.from(secret.data.token, 'base64'));
    const swap = (name: string, value: string): void => {
      const i = args.indexOf(name);
      if (i >= 0) args[i + 1] = value;
    };
    swap('--config', cfg);
    swap('--token-file', join(dir, 'token'));
    swap('--store', join(dir, 'store', 'events.db'));
    if (port) {
      swap('--listen', flag(args, '--listen')!.replace(/:\d+$/, `:${port.api}`));
      swap('--metrics-listen', flag(args, '--metrics-listen')!.replace(/:\d+$/, `:${port.metrics}`));
    }
    return args;
  }

  for (const name of ['defaults', 'OTLP endpoint', 'extra rules, trackers, config']) {
    test(`${name}: the config and arguments pass the agent's own checks (eunomia server … --help reads and checks them)`, () => {
      const args = podFiles(rendered(name));
      const r = spawnSync(process.execPath, [bin, 'server', ...args, '--help'], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /Usage: eunomia server/);
    });
  }

  test('the check bites: a tracker option the agent does not have, through values.config', () => {
    const r = render([{ trackers: [{ name: 'opensnoop', options: { failled: true } }] }]);
    assert.equal(r.status, 0, 'the chart leaves tracker options to the agent');
    const res = spawnSync(process.execPath, [bin, 'server', ...podFiles(r), '--help'], { encoding: 'utf8', timeout: 30_000 });
    assert.notEqual(res.status, 0);
    assert.match(res.stderr, /failled/);
  });

  test("the chart's rule files pass eunomia rules check", () => {
    const r = rendered('extra rules, trackers, config');
    const data = must(r, 'ConfigMap', '-rules').data as Record<string, string>;
    assert.deepEqual(Object.keys(data), ['local.yaml']);
    writeFileSync(join(dir, 'local.yaml'), data['local.yaml']!);
    const res = spawnSync(process.execPath, [bin, 'rules', 'check', join(dir, 'local.yaml')], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(res.status, 0, res.stderr + res.stdout);
    writeFileSync(join(dir, 'bad.yaml'), RULE.replace('comm = ', 'comm startwith '));
    const bad = spawnSync(process.execPath, [bin, 'rules', 'check', join(dir, 'bad.yaml')], { encoding: 'utf8', timeout: 30_000 });
    assert.notEqual(bad.status, 0, 'a broken rule file is refused');
  });

  test(
    "started with the DaemonSet's arguments and environment: the readiness probe without the token, nothing else without it, OTLP with the node's name",
    { skip: !isRoot && 'needs root: the agent loads eBPF programs', timeout: 60_000 },
    async () => {
      const port = { api: await freePort(), metrics: await freePort(), otlp: await freePort() };
      // an OTLP endpoint nobody answers: the export's failures are counted, never fatal
      const r = render([{ token: { value: 'k8s-deploy-test-token-0123456789' }, otel: { endpoint: `http://$(NODE_IP):${port.otlp}`, intervalMs: 500 } }]);
      // a stand-in collector: what the agent POSTs to /v1/metrics (protobuf: its strings are plain bytes)
      const posts: Buffer[] = [];
      const collector = createServer((req, res) => {
        const parts: Buffer[] = [];
        req.on('data', (d: Buffer) => parts.push(d));
        req.on('end', () => {
          if (req.url === '/v1/metrics') posts.push(Buffer.concat(parts));
          res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
        });
      }).listen(port.otlp, '127.0.0.1');
      // --no-trackers: this checks the pod's configuration, not the trackers (their own tests do)
      const args = [...podFiles(r, port), '--no-trackers'];
      assert.equal(flag(args, '--listen'), `0.0.0.0:${port.api}`, 'the pod listens off loopback');
      // the pod's environment, with the downward API's values and $(VAR) expanded as the kubelet does
      const downward: Record<string, string> = { 'spec.nodeName': 'k8s-deploy-test-node', 'status.hostIP': '127.0.0.1' };
      const env: Record<string, string> = {};
      for (const e of container(must(r, 'DaemonSet')).env as Obj[]) {
        env[e.name] = e.valueFrom ? downward[e.valueFrom.fieldRef.fieldPath]! : String(e.value).replace(/\$\((\w+)\)/g, (_, v: string) => env[v] ?? '');
      }
      assert.equal(env.OTEL_EXPORTER_OTLP_ENDPOINT, `http://127.0.0.1:${port.otlp}`);
      const agent = spawn(process.execPath, [bin, 'server', ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
      let log = '';
      agent.stderr.on('data', (d: Buffer) => (log += d.toString()));
      try {
        const t0 = Date.now();
        let health: Response | undefined;
        while (Date.now() - t0 < 45_000 && agent.exitCode === null) {
          health = await fetch(`http://127.0.0.1:${port.api}/health`).catch(() => undefined);
          if (health) break;
          await new Promise((res) => setTimeout(res, 200));
        }
        assert.ok(health, `the agent answered /health: ${log}`);
        process.stderr.write(`# agent up with the chart's arguments in ${Date.now() - t0} ms\n`);
        assert.equal(health.status, 200);
        assert.deepEqual(await health.json(), { status: 'ok' });
        assert.match(log, /token required/);
        assert.equal((await fetch(`http://127.0.0.1:${port.api}/status`)).status, 401, 'no token: refused');
        const ok = await fetch(`http://127.0.0.1:${port.api}/status`, { headers: { authorization: 'Bearer k8s-deploy-test-token-0123456789' } });
        assert.equal(ok.status, 200, 'the token of the Secret');
        const metrics = await fetch(`http://127.0.0.1:${port.metrics}/metrics`);
        assert.equal(metrics.status, 200);
        assert.match(await metrics.text(), /^# HELP /m);
        // OTLP: the endpoint from the pod's environment, the node's name in the resource
        assert.match(log, new RegExp(`otel: metrics every 0\\.5 s to http://127\\.0\\.0\\.1:${port.otlp}/v1/metrics`));
        const t1 = Date.now();
        while (posts.length === 0 && Date.now() - t1 < 15_000) await new Promise((res) => setTimeout(res, 100));
        assert.ok(posts.length > 0, `an OTLP export arrived: ${log}`);
        assert.ok(posts[0]!.includes('k8s.node.name') && posts[0]!.includes('k8s-deploy-test-node'), 'k8s.node.name = the node, in the resource');
      } finally {
        agent.kill('SIGTERM');
        if (agent.exitCode === null) await new Promise((res) => agent.once('exit', res));
        collector.close();
      }
    },
  );
});
