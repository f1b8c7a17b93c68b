/**
 * Facts: cheap tests that many of a tracker's rules require (`write = true`, `fd >= 0`,
 * `container.id != host`). The rules are partitioned by them (codegen.ts, compileTracker): an
 * event is matched only against the rules its facts allow, compiled with those tests decided.
 * Everything here works on Exprs and must keep their meaning (condition.ts, `predicate`).
 */
import { predicate, type Expr } from './condition.js';

/** An Expr with some tests decided: what is left to test, or its value. */
export type Folded = Expr | boolean;

/** The operands of an `and` chain, left to right. */
export function andOperands(e: Expr, out: Expr[] = []): Expr[] {
  if (e.t === 'and') {
    andOperands(e.a, out);
    andOperands(e.b, out);
  } else out.push(e);
  return out;
}

/** Tests that read one field and compare it without calling into the engine: what a fact may be. */
const cheap = (e: Expr): boolean => e.t === 'exists' || e.t === 'num' || (e.t === 'str' && (e.op === '=' || e.op === '!='));

/** Equal tests have equal keys (a test written in two rules is two objects); undefined for and/or/not. */
export function atomKey(e: Expr): string | undefined {
  switch (e.t) {
    case 'exists': return `exists\0${e.field}`;
    // -0 and 0 compare alike, and String(-0) is "0".
    case 'num': return `num\0${e.field}\0${e.op}\0${String(e.n)}`;
    case 'str': return `str\0${e.field}\0${e.op}\0${e.s}`;
    case 'glob': return `glob\0${e.field}\0${e.glob}`;
    case 'in': return `in\0${e.field}\0${[...e.set].sort().join('\0')}`;
    default: return undefined;
  }
}

/** A test a rule requires: an operand of its top-level `and`, or the negation of one. */
function requirement(e: Expr): { atom: Expr; key: string; value: boolean } | undefined {
  const value = e.t !== 'not';
  const atom = value ? e : e.a;
  if (!cheap(atom) || ('field' in atom && atom.field === 'evt.tracker')) return undefined;
  const key = atomKey(atom);
  return key === undefined ? undefined : { atom, key, value };
}

/**
 * Up to `max` facts that partition these rules best: the tests most of them require (a
 * fifth of them at least, two at least). A test required by exactly the same rules, the same
 * way, as one chosen already (`container.id exists` beside `container.id != host`) adds nothing.
 */
export function chooseFacts(conds: readonly Expr[], max = 3): Expr[] {
  const byKey = new Map<string, { atom: Expr; rules: string[] }>();
  conds.forEach((c, i) => {
    for (const op of andOperands(c)) {
      const r = requirement(op);
      if (!r) continue;
      let entry = byKey.get(r.key);
      if (!entry) byKey.set(r.key, (entry = { atom: r.atom, rules: [] }));
      entry.rules.push(`${i}${r.value ? '+' : '-'}`);
    }
  });
  const min = Math.max(2, Math.ceil(conds.length / 5));
  // Of tests required alike, a comparison before `exists`: `container.id != host` tells host
  // events from containers' (and implies `container.id exists`).
  const ranked = [...byKey.values()]
    .map((e) => ({ ...e, rules: [...new Set(e.rules)] }))
    .filter((e) => e.rules.length >= min)
    .sort((a, b) => b.rules.length - a.rules.length || Number(a.atom.t === 'exists') - Number(b.atom.t === 'exists'));
  const chosen: Expr[] = [];
  const signatures = new Set<string>();
  for (const e of ranked) {
    if (chosen.length >= max) break;
    const sig = e.rules.join(',');
    if (signatures.has(sig)) continue;
    signatures.add(sig);
    chosen.push(e.atom);
  }
  return chosen;
}

/** Known facts, by atomKey, and what they imply about their fields; `evt.tracker` tests are decided by the tracker. */
export class Known {
  private readonly values = new Map<string, boolean>();
  /** Fields with a value (some true fact compares it); fields without one (`exists` is false). */
  private readonly present = new Set<string>();
  private readonly absent = new Set<string>();

  constructor(private readonly tracker: string, facts: readonly Expr[] = [], values: readonly boolean[] = []) {
    facts.forEach((f, i) => {
      const v = values[i]!;
      this.values.set(atomKey(f)!, v);
      const field = (f as { field: string }).field;
      // A true comparison reads a value (a missing field never compares); `exists` false means none.
      if (v) this.present.add(field);
      else if (f.t === 'exists') this.absent.add(field);
    });
  }

  /** The value of an atomic test, when the facts decide it. */
  of(e: Expr): boolean | undefined {
    if (!('field' in e)) return undefined;
    // Facts are cheap tests: no other test has a fact's key.
    const v = cheap(e) ? this.values.get(atomKey(e)!) : undefined;
    if (v !== undefined) return v;
    if (e.field === 'evt.tracker') return predicate(e)({ tracker: this.tracker, instance: 0, time: 0, data: {} });
    // Every test of a missing field is false.
    if (this.absent.has(e.field)) return false;
    if (e.t === 'exists' && this.present.has(e.field)) return true;
    return undefined;
  }
}

/**
 * `e` with the tests the facts decide replaced by their values, simplified. Shared subtrees
 * (a macro's Expr) stay shared through `memo`.
 */
export function fold(e: Expr, known: Known, memo = new Map<Expr, Folded>()): Folded {
  const done = memo.get(e);
  if (done !== undefined) return done;
  let r: Folded;
  switch (e.t) {
    case 'and': case 'or': {
      // An operand equal to `stop` decides the whole; one equal to `!stop` drops out.
      const stop = e.t === 'or';
      const a = fold(e.a, known, memo);
      if (a === stop) { r = stop; break; }
      const b = fold(e.b, known, memo);
      if (b === stop) r = stop;
      else if (typeof a === 'boolean') r = b;
      else if (typeof b === 'boolean') r = a;
      else r = a === e.a && b === e.b ? e : { t: e.t, a, b };
      break;
    }
    case 'not': {
      const a = fold(e.a, known, memo);
      r = typeof a === 'boolean' ? !a : a === e.a ? e : { t: 'not', a };
      break;
    }
    default: r = known.of(e) ?? e;
  }
  memo.set(e, r);
  return r;
}
