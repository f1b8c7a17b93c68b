/** Rule files: YAML → items with source positions. Checks shape only; meaning is checked in ruleset.ts. */
import { createRequire } from 'node:module';
import type { Node, Scalar } from 'yaml';
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import { suggest, type Cond } from './condition.js';

type Yaml = typeof import('yaml');
let yamlLib: Yaml | undefined;
/** The YAML parser, loaded when a file is first parsed: the built-in rules come parsed (cache.ts), and it takes tens of ms to load. */
const yaml = (): Yaml => (yamlLib ??= createRequire(import.meta.url)('yaml') as Yaml);

/** Where a value starts; `exact` when an offset inside it maps to the same line (column + offset). */
export interface Where { file: string; line: number; col: number; exact: boolean }
/** A string value; a condition's comes parsed (`ast`) from the rules cache (cache.ts). */
export interface Text { value: string; where: Where; ast?: Cond }

/** Falco's priority scale, most severe first. */
export const PRIORITIES = ['emergency', 'alert', 'critical', 'error', 'warning', 'notice', 'informational', 'debug'] as const;
export type Priority = (typeof PRIORITIES)[number];

export interface RuleItem {
  kind: 'rule';
  id: string;
  where: Where;
  name?: string;
  desc?: string;
  priority?: Priority;
  tags?: string[];
  events?: string[];
  condition?: Text;
  exceptions?: Text[];
  output?: Text;
  enabled?: boolean;
  override?: boolean;
}
export interface MacroItem { kind: 'macro'; name: string; where: Where; condition: Text }
export interface ListItem { kind: 'list'; name: string; where: Where; items: { value: string | number; where: Where }[] }
export type Item = RuleItem | MacroItem | ListItem;

/** `file:line:col: message`, with the column moved `offset` characters into the value when that is exact. */
export function ruleError(where: Where, message: string, offset?: number): EunomiaError {
  const col = offset !== undefined && where.exact ? where.col + offset : where.col;
  const inside = offset !== undefined && !where.exact ? ` (at offset ${offset} of the text)` : '';
  return new EunomiaError(ErrorCodes.RULE, `${where.file}:${where.line}:${col}: ${message}${inside}`);
}

const KEYS = {
  rule: ['rule', 'name', 'desc', 'priority', 'tags', 'events', 'condition', 'exceptions', 'output', 'enabled', 'override'],
  macro: ['macro', 'condition'],
  list: ['list', 'items'],
} as const;

export function parseRuleFile(text: string, file: string): Item[] {
  const { isMap, isScalar, isSeq, LineCounter, parseDocument } = yaml();
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: true });
  const whereOf = (node: Node | null | undefined): Where => {
    const off = node?.range?.[0] ?? 0;
    const { line, col } = lc.linePos(off);
    let exact = false;
    if (isScalar(node) && typeof node.value === 'string' && node.range) {
      // Offsets inside the value map to columns only if the source is the value itself (optionally quoted).
      const src = text.slice(node.range[0], node.range[1]);
      const v = node.value;
      exact = (node.type === 'PLAIN' && src === v) || ((node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') && src.slice(1, -1) === v);
      if (exact && node.type !== 'PLAIN') return { file, line, col: col + 1, exact };
    }
    return { file, line, col, exact };
  };
  const err = doc.errors[0];
  if (err) {
    const pos = err.linePos?.[0] ?? { line: 1, col: 1 };
    const msg = err.message.split(' at line ')[0]!.split('\n')[0]!;
    throw ruleError({ file, line: pos.line, col: pos.col, exact: false }, `invalid YAML: ${msg}`);
  }
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return [];
  if (!isSeq(root)) throw ruleError(whereOf(root), 'a rule file must be a YAML list of "- rule:", "- macro:" or "- list:" items');

  const str = (node: unknown, what: string): string => {
    if (!isScalar(node) || typeof node.value !== 'string') throw ruleError(whereOf(node as Node), `${what} must be a string`);
    return node.value;
  };
  const text_ = (node: unknown, what: string): Text => ({ value: str(node, what), where: whereOf(node as Node) });
  const strList = (node: unknown, what: string): Scalar[] => {
    if (!isSeq(node)) throw ruleError(whereOf(node as Node), `${what} must be a list`);
    for (const x of node.items) str(x, `each of ${what}`);
    return node.items as Scalar[];
  };
  const bool = (node: unknown, what: string): boolean => {
    if (!isScalar(node) || typeof node.value !== 'boolean') throw ruleError(whereOf(node as Node), `${what} must be true or false`);
    return node.value;
  };

  return root.items.map((node): Item => {
    if (!isMap(node)) throw ruleError(whereOf(node as Node), 'each item must be a map starting with "rule:", "macro:" or "list:"');
    const entries = new Map<string, { key: Node; value: unknown }>();
    for (const pair of node.items) {
      const key = pair.key as Node;
      if (!isScalar(key) || typeof key.value !== 'string') throw ruleError(whereOf(key), 'keys must be strings');
      entries.set(key.value, { key, value: pair.value });
    }
    const kind = (['rule', 'macro', 'list'] as const).find((k) => entries.has(k));
    if (!kind) throw ruleError(whereOf(node), `item has none of "rule", "macro" or "list" (keys: ${[...entries.keys()].join(', ')})`);
    const id = str(entries.get(kind)!.value, `"${kind}"`);
    const label = `${kind} "${id}"`;
    const allowed: readonly string[] = KEYS[kind];
    for (const [k, { key }] of entries) {
      if (!allowed.includes(k)) throw ruleError(whereOf(key), `${label}: unknown key "${k}"${suggest(k, allowed)}`);
    }
    const where = whereOf(entries.get(kind)!.value as Node);
    const get = (k: string): unknown => entries.get(k)?.value;
    const need = (k: string): unknown => {
      if (!entries.has(k)) throw ruleError(where, `${label}: missing "${k}"`);
      return get(k);
    };
    if (kind === 'macro') return { kind, name: id, where, condition: text_(need('condition'), `${label}: "condition"`) };
    if (kind === 'list') {
      const items = need('items');
      if (!isSeq(items)) throw ruleError(whereOf(items as Node), `${label}: "items" must be a list`);
      return {
        kind, name: id, where,
        items: items.items.map((x) => {
          if (!isScalar(x) || (typeof x.value !== 'string' && typeof x.value !== 'number')) {
            throw ruleError(whereOf(x as Node), `${label}: items must be strings or numbers`);
          }
          return { value: x.value, where: whereOf(x) };
        }),
      };
    }
    const rule: RuleItem = { kind, id, where };
    if (entries.has('name')) rule.name = str(get('name'), `${label}: "name"`);
    if (entries.has('desc')) rule.desc = str(get('desc'), `${label}: "desc"`);
    if (entries.has('priority')) {
      const p = text_(get('priority'), `${label}: "priority"`);
      const v = p.value.toLowerCase() === 'info' ? 'informational' : p.value.toLowerCase();
      if (!(PRIORITIES as readonly string[]).includes(v)) {
        throw ruleError(p.where, `${label}: unknown priority "${p.value}"${suggest(v, PRIORITIES)} (one of ${PRIORITIES.join(', ')})`);
      }
      rule.priority = v as Priority;
    }
    if (entries.has('tags')) rule.tags = strList(get('tags'), `${label}: "tags"`).map((s) => s.value as string);
    if (entries.has('events')) rule.events = strList(get('events'), `${label}: "events"`).map((s) => s.value as string);
    if (entries.has('condition')) rule.condition = text_(get('condition'), `${label}: "condition"`);
    if (entries.has('exceptions')) {
      rule.exceptions = strList(get('exceptions'), `${label}: "exceptions"`).map((s) => ({ value: s.value as string, where: whereOf(s) }));
    }
    if (entries.has('output')) rule.output = text_(get('output'), `${label}: "output"`);
    if (entries.has('enabled')) rule.enabled = bool(get('enabled'), `${label}: "enabled"`);
    if (entries.has('override')) rule.override = bool(get('override'), `${label}: "override"`);
    return rule;
  });
}
