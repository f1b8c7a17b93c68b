/** The rule language: YAML rule files compiled to matchers (see docs/rules.md). */
export { RuleSet, type Match, type RuleInfo, type RuleSetOptions } from './ruleset.js';
export { PRIORITIES, parseRuleFile, type Priority } from './parse.js';
export { parseCondition, compileCondition, fieldGetter, type Cond, type Pred } from './condition.js';
export { compileTemplate, type Render } from './output.js';
export { BUILTIN_RULES, loadRules } from './builtin.js';
