/**
 * docs/rules-coverage.md (the rules mapped to MITRE ATT&CK and to Falco's rules) stays in sync
 * with rules/builtin.yaml and the attack tests: the tables are parsed, not the rules' text.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadRules } from '../../src/rules/index.js';
import { trackers } from '../../src/trackers/registry.js';
import { repoRoot } from '../helpers.js';
import { CASES } from '../rules/cases.js';

const STATUSES = ['gap', 'not observable', 'too noisy', 'not a container/host behaviour'] as const;
type Status = (typeof STATUSES)[number];
/** The counts table's columns after `rows`, in order. */
const KINDS = ['covered', 'partly covered', ...STATUSES] as const;
type Kind = (typeof KINDS)[number];

interface Row {
  section: 'attack' | 'falco';
  key: string; // ATT&CK id or Falco rule name
  second: string; // technique name or maturity
  rules: string[];
  status?: Status;
  attacks: string[];
  why: string;
  line: number;
}

const DOC = 'docs/rules-coverage.md';
const text = readFileSync(join(repoRoot, DOC), 'utf8');
const lines = text.split('\n');

/** A table row's cells: split on `|` not escaped as `\|`, outer pipes dropped. */
function cells(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && line[i + 1] === '|') {
      cur += '|';
      i++;
    } else if (c === '|') {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  out.push(cur.trim());
  return out.slice(1, -1);
}

/** Every table: its `## ` section, header and rows (with 1-based line numbers). */
function tables(): { section: string; header: string[]; rows: { cells: string[]; line: number }[] }[] {
  const found: ReturnType<typeof tables> = [];
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.startsWith('## ')) section = l.slice(3).trim();
    if (!l.startsWith('|') || !/^\|[-| :]+\|$/.test(lines[i + 1] ?? '')) continue;
    const t = { section, header: cells(l), rows: [] as { cells: string[]; line: number }[] };
    for (i += 2; i < lines.length && lines[i]!.startsWith('|'); i++) t.rows.push({ cells: cells(lines[i]!), line: i + 1 });
    found.push(t);
  }
  return found;
}

function parseRow(section: Row['section'], c: string[], line: number): Row {
  const where = `${DOC}:${line}`;
  assert.equal(c.length, 5, `${where}: 5 cells`);
  const [key, second, eunomia, test, why] = c as [string, string, string, string, string];
  const row: Row = { section, key, second, rules: [], attacks: [], why, line };
  for (const item of eunomia.split(',').map((s) => s.trim())) {
    const rule = /^`([a-z0-9_]+)`$/.exec(item);
    if (rule) row.rules.push(rule[1]!);
    else {
      assert.ok((STATUSES as readonly string[]).includes(item), `${where}: "${item}" is neither a \`rule\` nor one of: ${STATUSES.join(', ')}`);
      assert.equal(row.status, undefined, `${where}: one status per row`);
      row.status = item as Status;
    }
  }
  row.attacks = [...test.matchAll(/attacks: ([a-z0-9_]+)/g)].map((m) => m[1]!);
  return row;
}

const rows: Row[] = [];
const counts = new Map<string, string[]>(); // table name → the counts row's cells
for (const t of tables()) {
  const h = t.header.join(' | ');
  if (t.section === 'MITRE ATT&CK (Containers, Linux)' && h.startsWith('id | technique | Eunomia | test'))
    for (const r of t.rows) rows.push(parseRow('attack', r.cells, r.line));
  else if (t.section === 'Falco rules' && h.startsWith('Falco rule | maturity | Eunomia | test'))
    for (const r of t.rows) rows.push(parseRow('falco', r.cells, r.line));
  else if (h.startsWith('table | rows')) for (const r of t.rows) counts.set(r.cells[0]!, r.cells.slice(1));
}
const attackRows = rows.filter((r) => r.section === 'attack');
const falcoRows = rows.filter((r) => r.section === 'falco');
const kindOf = (r: Row): Kind => (r.rules.length ? (r.status ? 'partly covered' : 'covered') : r.status!);

const builtin = loadRules([]).rules();

/** The attack cases (test/rules/cases.ts, run by test/rules/attacks.test.ts). */
const attackCases = (): Set<string> => new Set(Object.keys(CASES));

test('the page has both tables, with well-formed, unique keys', () => {
  assert.ok(attackRows.length >= 300, `ATT&CK rows: ${attackRows.length}`);
  assert.ok(falcoRows.length >= 90, `Falco rows: ${falcoRows.length}`);
  const ids = attackRows.map((r) => r.key);
  for (const r of attackRows) assert.match(r.key, /^T\d{4}(\.\d{3})?$/, `${DOC}:${r.line}`);
  assert.deepEqual(ids.filter((id, i) => ids.indexOf(id) !== i), [], 'ATT&CK ids listed twice');
  // A sub-technique's technique has its own row.
  for (const id of ids) if (id.includes('.')) assert.ok(ids.includes(id.split('.')[0]!), `${id} has no row for ${id.split('.')[0]}`);
  const names = falcoRows.map((r) => r.key);
  assert.deepEqual(names.filter((n, i) => names.indexOf(n) !== i), [], 'Falco rules listed twice');
  for (const r of falcoRows) assert.match(r.second, /^(stable|incubating|sandbox)( \(disabled\))?$/, `${DOC}:${r.line}: maturity`);
});

test('every rule the page names exists, and every built-in rule is named in an ATT&CK row', () => {
  const ids = new Set(builtin.map((r) => r.id));
  const unknown = rows.flatMap((r) => r.rules.filter((id) => !ids.has(id)).map((id) => `${DOC}:${r.line}: ${id}`));
  assert.deepEqual(unknown, [], 'rules named in the page but not in rules/builtin.yaml');
  const named = new Set(attackRows.flatMap((r) => r.rules));
  assert.deepEqual(builtin.map((r) => r.id).filter((id) => !named.has(id)), [], `built-in rules mapped to no ATT&CK technique in ${DOC}`);
});

test("each ATT&CK id in a rule's tags has a row naming that rule", () => {
  const byId = new Map(attackRows.map((r) => [r.key, r]));
  const missing: string[] = [];
  for (const rule of builtin) {
    for (const tag of rule.tags.filter((t) => /^T\d{4}(\.\d{3})?$/.test(t))) {
      const row = byId.get(tag);
      if (!row) missing.push(`${rule.id}: ${tag} has no row`);
      else if (!row.rules.includes(rule.id)) missing.push(`${rule.id}: row ${tag} (${DOC}:${row.line}) does not name it`);
    }
  }
  assert.deepEqual(missing, []);
});

test('covered rows name the attack case of each of their rules, and the cases exist', () => {
  const cases = attackCases();
  assert.ok(cases.has('shell_in_container') && cases.size >= 40, `CASES in test/rules/cases.ts: ${cases.size}`);
  const bad: string[] = [];
  for (const r of rows) {
    const where = `${DOC}:${r.line} (${r.key})`;
    if ([...r.rules].sort().join() !== [...r.attacks].sort().join()) bad.push(`${where}: rules ${r.rules.join(', ') || '-'} but attacks ${r.attacks.join(', ') || '-'}`);
    for (const a of r.attacks) if (!cases.has(a)) bad.push(`${where}: no attack case ${a}`);
  }
  assert.deepEqual(bad, []);
});

test('rows not covered say why, and gaps name the tracker to use', () => {
  const names = trackers.map((t) => t.name);
  const bad: string[] = [];
  for (const r of rows) {
    const where = `${DOC}:${r.line} (${r.key})`;
    if (r.status && r.why.length < 15) bad.push(`${where}: ${r.status} without a reason`);
    if (r.status === 'gap' && !names.some((n) => r.why.includes('`' + n + '`') || /\bT\d{4}/.test(r.why)))
      bad.push(`${where}: a gap names no \`tracker\` (nor the row that does)`);
  }
  assert.deepEqual(bad, []);
});

test('the counts in the introduction match the tables', () => {
  for (const [table, list] of [['MITRE ATT&CK', attackRows], ['Falco rules', falcoRows]] as const) {
    const row = counts.get(table);
    assert.ok(row, `a counts row for ${table}`);
    const actual = [list.length, ...KINDS.map((k) => list.filter((r) => kindOf(r) === k).length)].map(String);
    assert.deepEqual(row, actual, `${table}: rows, ${KINDS.join(', ')}`);
  }
});
