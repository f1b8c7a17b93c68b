/** A set of rules loaded from files: overrides, macros and lists resolved, compiled and indexed by tracker. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { TrackerEvent } from '../pipeline/types.js';
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import { compileDispatch, compileMatcher, type Matcher } from './codegen.js';
import { parseCondition, resolveCondition, suggest, type CompileContext, type Expr, type Fail } from './condition.js';
import { cachedItems } from './cache.js';
import { compileTemplate, type Render } from './output.js';
import { parseRuleFile, ruleError, type Item, type ListItem, type MacroItem, type Priority, type RuleItem, type Text, type Where } from './parse.js';

export interface RuleInfo {
  id: string;
  name: string;
  desc: string;
  priority: Priority;
  tags: string[];
  events: string[];
  enabled: boolean;
}

export interface Match {
  rule: string;
  /** The rule's human name. */
  name: string;
  priority: Priority;
  tags: string[];
  /** The rule's output template rendered for the event. */
  message: string;
}

interface Compiled extends RuleInfo {
  cond: Expr;
  exceptions: Expr[];
  render: Render;
}

interface Defs {
  rules: Map<string, RuleItem>;
  macros: Map<string, MacroItem>;
  lists: Map<string, ListItem>;
}

const at = (w: Where): string => `${w.file}:${w.line}:${w.col}`;
const failAt = (t: Text, label: string): Fail => (offset, message) => { throw ruleError(t.where, `${label}: ${message}`, offset); };
// Shared by every non-matching event (no allocation); frozen so a caller cannot fill it.
const NONE = Object.freeze([]) as unknown as Match[];

export interface RuleSetOptions {
  /** The cache of parsed rule files (cache.ts) to take files from, or false to parse every file. Default: dist/rules-cache.json. */
  cache?: string | false;
}

export class RuleSet {
  private defs: Defs = { rules: new Map(), macros: new Map(), lists: new Map() };
  private compiled: Compiled[] = [];
  private disabled = new Set<string>();
  /** The enabled rules' matcher: the tracker's name picks the matcher of the rules that need it. */
  private matcher: Matcher<Match> = () => NONE;

  constructor(private readonly opts: RuleSetOptions = {}) {}

  /** Loads files in order; a directory contributes its *.yaml / *.yml files sorted by name. */
  loadFiles(paths: string[]): void {
    const texts: [string, string][] = [];
    for (const p of paths) {
      let files = [p];
      try {
        if (statSync(p).isDirectory()) files = readdirSync(p).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => join(p, f));
        for (const f of files) texts.push([readFileSync(f, 'utf8'), f]);
      } catch (e) {
        throw new EunomiaError(ErrorCodes.RULE, `rule file ${p}: ${(e as Error).message}`, { cause: e });
      }
    }
    const cache = this.opts.cache;
    this.apply(texts.flatMap(([text, name]) => (cache === false ? undefined : cachedItems(text, name, cache)) ?? parseRuleFile(text, name)));
  }

  /** Loads one file's text; `name` is used in error messages. */
  loadText(text: string, name: string): void {
    this.apply(parseRuleFile(text, name));
  }

  /** Disables rules by id (an unknown id is an error, so typos don't go unnoticed). */
  disable(ids: Iterable<string>): void {
    const disabled = new Set(this.disabled);
    for (const id of ids) {
      if (!this.defs.rules.has(id)) {
        throw new EunomiaError(ErrorCodes.RULE, `cannot disable unknown rule "${id}"${suggest(id, this.defs.rules.keys())}`);
      }
      disabled.add(id);
    }
    this.setIndex(buildIndex(this.compiled, disabled));
    this.disabled = disabled;
  }

  rules(): RuleInfo[] {
    return this.compiled.map(({ id, name, desc, priority, tags, events, enabled }) => ({
      id, name, desc, priority, tags, events, enabled: enabled && !this.disabled.has(id),
    }));
  }

  match(ev: TrackerEvent): Match[] {
    return this.matcher(ev);
  }

  /** Adds items to a copy of the definitions and compiles everything; nothing changes if that fails. */
  private apply(items: Item[]): void {
    const defs: Defs = { rules: new Map(this.defs.rules), macros: new Map(this.defs.macros), lists: new Map(this.defs.lists) };
    for (const it of items) {
      // Later macros and lists replace earlier ones of the same name, as in Falco.
      if (it.kind === 'macro') defs.macros.set(it.name, it);
      else if (it.kind === 'list') defs.lists.set(it.name, it);
      else {
        const prev = defs.rules.get(it.id);
        if (it.override) {
          if (!prev) throw ruleError(it.where, `rule "${it.id}": "override: true" but no earlier rule has this id`);
          // Keys given replace the earlier rule's; the others are kept (so `enabled: false` alone works).
          defs.rules.set(it.id, { ...prev, ...it, override: false });
        } else if (prev) {
          throw ruleError(it.where, `rule "${it.id}" is already defined at ${at(prev.where)}; add "override: true" to replace it`);
        } else defs.rules.set(it.id, it);
      }
    }
    const compiled = compile(defs);
    this.setIndex(buildIndex(compiled, this.disabled));
    this.compiled = compiled;
    this.defs = defs;
  }

  private setIndex(index: Map<string, () => Matcher<Match>>): void {
    this.matcher = compileDispatch(index, NONE);
  }
}

/** Per tracker, what makes the matcher of the enabled rules that need it, in rule order. */
function buildIndex(compiled: Compiled[], disabled: Set<string>): Map<string, () => Matcher<Match>> {
  const byTracker = new Map<string, Compiled[]>();
  for (const r of compiled) {
    if (!r.enabled || disabled.has(r.id)) continue;
    for (const t of r.events) {
      const list = byTracker.get(t);
      if (list) list.push(r);
      else byTracker.set(t, [r]);
    }
  }
  const out = new Map<string, () => Matcher<Match>>();
  for (const [t, rules] of byTracker) {
    const hit = (i: number, ev: TrackerEvent): Match => {
      const r = rules[i]!;
      return { rule: r.id, name: r.name, priority: r.priority, tags: r.tags, message: r.render(ev) };
    };
    out.set(t, () => compileMatcher(t, rules, hit, NONE));
  }
  return out;
}

function compile(defs: Defs): Compiled[] {
  const lists = new Map<string, (string | number)[]>();
  const resolveList = (l: ListItem, stack: string[]): (string | number)[] => {
    const done = lists.get(l.name);
    if (done) return done;
    const out: (string | number)[] = [];
    for (const { value, where } of l.items) {
      const inner = typeof value === 'string' ? defs.lists.get(value) : undefined;
      if (!inner) { out.push(value); continue; }
      if (stack.includes(inner.name)) throw ruleError(where, `list "${l.name}": recursive list ${[...stack, inner.name].join(' -> ')}`);
      out.push(...resolveList(inner, [...stack, inner.name]));
    }
    lists.set(l.name, out);
    return out;
  };

  const macros = new Map<string, Expr>();
  const compiling: string[] = [];
  const ctx: CompileContext = {
    macro(name, offset, fail) {
      const done = macros.get(name);
      if (done) return done;
      const m = defs.macros.get(name);
      if (!m) return undefined;
      if (compiling.includes(name)) fail(offset, `recursive macro ${[...compiling, name].join(' -> ')}`);
      compiling.push(name);
      const f = failAt(m.condition, `macro "${name}"`);
      const expr = resolveCondition(m.condition.ast ?? parseCondition(m.condition.value, f), ctx, f);
      compiling.pop();
      macros.set(name, expr);
      return expr;
    },
    list: (name) => { const l = defs.lists.get(name); return l && resolveList(l, [name]); },
    macroNames: () => defs.macros.keys(),
    listNames: () => defs.lists.keys(),
  };
  const cond = (t: Text, label: string): Expr => {
    const f = failAt(t, label);
    return resolveCondition(t.ast ?? parseCondition(t.value, f), ctx, f);
  };

  // Every macro and list is compiled, used or not, so a broken one is reported at load.
  for (const l of defs.lists.values()) resolveList(l, [l.name]);
  for (const name of defs.macros.keys()) ctx.macro(name, 0, () => { throw new Error('unreachable'); });

  return [...defs.rules.values()].map((r): Compiled => {
    const label = `rule "${r.id}"`;
    if (!r.events || r.events.length === 0) throw ruleError(r.where, `${label}: missing "events" (the trackers it needs, e.g. [process])`);
    if (!r.condition) throw ruleError(r.where, `${label}: missing "condition"`);
    const name = r.name ?? r.id;
    return {
      id: r.id,
      name,
      desc: r.desc ?? '',
      priority: r.priority ?? 'warning',
      tags: r.tags ?? [],
      events: r.events,
      enabled: r.enabled ?? true,
      cond: cond(r.condition, label),
      exceptions: (r.exceptions ?? []).map((x, i) => cond(x, `${label}: exception ${i + 1}`)),
      render: r.output ? compileTemplate(r.output.value, failAt(r.output, label)) : () => name,
    };
  });
}
