/**
 * Rule matching compiled to JavaScript: one function per tracker evaluates all of its rules.
 *
 * - Tests read fields where they need them (most tests never run); macros are inlined;
 *   `evt.tracker` tests are decided at compile time (a matcher only sees its tracker's
 *   events); the tests of an `and` that only compare a value run first; a number is compared
 *   as a number, never turned into text; the non-matching path allocates nothing.
 * - A field every rule constrains (`type = exec` in process rules) drops the events that meet
 *   none of those constraints before anything else is read.
 * - A prefilter skips most rules without evaluating them. Each rule's condition yields a
 *   necessary test on one field (its leftmost `=`, `in`, `startswith`, `endswith` or glob with
 *   a literal start or end); per field, the literals of all rules become code that walks a
 *   trie of prefixes and exact values and one of suffixes (a number: a switch), setting a bit
 *   for each rule worth evaluating for this event.
 * - Facts (facts.ts: `write = true`, `container.id != host` …) then clear the bits of rules
 *   that cannot hold with the event's values, and only the rules still marked are evaluated,
 *   by a switch on their bits: an event runs the code of its candidates, not of every rule.
 *   Rules without a prefilter are tested in line, in order.
 * - A tracker's matcher is compiled by its first event (compileDispatch).
 *
 * The result must agree with `predicate` (condition.ts) on every event. Rule text never
 * becomes source text: string literals and property names go through JSON.stringify, numbers
 * and character codes are emitted only as numbers, generated names are counters, and
 * everything else (Sets, RegExps, fallback closures) is passed in as a constant.
 */
import type { TrackerEvent } from '../pipeline/types.js';
import { predicate, toNum, toStr, type Expr, type Pred } from './condition.js';
import { andOperands, chooseFacts, fold, Known, type Folded } from './facts.js';

export interface RuleCode {
  cond: Expr;
  exceptions: readonly Expr[];
}

/** The values of `hit(i, ev)` for the rules `i` (in order) whose condition holds and no exception does; `none` if there are none. */
export type Matcher<M> = (ev: TrackerEvent) => M[];

/** A rule whose inlined condition would be larger than this (macros nested many times) runs as closures instead. */
const MAX_INLINE_NODES = 4000;
/** Source characters of in-line tests per generated function: V8 stops optimizing very large functions. */
const CHUNK_CHARS = 24_000;
/** Literals in one rule's prefilter; beyond that the rule has none (it is always evaluated). */
const MAX_GUARD_LITERALS = 512;
/**
 * Trie nodes per field: beyond this a field gets no prefilter (its rules are always
 * evaluated). The walk's code is split into functions of at most SPLIT_NODES nodes, since V8
 * stops optimizing a function that grows too large (one walk of 1,800 nodes made the opensnoop
 * matcher 3× slower).
 */
const MAX_TRIE_NODES = 6000;
const SPLIT_NODES = 200;
/** A field's prefilter pays for its walk only when it can skip several rules. */
const MIN_FIELD_RULES = 2;
/** Exact literals from which a field is looked up in a Map rather than walked. */
const EXACT_MAP_MIN = 8;

// ---- Helpers called from generated code (small, so V8 inlines them) ----

/** contains on an array: an element equals the literal (as text). */
function hasEl(a: readonly unknown[], s: string): boolean {
  for (let i = 0; i < a.length; i++) if (toStr(a[i]) === s) return true;
  return false;
}

/** in on an array: some element (as text) is in the set. */
function inArr(set: ReadonlySet<string>, a: readonly unknown[]): boolean {
  for (let i = 0; i < a.length; i++) {
    const s = toStr(a[i]);
    if (s !== undefined && set.has(s)) return true;
  }
  return false;
}

const sv = (v: unknown): string | undefined => (typeof v === 'string' ? v : toStr(v));
const nv = (v: unknown): number => (typeof v === 'number' ? v : toNum(v));
// NaN (not a number) never compares, not even with "!=".
const neN = (x: number, k: number): boolean => x === x && x !== k;
const neS = (s: string | undefined, k: string): boolean => s !== undefined && s !== k;
const sw = (s: string | undefined, k: string): boolean => s !== undefined && s.startsWith(k);
const ew = (s: string | undefined, k: string): boolean => s !== undefined && s.endsWith(k);
const gl = (s: string | undefined, r: RegExp): boolean => s !== undefined && r.test(s);
function cn(v: unknown, k: string): boolean {
  const s = sv(v);
  return s !== undefined ? s.includes(k) : Array.isArray(v) && hasEl(v, k);
}
function inS(v: unknown, set: ReadonlySet<string>): boolean {
  const s = sv(v);
  return s !== undefined ? set.has(s) : Array.isArray(v) && inArr(set, v);
}
// A number's text is canonical (String(n)): it equals a literal only if the literal is the
// canonical text of a number, and then exactly when the numbers are equal. So a number is
// compared as a number, without making its text.
const eqN = (v: unknown, n: number, k: string): boolean => (typeof v === 'number' ? v === n : sv(v) === k);
const inN = (v: unknown, nums: ReadonlySet<number>, set: ReadonlySet<string>): boolean => (typeof v === 'number' ? nums.has(v) : inS(v, set));
// "true" and "false" are the text of the booleans only.
const eqB = (v: unknown, b: boolean, k: string): boolean => v === b || v === k;

/** The number whose canonical text (String(n)) is `s`, if there is one; not NaN, which equals no number. */
function canonicalNumber(s: string): number | undefined {
  const n = Number(s);
  return String(n) === s && n === n ? n : undefined;
}

const numberSets = new WeakMap<ReadonlySet<string>, ReadonlySet<number>>();

/** The members of a set that are the text of a number, as numbers (Set.has finds NaN, and -0 as 0, as their texts would be found). */
function numbersOf(set: ReadonlySet<string>): ReadonlySet<number> {
  let out = numberSets.get(set);
  if (out === undefined) {
    const nums = new Set<number>();
    for (const s of set) {
      const n = Number(s);
      if (String(n) === s) nums.add(n);
    }
    numberSets.set(set, (out = nums));
  }
  return out;
}

// ---- Prefilter ----

/**
 * One way a rule can hold: field `field`, as text, equals / starts with / ends with one of
 * `lits`; or (`num`) as a number, equals one of `nums` (a value that is not a number may too:
 * " 22" is 22).
 */
export interface Alt {
  field: string;
  kind: 'exact' | 'prefix' | 'suffix' | 'num';
  lits: readonly string[];
  nums?: readonly number[];
}

/**
 * A necessary condition: the rule can hold only if one of the alternatives does. undefined
 * means no such condition is known (always evaluate); [] means the rule never holds.
 */
export type Guard = readonly Alt[] | undefined;

const litCount = (g: readonly Alt[]): number => g.reduce((n, a) => n + a.lits.length + (a.nums?.length ?? 0), 0);

/** What a glob says about the text: the literal before its first wildcard, or after its last. */
function globAlts(field: string, glob: string): Alt[] | undefined {
  const first = glob.search(/[*?[]/);
  if (first < 0) return [{ field, kind: 'exact', lits: [glob] }];
  if (first > 0) return [{ field, kind: 'prefix', lits: [glob.slice(0, first)] }];
  // After a `[` (a class, or a literal when never closed) the text is not plain.
  if (glob.includes('[')) return undefined;
  const last = glob.slice(Math.max(glob.lastIndexOf('*'), glob.lastIndexOf('?')) + 1);
  return last !== '' ? [{ field, kind: 'suffix', lits: [last] }] : undefined;
}

/**
 * The prefilter of a condition, for one tracker's events. Of an `and`, the leftmost operand
 * that has one (authors put the most selective test first); of an `or`, both operands' or none.
 */
export function guardOf(e: Expr, tracker: string, memo = new Map<Expr, Guard>()): Guard {
  if (memo.has(e)) return memo.get(e);
  let g: Guard;
  switch (e.t) {
    case 'and': {
      const a = guardOf(e.a, tracker, memo);
      const b = guardOf(e.b, tracker, memo);
      g = a?.length === 0 || b?.length === 0 ? [] : a ?? b;
      break;
    }
    case 'or': {
      const a = guardOf(e.a, tracker, memo);
      const b = guardOf(e.b, tracker, memo);
      g = a === undefined || b === undefined ? undefined : [...a, ...b];
      if (g !== undefined && litCount(g) > MAX_GUARD_LITERALS) g = undefined;
      break;
    }
    case 'not': case 'exists': g = undefined; break;
    case 'num': g = e.op === '=' && e.field !== 'evt.tracker' ? [{ field: e.field, kind: 'num', lits: [], nums: [e.n] }] : undefined; break;
    default:
      if (e.field === 'evt.tracker') {
        g = predicate(e)({ tracker, instance: 0, time: 0, data: {} }) ? undefined : [];
        break;
      }
      if (e.t === 'in') g = e.set.size > MAX_GUARD_LITERALS ? undefined : [{ field: e.field, kind: 'exact', lits: [...e.set] }];
      else if (e.t === 'glob') g = globAlts(e.field, e.glob);
      else if (e.op === '=') g = [{ field: e.field, kind: 'exact', lits: [e.s] }];
      else if (e.op === 'startswith') g = [{ field: e.field, kind: 'prefix', lits: [e.s] }];
      else if (e.op === 'endswith') g = [{ field: e.field, kind: 'suffix', lits: [e.s] }];
      else g = undefined; // contains: a substring search per literal costs what the rule's own test does
  }
  memo.set(e, g);
  return g;
}

/** A trie over literals (reversed for suffixes): `at` are the rules to mark when a walk reaches the node, `end` when the text ends there. */
interface TrieNode {
  keys: number[];
  kids: TrieNode[];
  at: number[];
  end: number[];
}

const node = (): TrieNode => ({ keys: [], kids: [], at: [], end: [] });

/** Adds `lit`; returns the number of nodes created. */
function insert(root: TrieNode, lit: string, reverse: boolean, rule: number, exact: boolean): number {
  let n = root;
  let made = 0;
  for (let i = 0; i < lit.length; i++) {
    const c = lit.charCodeAt(reverse ? lit.length - 1 - i : i);
    let j = n.keys.indexOf(c);
    if (j < 0) {
      j = n.keys.length;
      n.keys.push(c);
      n.kids.push(node());
      made++;
    }
    n = n.kids[j]!;
  }
  const list = exact ? n.end : n.at;
  if (!list.includes(rule)) list.push(rule);
  return made;
}

/**
 * Which rules passed the prefilter: bit `b` of word `w` for the rule with slot 30w+b (30 bits
 * a word, so that the words stay small integers when passed to a function). The walks set them
 * in the matcher's Int32Array `mb` (they may be functions of their own); the matcher then reads
 * them into locals `m<w>`.
 */
const BITS = 30;
const slotBit = (slot: number): { word: string; bit: number } => ({ word: `m${Math.floor(slot / BITS)}`, bit: 2 ** (slot % BITS) });

/** `mb[0] |= 5; mb[1] |= 2;`: sets the bits of these slots. */
function setBits(slots: readonly number[]): string {
  const words = new Map<number, number>();
  for (const slot of slots) {
    const w = Math.floor(slot / BITS);
    words.set(w, (words.get(w) ?? 0) | slotBit(slot).bit);
  }
  return [...words].map(([w, bits]) => `mb[${w}] |= ${bits};`).join(' ');
}

const sizes = new WeakMap<TrieNode, number>();
/** Nodes in a trie, itself included (remembered: a walk asks it of every node it emits). */
function trieSize(t: TrieNode): number {
  let n = sizes.get(t);
  if (n === undefined) sizes.set(t, (n = t.kids.reduce((sum, k) => sum + trieSize(k), 1)));
  return n;
}

/**
 * Statements that walk text `s` (length `n`) through the trie and run `mark(rules)` where
 * rules are reached: a switch where the trie branches, one condition for a run of single
 * children. Past either end of the text charCodeAt is NaN, which equals no character, so
 * there are no length checks. With `split`, a subtree of more than SPLIT_NODES nodes becomes
 * a function of its own (`split(body)` names it; it is called with s and n), so that no
 * function grows past what V8 optimizes; `mark` must then reach no local of the caller.
 */
function trieCode(root: TrieNode, reverse: boolean, mark: (rules: readonly number[]) => string, split?: (body: string) => string): string {
  const charAt = (depth: number): string => `s.charCodeAt(${reverse ? `n - ${depth + 1}` : depth})`;
  const emit = (t: TrieNode, depth: number): string => {
    if (split && depth > 0 && trieSize(t) > SPLIT_NODES) return `${split(body(t, depth))}(s, n);`;
    return body(t, depth);
  };
  const body = (t: TrieNode, depth: number): string => {
    const out: string[] = [];
    if (t.at.length) out.push(mark(t.at));
    if (t.end.length) out.push(`if (n === ${depth}) { ${mark(t.end)} }`);
    if (t.keys.length === 1) {
      const chars = [t.keys[0]!];
      let kid = t.kids[0]!;
      while (kid.keys.length === 1 && !kid.at.length && !kid.end.length) {
        chars.push(kid.keys[0]!);
        kid = kid.kids[0]!;
      }
      out.push(`if (${chars.map((c, j) => `${charAt(depth + j)} === ${c}`).join(' && ')}) {\n${emit(kid, depth + chars.length)}\n}`);
    } else if (t.keys.length > 1) {
      const cases = t.keys.map((c, j) => `case ${c}: {\n${emit(t.kids[j]!, depth + 1)}\nbreak;\n}`);
      out.push(`switch (${charAt(depth)}) {\n${cases.join('\n')}\n}`);
    }
    return out.join('\n');
  };
  return body(root, 0);
}

/** One field's prefilter (rules by slot): its tries, and the rules to evaluate anyway when the field is an array (`in` looks at elements). */
interface FieldFilter {
  prefix: TrieNode;
  suffix: TrieNode;
  any: number[];
  nodes: number;
  /** Exact literals → slots; `affix` when there are prefixes or suffixes too. */
  exact: Map<string, number[]>;
  affix: boolean;
  /** Numbers → slots (`num` alternatives), and those slots, marked for any value that is not a number. */
  nums: Map<number, number[]>;
  numAny: number[];
}

/**
 * A switch setting the slots of a number `v`: its `num` alternatives, and (`exact`) the exact
 * literals that are the text of a number; '' if there are none.
 */
function numberSwitch(nums: ReadonlyMap<number, readonly number[]>, exact: ReadonlyMap<string, readonly number[]>, konst: (v: unknown) => string): string {
  const byNumber = new Map<number, readonly number[]>(nums);
  for (const [lit, slots] of exact) {
    const n = canonicalNumber(lit);
    if (n !== undefined) byNumber.set(n, [...(byNumber.get(n) ?? []), ...slots]);
  }
  // NaN's text is "NaN", but NaN equals no case.
  const nan = exact.get('NaN');
  if (byNumber.size === 0 && !nan) return '';
  const cases = [...byNumber].map(([n, slots]) => `case ${numLit(n, konst)}: ${setBits(slots)} break;`);
  return `switch (v) {\n${cases.join('\n')}\n}${nan ? `\nif (v !== v) { ${setBits(nan)} }` : ''}`;
}

// ---- Conditions ----

/** JavaScript reading a field as fieldGetter does: `ev.time` for evt.time, else a dotted path into data (`dig` names a function for a nested one). */
function load(path: string, dig: (path: string) => string): string {
  if (path === 'evt.time') return 'ev.time';
  return path.includes('.') ? `${dig(path)}(d)` : `d[${JSON.stringify(path)}]`;
}

/**
 * A function reading dotted `path` from data, one per path and matcher: its property reads
 * see one kind of object each (a shared helper's would see them all, and slow down).
 */
function digCode(name: string, path: string): string {
  const steps = path.split('.').map((k) => `if (v === null || typeof v !== "object") return undefined;\nv = v[${JSON.stringify(k)}];`);
  return `function ${name}(d) {\nlet v = d;\n${steps.join('\n')}\nreturn v;\n}`;
}

type Code = string | boolean;

/** Node count of `e` with macros expanded, memoised per shared subtree (a macro is one object). */
function inlinedSize(e: Expr, memo: Map<Expr, number>): number {
  const done = memo.get(e);
  if (done !== undefined) return done;
  const n =
    e.t === 'and' || e.t === 'or' ? Math.min(1e9, 1 + inlinedSize(e.a, memo) + inlinedSize(e.b, memo))
    : e.t === 'not' ? 1 + inlinedSize(e.a, memo)
    : 1;
  memo.set(e, n);
  return n;
}

const numLit = (n: number, konst: (v: unknown) => string): string =>
  !Number.isFinite(n) ? konst(n) : Object.is(n, -0) ? '(-0)' : `(${String(n)})`;

/**
 * 0 for a test that reads and compares a value; 1 for one that calls into the engine (starts
 * or ends with, contains, a Set lookup, which hashes a new string, a glob): those cost tens of
 * nanoseconds each on a fresh string, so they keep the author's order. A compound test costs
 * its dearest part.
 */
function cost(e: Expr): number {
  switch (e.t) {
    case 'and': case 'or': return Math.max(cost(e.a), cost(e.b));
    case 'not': return cost(e.a);
    case 'exists': case 'num': return 0;
    case 'str': return e.op === '=' || e.op === '!=' ? 0 : 1;
    case 'in': case 'glob': return 1;
  }
}

/** What generating a matcher's code shares: its tracker, its constants, its generated helpers. */
interface Gen {
  tracker: string;
  /** The name of a constant passed in. */
  konst(v: unknown): string;
  /** The name of a generated function telling whether its argument (text or undefined) starts or ends with `lit`. */
  affix(kind: 'prefix' | 'suffix', lit: string): string;
  /** The name of a generated function reading a dotted path from data. */
  dig(path: string): string;
}

/** Longest literal that starts-/endswith compare character by character; longer ones call the engine. */
const MAX_INLINE_AFFIX = 32;

/**
 * A function comparing the characters of `lit` at the start or end of a text: code of the
 * matcher itself, which a busy pipeline runs faster than a call into the engine's
 * startsWith/endsWith (whose code is one more thing to keep in the instruction cache).
 */
function affixCode(name: string, kind: 'prefix' | 'suffix', lit: string): string {
  const chars = [...Array(lit.length).keys()].map((j) => ` && s.charCodeAt(${kind === 'prefix' ? j : `n + ${j}`}) === ${lit.charCodeAt(j)}`).join('');
  return kind === 'prefix'
    ? `function ${name}(s) {\nreturn s !== undefined && s.length >= ${lit.length}${chars};\n}`
    : `function ${name}(s) {\nif (s === undefined) return false;\nconst n = s.length - ${lit.length};\nreturn n >= 0${chars};\n}`;
}

/** JavaScript for `e` on the tracker's events, or a boolean when it is decided at compile time. */
function exprCode(e: Expr, g: Gen): Code {
  if (e.t === 'and') {
    // Tests have no side effects and never throw, so their order is free: cheap ones first
    // (otherwise in the author's order), and a decided one decides or drops out.
    const ops = andOperands(e).map((x, i) => ({ x, i, cost: cost(x) })).sort((p, q) => p.cost - q.cost || p.i - q.i);
    const codes: string[] = [];
    for (const { x } of ops) {
      const c = exprCode(x, g);
      if (c === false) return false;
      if (c !== true) codes.push(c);
    }
    return codes.length === 0 ? true : codes.length === 1 ? codes[0]! : `(${codes.join(' && ')})`;
  }
  if (e.t === 'or') {
    const a = exprCode(e.a, g);
    if (a === true) return true;
    const b = exprCode(e.b, g);
    if (a === false || b === true) return b;
    return b === false ? a : `(${a} || ${b})`;
  }
  if (e.t === 'not') {
    const a = exprCode(e.a, g);
    return typeof a === 'boolean' ? !a : `!${a}`;
  }
  // A matcher only ever sees its tracker's events.
  if (e.field === 'evt.tracker') return predicate(e)({ tracker: g.tracker, instance: 0, time: 0, data: {} });
  const v = load(e.field, g.dig);
  switch (e.t) {
    case 'exists': return `(${v} != null)`;
    case 'num': {
      const k = numLit(e.n, (x) => g.konst(x));
      return e.op === '!=' ? `neN(nv(${v}), ${k})` : `(nv(${v}) ${e.op === '=' ? '===' : e.op} ${k})`;
    }
    case 'str': {
      const k = JSON.stringify(e.s);
      switch (e.op) {
        case '=': {
          if (e.s === 'true' || e.s === 'false') return `eqB(${v}, ${e.s}, ${k})`;
          const n = canonicalNumber(e.s);
          return n !== undefined ? `eqN(${v}, ${numLit(n, (x) => g.konst(x))}, ${k})` : `(sv(${v}) === ${k})`;
        }
        case '!=': return `neS(sv(${v}), ${k})`;
        case 'startswith': return e.s.length > MAX_INLINE_AFFIX ? `sw(sv(${v}), ${k})` : `${g.affix('prefix', e.s)}(sv(${v}))`;
        case 'endswith': return e.s.length > MAX_INLINE_AFFIX ? `ew(sv(${v}), ${k})` : `${g.affix('suffix', e.s)}(sv(${v}))`;
        case 'contains': return `cn(${v}, ${k})`;
      }
      throw new Error('unknown string operator');
    }
    case 'glob': return `gl(sv(${v}), ${g.konst(e.re)})`;
    case 'in': {
      const nums = numbersOf(e.set);
      return nums.size > 0 ? `inN(${v}, ${g.konst(nums)}, ${g.konst(e.set)})` : `inS(${v}, ${g.konst(e.set)})`;
    }
  }
}

// ---- Matchers ----

/**
 * Per field, the prefilter of the rules whose guards it can decide (all their alternatives
 * are kept); `slots` numbers those rules (rule index → slot).
 */
function prefilters(tracker: string, rules: readonly RuleCode[]): { filters: Map<string, FieldFilter>; slots: Map<number, number> } {
  const memo = new Map<Expr, Guard>();
  const guards = rules.map((r) => guardOf(r.cond, tracker, memo));
  const build = (keep: (alt: Alt) => boolean): { filters: Map<string, FieldFilter>; slots: Map<number, number> } => {
    const filters = new Map<string, FieldFilter>();
    const slots = new Map<number, number>();
    guards.forEach((g, rule) => {
      // None known, or never holds (the condition folds to false and the rule is left out).
      if (!g || g.length === 0 || !g.every(keep)) return;
      // A rule's slot is its index: the evaluation takes marked rules in slot order.
      const i = rule;
      slots.set(rule, i);
      for (const alt of g) {
        let f = filters.get(alt.field);
        if (!f) filters.set(alt.field, (f = { prefix: node(), suffix: node(), any: [], nodes: 0, exact: new Map(), affix: false, nums: new Map(), numAny: [] }));
        if (!f.any.includes(i)) f.any.push(i);
        if (alt.kind === 'num') {
          for (const n of alt.nums!) {
            const slots = f.nums.get(n) ?? f.nums.set(n, []).get(n)!;
            if (!slots.includes(i)) slots.push(i);
          }
          if (!f.numAny.includes(i)) f.numAny.push(i);
          continue;
        }
        if (alt.kind === 'prefix' || alt.kind === 'suffix') f.affix = true;
        for (const lit of alt.lits) {
          if (alt.kind === 'suffix') f.nodes += insert(f.suffix, lit, true, i, false);
          else f.nodes += insert(f.prefix, lit, false, i, alt.kind === 'exact');
          if (alt.kind === 'exact') {
            const slots = f.exact.get(lit) ?? f.exact.set(lit, []).get(lit)!;
            if (!slots.includes(i)) slots.push(i);
          }
        }
      }
    });
    return { filters, slots };
  };
  const all = build(() => true);
  const kept = new Set([...all.filters].filter(([, f]) => f.any.length >= MIN_FIELD_RULES && f.nodes <= MAX_TRIE_NODES).map(([field]) => field));
  return kept.size === all.filters.size ? all : build((alt) => kept.has(alt.field));
}

/**
 * A field every rule constrains, as `type = exec` does in process rules: an event that meets
 * none of those constraints is dropped before anything else is read. Tries of one (the first)
 * such constraint per rule.
 */
function requirement(tracker: string, rules: readonly RuleCode[]): { field: string; prefix: TrieNode; suffix: TrieNode } | undefined {
  const memo = new Map<Expr, Guard>();
  const perRule: (readonly Alt[])[][] = [];
  for (const r of rules) {
    if (guardOf(r.cond, tracker, memo)?.length === 0) continue; // never holds
    const onOneField = (g: Guard): g is readonly Alt[] => g !== undefined && g.length > 0 && g.every((a) => a.field === g[0]!.field && a.kind !== 'num');
    perRule.push(andOperands(r.cond).map((c) => guardOf(c, tracker, memo)).filter(onOneField));
  }
  for (const field of new Set(perRule[0]?.map((g) => g[0]!.field))) {
    const chosen = perRule.map((gs) => gs.find((g) => g[0]!.field === field));
    if (chosen.some((g) => g === undefined)) continue;
    const prefix = node();
    const suffix = node();
    let nodes = 0;
    for (const g of chosen) {
      for (const alt of g!) {
        for (const lit of alt.lits) nodes += alt.kind === 'suffix' ? insert(suffix, lit, true, 0, false) : insert(prefix, lit, false, 0, alt.kind === 'exact');
      }
    }
    // Walked inline (it returns from the matcher): kept small. A large one is left to the
    // prefilter, which drops the same events when every rule has one.
    if (nodes <= SPLIT_NODES) return { field, prefix, suffix };
  }
  return undefined;
}

/** Compiles `tracker`'s rules (in the order given) to one matcher. */
/** What generating one function's code needs: its constants, its generated helpers (names are counters, never rule text). */
function generator(tracker: string): { gen: Gen; konst: (v: unknown) => string; helper: (key: string, prefix: string, code: (name: string) => string) => string; consts: unknown[]; helperCode: Map<string, string> } {
  const consts: unknown[] = [];
  const konstIds = new Map<unknown, string>();
  const konst = (v: unknown): string => {
    let id = konstIds.get(v);
    if (id === undefined) {
      id = `k${consts.length}`;
      consts.push(v);
      konstIds.set(v, id);
    }
    return id;
  };
  // Generated helpers by name; names are counters, never rule text.
  const helperCode = new Map<string, string>();
  const named = new Map<string, string>();
  const helper = (key: string, prefix: string, code: (name: string) => string): string => {
    let name = named.get(key);
    if (name === undefined) {
      named.set(key, (name = `${prefix}${named.size}`));
      helperCode.set(name, code(name));
    }
    return name;
  };
  const gen: Gen = {
    tracker,
    konst,
    affix: (kind, lit) => helper(`${kind}\0${lit}`, kind === 'prefix' ? 'p' : 'x', (name) => affixCode(name, kind, lit)),
    dig: (path) => helper(`dig\0${path}`, 'g', (name) => digCode(name, path)),
  };
  return { gen, konst, helper, consts, helperCode };
}

/** The helpers generated code calls, by name. */
const HELPERS = { sv, nv, neN, neS, sw, ew, gl, cn, inS, eqN, inN, eqB, isArray: Array.isArray };

/**
 * Facts (facts.ts) for a tracker's rules, and per combination of their values the rules that
 * can hold then (a mask, `words` words per combination): marked rules are filtered by it
 * before any is evaluated, so a read event evaluates no rule about writes its path marked.
 * Undefined when no test is required by enough rules.
 */
function factMasks(tracker: string, rules: readonly RuleCode[], words: number, gen: Gen): { code: string; table: Int32Array } | undefined {
  const forTracker = new Known(tracker);
  const memo = new Map<Expr, Folded>();
  const facts = chooseFacts(rules.map((r) => fold(r.cond, forTracker, memo)).filter((c): c is Expr => typeof c !== 'boolean'));
  if (facts.length === 0) return undefined;
  const table = new Int32Array(2 ** facts.length * words);
  for (let b = 0; b < 2 ** facts.length; b++) {
    const known = new Known(tracker, facts, facts.map((_, i) => ((b >> i) & 1) === 1));
    const memo = new Map<Expr, Folded>();
    rules.forEach((r, i) => {
      if (fold(r.cond, known, memo) === false || r.exceptions.some((x) => fold(x, known, memo) === true)) return;
      table[b * words + Math.floor(i / BITS)]! |= 2 ** (i % BITS);
    });
  }
  const code = facts.map((f, i) => `(${exprCode(f, gen) as string} ? ${2 ** i * words} : 0)`).join(' | ');
  return { code, table };
}

/** Compiles `tracker`'s rules (in the order given) to one matcher. */
export function compileMatcher<M>(tracker: string, rules: readonly RuleCode[], hit: (rule: number, ev: TrackerEvent) => M, none: M[]): Matcher<M> {
  const { gen, konst, helper, consts, helperCode } = generator(tracker);
  const { filters, slots } = prefilters(tracker, rules);
  const words = Array.from({ length: Math.max(1, Math.ceil(rules.length / BITS)) }, (_, w) => `m${w}`);

  // Rules the prefilter marks are cases of their word's switch; the others are tested on every
  // event, in line (mostly one comparison that fails). Either adds the rule's index to `out`.
  const cases: string[][] = words.map(() => []);
  const inline: string[] = [];
  const size = new Map<Expr, number>();
  const closures = new Map<Expr, Pred>();
  rules.forEach((r, i) => {
    const all = [r.cond, ...r.exceptions];
    let test: Code;
    if (all.some((e) => inlinedSize(e, size) > MAX_INLINE_NODES)) {
      // Closures share a macro's code among its uses, so they stay small however deep macros nest.
      const [c, ...xs] = all.map((e) => konst(predicate(e, closures)));
      test = `${c}(ev)${xs.map((x) => ` && !${x}(ev)`).join('')}`;
    } else {
      test = exprCode(r.cond, gen);
      for (const x of r.exceptions) {
        if (test === false) break;
        const ex = exprCode(x, gen);
        if (ex === true) test = false;
        else if (ex !== false) test = test === true ? `!${ex}` : `${test} && !${ex}`;
      }
    }
    if (test === false) return;
    const line = `${test === true ? '' : `if (${test}) `}(out ??= []).push(${i});`;
    if (slots.has(i)) cases[Math.floor(i / BITS)]!.push(`case ${i % BITS}: ${line} break;`);
    else inline.push(line);
  });
  const masks = factMasks(tracker, rules, words.length, gen);

  // The matcher: drops events no rule can match, marks the rules the fields' prefilters let
  // through and keeps those the facts allow, then evaluates them. Each field is read into a
  // block of its own.
  const name = `match_${tracker.replace(/\W/g, '_')}`;
  const req = requirement(tracker, rules);
  const ok = (): string => 'ok = true;';
  const reqCode = req
    ? [`{\nconst v = ${load(req.field, gen.dig)};\nconst s = sv(v);\nif (s === undefined) {\nif (!isArray(v)) return none;\n} else {\nconst n = s.length;\nlet ok = false;\n${trieCode(req.prefix, false, ok)}\n${trieCode(req.suffix, true, ok)}\nif (!ok) return none;\n}\n}`]
    : [];
  const walks = [...filters].map(([field, f]) => {
    const split = (code: string): string => helper(`walk\0${code}`, 'w', (name) => `function ${name}(s, n) {\n${code}\n}`);
    let text: string;
    if (!f.affix && f.exact.size >= EXACT_MAP_MIN) {
      // Exact texts only (lists of program names): one Map lookup rather than a trie compiled
      // to code, which for such lists grew the matcher past what V8 optimizes well.
      const map = new Map<string, number>();
      const table: number[] = [];
      for (const [lit, litSlots] of f.exact) {
        map.set(lit, table.length);
        const w = new Array<number>(words.length).fill(0);
        for (const slot of litSlots) w[Math.floor(slot / BITS)]! |= 2 ** (slot % BITS);
        table.push(...w);
      }
      const t = konst(Int32Array.from(table));
      const marks = words.map((_, w) => `mb[${w}] |= ${t}[j + ${w}];`).join(' ');
      text = `const s = sv(v);\nif (s !== undefined) {\nconst j = ${konst(map)}.get(s);\nif (j !== undefined) { ${marks} }\n} else if (isArray(v)) { ${setBits(f.any)} }`;
    } else {
      const steps = [trieCode(f.prefix, false, setBits, split), trieCode(f.suffix, true, setBits, split)].filter((x) => x !== '');
      text = `const s = sv(v);\nif (s !== undefined) {\nconst n = s.length;\n${steps.join('\n')}\n} else if (isArray(v)) { ${setBits(f.any)} }`;
    }
    // A number is looked up as a number (see eqN), not turned into text, unless prefixes or
    // suffixes need its text. Any other value may equal a `num` alternative's number.
    const numbers = numberSwitch(f.nums, f.affix ? new Map() : f.exact, konst);
    const others = f.numAny.length ? `\n${setBits(f.numAny)}` : '';
    const code = numbers ? `if (typeof v === "number") {\n${numbers}${f.affix ? `\n${text}` : ''}\n} else {\n${text}${others}\n}` : `${text}${others}`;
    return `{\nconst v = ${load(field, gen.dig)};\n${code}\n}`;
  });
  // Per word, a function taking its marked rules lowest slot first: only the code of those
  // rules runs, however many rules the tracker has.
  const used = words.map((_, w) => cases[w]!.length > 0);
  const evals = words.map((_, w) => (used[w]
    ? `function ${name}_${w}(ev, d, out, m) {\ndo {\nconst b = 31 - Math.clz32(m & -m);\nm &= m - 1;\nswitch (b) {\n${cases[w]!.join('\n')}\n}\n} while (m !== 0);\nreturn out;\n}`
    : ''));
  const anyMarked = words.map((w) => `${w} !== 0`).join(' || ');
  // In-line tests beyond CHUNK_CHARS go to functions of their own.
  const inlineChunks: string[][] = [[]];
  let chars = 0;
  for (const line of inline) {
    if (chars > CHUNK_CHARS) {
      inlineChunks.push([]);
      chars = 0;
    }
    inlineChunks[inlineChunks.length - 1]!.push(line);
    chars += line.length;
  }
  const [first, ...more] = inlineChunks;
  const body = [
    '"use strict";',
    ...consts.map((_, j) => `const k${j} = k[${j}];`),
    ...helperCode.values(),
    ...evals,
    ...more.map((lines, j) => `function ${name}_i${j}(ev, d, out) {\n${lines.join('\n')}\nreturn out;\n}`),
    `const mb = new Int32Array(${words.length});`,
    ...(masks ? ['const fm = masks;'] : []),
    `return function ${name}(ev) {`,
    'const d = ev.data;',
    ...reqCode,
    ...words.map((_, w) => `mb[${w}] = 0;`),
    ...walks,
    ...words.map((w, i) => `let ${w} = mb[${i}];`),
    ...(inline.length === 0 ? [`if (!(${anyMarked})) return none;`] : []),
    'let out;',
    ...first!,
    ...more.map((_, j) => `out = ${name}_i${j}(ev, d, out);`),
    `if (${anyMarked}) {`,
    ...(masks ? [`const f = ${masks.code};`, ...words.map((w, i) => `${w} &= fm[f + ${i}];`)] : []),
    ...words.flatMap((m, w) => (used[w] ? [`if (${m} !== 0) out = ${name}_${w}(ev, d, out, ${m});`] : [])),
    '}',
    'return out === undefined ? none : found(out, ev);',
    '};',
    `//# sourceURL=eunomia-rules/${name}.js`,
  ].join('\n');
  // Rule indices to results, in rule order (in-line rules and marked ones may interleave).
  const found = (out: number[], ev: TrackerEvent): M[] => {
    if (out.length > 1) out.sort((a, b) => a - b);
    return out.map((i) => hit(i, ev));
  };
  const helpers = { ...HELPERS, found, none, masks: masks?.table, k: consts };
  const factory = new Function(...Object.keys(helpers), body) as (...args: unknown[]) => Matcher<M>;
  return factory(...Object.values(helpers));
}

/**
 * One matcher for all trackers: the tracker's name (by its length, then the name) picks its
 * matcher, called directly; other trackers' events match nothing. A tracker's matcher is made
 * (`make`) by its first event: trackers the agent does not run cost nothing, and loading stays
 * quick.
 */
export function compileDispatch<M>(byTracker: ReadonlyMap<string, () => Matcher<M>>, none: M[]): Matcher<M> {
  const makers: (() => Matcher<M>)[] = [];
  const byLength = new Map<number, string[]>();
  for (const [tracker, make] of byTracker) {
    const lines = byLength.get(tracker.length) ?? byLength.set(tracker.length, []).get(tracker.length)!;
    lines.push(`if (t === ${JSON.stringify(tracker)}) return m${makers.length}(ev);`);
    makers.push(make);
  }
  const cases = [...byLength].map(([len, lines]) => `case ${len}:\n${lines.join('\n')}\nbreak;`);
  const body = [
    '"use strict";',
    // The first call puts the matcher in place of the stub.
    ...makers.map((_, j) => `let m${j} = (ev) => (m${j} = make[${j}]())(ev);`),
    'return function match(ev) {',
    'const t = ev.tracker;',
    'if (typeof t !== "string") return none;',
    `switch (t.length) {\n${cases.join('\n')}\n}`,
    'return none;',
    '};',
    '//# sourceURL=eunomia-rules/match.js',
  ].join('\n');
  return (new Function('make', 'none', body) as (make: (() => Matcher<M>)[], none: M[]) => Matcher<M>)(makers, none);
}
