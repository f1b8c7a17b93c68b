/**
 * Condition language: tokenizer, parser (to an AST with offsets), resolver (macros and lists,
 * to an Expr) and the reference evaluator (closures). Parsing needs nothing but the text;
 * resolving needs the whole rule set. Rule sets run Exprs compiled to JavaScript (codegen.ts).
 */
import type { TrackerEvent } from '../pipeline/types.js';

/** Reports an error at `offset` inside the condition text; never returns. */
export type Fail = (offset: number, message: string) => never;

export type Literal = { kind: 'str'; value: string; bare: boolean } | { kind: 'num'; value: number };

export type CmpOp = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'startswith' | 'endswith' | 'contains' | 'glob';

export type Cond =
  | { t: 'and' | 'or'; a: Cond; b: Cond }
  | { t: 'not'; a: Cond }
  | { t: 'macro'; name: string; at: number }
  | { t: 'exists'; field: string; at: number }
  | { t: 'cmp'; field: string; op: CmpOp; value: Literal; at: number; opAt: number }
  | { t: 'in'; field: string; items: { lit: Literal; at: number }[]; at: number };

type Tok = { k: 'word' | 'str' | 'num' | 'op' | 'punct' | 'end'; v: string; at: number };

const CMP_OPS = new Set(['=', '!=', '<', '<=', '>', '>=']);
const WORD_OPS = ['startswith', 'endswith', 'contains', 'glob', 'in', 'exists'];
const KEYWORDS = new Set(['and', 'or', 'not']);
/** Operators, for "did you mean" hints. */
export const OPERATORS = [...CMP_OPS, ...WORD_OPS];

function tokenize(src: string, fail: Fail): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) { i++; continue; }
    const at = i;
    if (c === '(' || c === ')' || c === ',') { toks.push({ k: 'punct', v: c, at }); i++; continue; }
    const two = src.slice(i, i + 2);
    if (two === '==') fail(at, 'unknown operator "==" — did you mean "="?');
    if (two === '!=' || two === '<=' || two === '>=') { toks.push({ k: 'op', v: two, at }); i += 2; continue; }
    if (c === '=' || c === '<' || c === '>') { toks.push({ k: 'op', v: c, at }); i++; continue; }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let s = '';
      while (j < src.length && src[j] !== c) {
        // Backslash escapes the quote or a backslash; anything else is kept literally (paths, regex-like text).
        if (src[j] === '\\' && (src[j + 1] === c || src[j + 1] === '\\')) j++;
        s += src[j++];
      }
      if (j >= src.length) fail(at, `unterminated string starting with ${c}`);
      toks.push({ k: 'str', v: s, at });
      i = j + 1;
      continue;
    }
    const m = /^[^\s(),=<>!"']+/.exec(src.slice(i));
    if (!m) fail(at, `unexpected character "${c}"`);
    const w = m![0];
    toks.push({ k: /^-?\d+(\.\d+)?$/.test(w) ? 'num' : 'word', v: w, at });
    i += w.length;
  }
  toks.push({ k: 'end', v: '', at: src.length });
  return toks;
}

/** Edit distance, for suggestions. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length]!;
}

/** ` — did you mean "x"?` when a candidate is close enough, else ''. */
export function suggest(word: string, candidates: Iterable<string>): string {
  let best = '';
  let bestD = Infinity;
  for (const c of candidates) {
    // A prefix ("warn" for "warning") counts as a near miss too.
    const dd = word !== '' && c.startsWith(word) ? 1 : distance(word, c);
    if (dd < bestD) { best = c; bestD = dd; }
  }
  return bestD <= Math.max(1, Math.floor(word.length / 3)) ? ` — did you mean "${best}"?` : '';
}

const FIELD_RE = /^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$/;

/** Parses a condition; precedence is not > and > or. */
export function parseCondition(src: string, fail: Fail): Cond {
  const toks = tokenize(src, fail);
  let p = 0;
  const peek = (): Tok => toks[p]!;
  const next = (): Tok => toks[p++]!;
  const isWord = (v: string): boolean => peek().k === 'word' && peek().v === v;
  const show = (t: Tok): string => (t.k === 'end' ? 'end of condition' : `"${t.v}"`);

  const literal = (): { lit: Literal; at: number } => {
    const t = next();
    if (t.k === 'num') return { lit: { kind: 'num', value: Number(t.v) }, at: t.at };
    if (t.k === 'str') return { lit: { kind: 'str', value: t.v, bare: false }, at: t.at };
    if (t.k === 'word' && !KEYWORDS.has(t.v)) return { lit: { kind: 'str', value: t.v, bare: true }, at: t.at };
    return fail(t.at, `expected a value, found ${show(t)}`);
  };

  const primary = (): Cond => {
    const t = next();
    if (t.k === 'punct' && t.v === '(') {
      const inner = or();
      const close = next();
      if (close.k !== 'punct' || close.v !== ')') fail(t.at, `unbalanced parentheses: "(" is never closed (found ${show(close)})`);
      return inner;
    }
    if (t.k !== 'word' || KEYWORDS.has(t.v)) return fail(t.at, `expected a field, macro or "(", found ${show(t)}`);
    if (!FIELD_RE.test(t.v)) fail(t.at, `"${t.v}" is not a valid field or macro name`);
    const op = peek();
    // A name not followed by an operator is a macro used as a boolean term.
    if (op.k === 'end' || (op.k === 'punct' && op.v === ')') || (op.k === 'word' && (op.v === 'and' || op.v === 'or'))) {
      return { t: 'macro', name: t.v, at: t.at };
    }
    if (op.k === 'op') {
      next();
      const { lit } = literal();
      return { t: 'cmp', field: t.v, op: op.v as CmpOp, value: lit, at: t.at, opAt: op.at };
    }
    if (op.k === 'word' && WORD_OPS.includes(op.v)) {
      next();
      if (op.v === 'exists') return { t: 'exists', field: t.v, at: t.at };
      if (op.v === 'in') {
        const open = next();
        if (open.k !== 'punct' || open.v !== '(') fail(open.at, `"in" needs a parenthesised list, found ${show(open)}`);
        const items = [literal()];
        while (peek().k === 'punct' && peek().v === ',') { next(); items.push(literal()); }
        const close = next();
        if (close.k !== 'punct' || close.v !== ')') fail(open.at, `unbalanced parentheses: "(" of "in" is never closed (found ${show(close)})`);
        return { t: 'in', field: t.v, items, at: t.at };
      }
      const { lit } = literal();
      return { t: 'cmp', field: t.v, op: op.v as CmpOp, value: lit, at: t.at, opAt: op.at };
    }
    return fail(op.at, `unknown operator ${show(op)} after "${t.v}"${op.k === 'word' ? suggest(op.v, OPERATORS) : ''}`);
  };

  const not = (): Cond => {
    if (isWord('not')) { next(); return { t: 'not', a: not() }; }
    return primary();
  };
  const and = (): Cond => {
    let a = not();
    while (isWord('and')) { next(); a = { t: 'and', a, b: not() }; }
    return a;
  };
  const or = (): Cond => {
    let a = and();
    while (isWord('or')) { next(); a = { t: 'or', a, b: and() }; }
    return a;
  };

  const ast = or();
  const rest = peek();
  if (rest.k === 'punct' && rest.v === ')') fail(rest.at, 'unbalanced parentheses: ")" has no matching "("');
  if (rest.k !== 'end') fail(rest.at, `expected "and", "or" or end of condition, found ${show(rest)}`);
  return ast;
}

export type Pred = (ev: TrackerEvent) => boolean;
export type Getter = (ev: TrackerEvent) => unknown;

/** A field reader: dotted path into `data`, or `evt.tracker` / `evt.time`. */
export function fieldGetter(path: string): Getter {
  if (path === 'evt.tracker') return (ev) => ev.tracker;
  if (path === 'evt.time') return (ev) => ev.time;
  const parts = path.split('.');
  if (parts.length === 1) { const k = parts[0]!; return (ev) => ev.data[k]; }
  return (ev) => {
    let v: unknown = ev.data;
    for (const k of parts) {
      if (v === null || typeof v !== 'object') return undefined;
      v = (v as Record<string, unknown>)[k];
    }
    return v;
  };
}

export type NumOp = '=' | '!=' | '<' | '<=' | '>' | '>=';
export type StrOp = '=' | '!=' | 'startswith' | 'endswith' | 'contains';

/**
 * A checked condition: macros inlined (a macro's Expr is shared by every use), lists resolved
 * to Sets, globs to RegExps. This is what is evaluated, by `predicate` (closures) or by the
 * generated matchers of codegen.ts; both follow the semantics written down in `predicate`.
 */
export type Expr =
  | { t: 'and'; a: Expr; b: Expr }
  | { t: 'or'; a: Expr; b: Expr }
  | { t: 'not'; a: Expr }
  | { t: 'exists'; field: string }
  | { t: 'num'; field: string; op: NumOp; n: number }
  | { t: 'str'; field: string; op: StrOp; s: string }
  | { t: 'glob'; field: string; glob: string; re: RegExp }
  | { t: 'in'; field: string; set: ReadonlySet<string> };

/** What resolving needs from the rule set; the `fail` functions locate errors in their own text. */
export interface CompileContext {
  /** Resolves macro `name` referenced at `at` (errors in its body are located in the macro), or undefined if there is none. */
  macro(name: string, at: number, fail: Fail): Expr | undefined;
  /** The resolved items of list `name`, or undefined if there is none. */
  list(name: string): (string | number)[] | undefined;
  macroNames(): Iterable<string>;
  listNames(): Iterable<string>;
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) { re += '\\['; continue; }
      let body = glob.slice(i + 1, end).replace(/[\\\]]/g, '\\$&');
      if (body.startsWith('!')) body = '^' + body.slice(1);
      re += `[${body}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

/** A field's value as a number: numbers, bigints and numeric strings; NaN (never compares) otherwise. */
export const toNum = (v: unknown): number =>
  typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;

/** A field's value as a string: scalars; undefined (never compares) for missing fields, arrays and objects. */
export const toStr = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean' ? String(v) : undefined;

function resolveCmp(c: Extract<Cond, { t: 'cmp' }>, fail: Fail): Expr {
  const lit = c.value;
  if (lit.kind === 'num') {
    if (!CMP_OPS.has(c.op)) fail(c.opAt, `operator "${c.op}" needs a string operand, got number ${lit.value} (quote it)`);
    return { t: 'num', field: c.field, op: c.op as NumOp, n: lit.value };
  }
  if (c.op === '<' || c.op === '<=' || c.op === '>' || c.op === '>=') fail(c.opAt, `operator "${c.op}" needs a number, got "${lit.value}"`);
  switch (c.op) {
    case '=': case '!=': case 'startswith': case 'endswith': case 'contains':
      return { t: 'str', field: c.field, op: c.op, s: lit.value };
    case 'glob': return { t: 'glob', field: c.field, glob: lit.value, re: globToRegExp(lit.value) };
    default: return fail(c.opAt, `unknown operator "${c.op as string}"`);
  }
}

/** Checks an AST and resolves its macros and lists; errors go to `fail`, in the order of the text. */
export function resolveCondition(ast: Cond, ctx: CompileContext, fail: Fail): Expr {
  switch (ast.t) {
    case 'and': { const a = resolveCondition(ast.a, ctx, fail); return { t: 'and', a, b: resolveCondition(ast.b, ctx, fail) }; }
    case 'or': { const a = resolveCondition(ast.a, ctx, fail); return { t: 'or', a, b: resolveCondition(ast.b, ctx, fail) }; }
    case 'not': return { t: 'not', a: resolveCondition(ast.a, ctx, fail) };
    case 'macro': {
      const m = ctx.macro(ast.name, ast.at, fail);
      if (!m) return fail(ast.at, `unknown macro "${ast.name}"${suggest(ast.name, ctx.macroNames())} (or a field with a missing operator)`);
      return m;
    }
    case 'exists': return { t: 'exists', field: ast.field };
    case 'cmp': return resolveCmp(ast, fail);
    case 'in': {
      const set = new Set<string>();
      for (const { lit, at } of ast.items) {
        const list = lit.kind === 'str' && lit.bare ? ctx.list(lit.value) : undefined;
        if (list) for (const x of list) set.add(String(x));
        else if (ast.items.length === 1 && lit.kind === 'str' && lit.bare) {
          // A lone bare word is almost always a list name; quote it (or use "=") for a literal.
          fail(at, `unknown list "${lit.value}"${suggest(lit.value, ctx.listNames())} (quote it for a literal)`);
        } else set.add(String(lit.value));
      }
      return { t: 'in', field: ast.field, set };
    }
  }
}

/**
 * The reference semantics, as closures. A missing field never compares (only `not … exists`
 * is true of it); numbers compare with number literals (numeric strings too), scalars as text
 * with string literals; an array works only with `contains` (an element equals the literal)
 * and `in` (some element is in the set).
 */
export function predicate(e: Expr, memo = new Map<Expr, Pred>()): Pred {
  // A macro's Expr is shared by its uses: one closure for it, however often it is used.
  let p = memo.get(e);
  if (p === undefined) memo.set(e, (p = closure(e, memo)));
  return p;
}

function closure(e: Expr, memo: Map<Expr, Pred>): Pred {
  switch (e.t) {
    case 'and': { const a = predicate(e.a, memo); const b = predicate(e.b, memo); return (ev) => a(ev) && b(ev); }
    case 'or': { const a = predicate(e.a, memo); const b = predicate(e.b, memo); return (ev) => a(ev) || b(ev); }
    case 'not': { const a = predicate(e.a, memo); return (ev) => !a(ev); }
    case 'exists': { const get = fieldGetter(e.field); return (ev) => get(ev) != null; }
    case 'num': {
      const get = fieldGetter(e.field);
      const n = e.n;
      const test =
        e.op === '=' ? (x: number) => x === n
        : e.op === '!=' ? (x: number) => x !== n
        : e.op === '<' ? (x: number) => x < n
        : e.op === '<=' ? (x: number) => x <= n
        : e.op === '>' ? (x: number) => x > n
        : (x: number) => x >= n;
      return (ev) => { const x = toNum(get(ev)); return !Number.isNaN(x) && test(x); };
    }
    case 'str': {
      const get = fieldGetter(e.field);
      const s = e.s;
      switch (e.op) {
        case '=': return (ev) => toStr(get(ev)) === s;
        case '!=': return (ev) => { const v = toStr(get(ev)); return v !== undefined && v !== s; };
        case 'startswith': return (ev) => toStr(get(ev))?.startsWith(s) ?? false;
        case 'endswith': return (ev) => toStr(get(ev))?.endsWith(s) ?? false;
        case 'contains':
          return (ev) => {
            const v = get(ev);
            if (Array.isArray(v)) return v.some((x) => toStr(x) === s);
            return toStr(v)?.includes(s) ?? false;
          };
      }
      throw new Error('unknown string operator');
    }
    case 'glob': { const get = fieldGetter(e.field); const re = e.re; return (ev) => { const v = toStr(get(ev)); return v !== undefined && re.test(v); }; }
    case 'in': {
      const get = fieldGetter(e.field);
      const set = e.set;
      const has = (v: unknown): boolean => { const s = toStr(v); return s !== undefined && set.has(s); };
      return (ev) => { const v = get(ev); return Array.isArray(v) ? v.some(has) : has(v); };
    }
  }
}

/** Resolves and compiles an AST to a closure (the reference for the generated matchers). */
export function compileCondition(ast: Cond, ctx: CompileContext, fail: Fail): Pred {
  return predicate(resolveCondition(ast, ctx, fail));
}
