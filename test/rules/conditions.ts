/** Conditions for the rule compiler's tests: parsed and resolved with the test's own macros and lists. */
import { parseCondition, resolveCondition, type CompileContext, type Expr, type Fail } from '../../src/rules/condition.js';

export const fail: Fail = (offset, message) => {
  throw new Error(`at ${offset}: ${message}`);
};

/** A parser of conditions over `macros` and `lists`; a macro is one shared Expr, as in a rule set. */
export function conditions(macros: Record<string, string>, lists: Record<string, (string | number)[]> = {}): (src: string) => Expr {
  return (src) => {
    const done = new Map<string, Expr>();
    const ctx: CompileContext = {
      macro(name) {
        if (!(name in macros)) return undefined;
        if (!done.has(name)) done.set(name, resolveCondition(parseCondition(macros[name]!, fail), ctx, fail));
        return done.get(name);
      },
      list: (name) => lists[name],
      macroNames: () => Object.keys(macros),
      listNames: () => Object.keys(lists),
    };
    return resolveCondition(parseCondition(src, fail), ctx, fail);
  };
}
