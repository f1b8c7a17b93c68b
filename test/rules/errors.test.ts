import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RuleSet } from '../../src/rules/index.js';
import { ErrorCodes, EunomiaError } from '../../src/core/errors.js';

/** Loading `text` as f.yaml fails with E_RULE and exactly `message` (which starts with f.yaml:line:col). */
function fails(text: string, message: string): void {
  assert.throws(() => new RuleSet().loadText(text, 'f.yaml'), (e: unknown) => {
    assert.ok(e instanceof EunomiaError && e.code === ErrorCodes.RULE, String(e));
    assert.equal(e.message, message);
    return true;
  });
}

const RULE = '- rule: a\n  events: [process]\n';

test('bad YAML reports the parser position', () => {
  fails('- rule: a\n  events: [process\n  condition: x\n',
    'f.yaml:3:3: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]');
  fails('rule: a\n', 'f.yaml:1:1: a rule file must be a YAML list of "- rule:", "- macro:" or "- list:" items');
});

test('unknown keys, missing keys, bad priority', () => {
  fails(`${RULE}  conditon: comm = a\n`, 'f.yaml:3:3: rule "a": unknown key "conditon" — did you mean "condition"?');
  fails('- rule: a\n  condition: comm = a\n', 'f.yaml:1:9: rule "a": missing "events" (the trackers it needs, e.g. [process])');
  fails(RULE, 'f.yaml:1:9: rule "a": missing "condition"');
  fails('- macro: m\n', 'f.yaml:1:10: macro "m": missing "condition"');
  fails(`${RULE}  priority: warn\n  condition: comm = a\n`,
    'f.yaml:3:13: rule "a": unknown priority "warn" — did you mean "warning"? (one of emergency, alert, critical, error, warning, notice, informational, debug)');
  fails(`${RULE}  enabled: yes please\n  condition: comm = a\n`, 'f.yaml:3:12: rule "a": "enabled" must be true or false');
});

test('condition syntax errors point into the condition', () => {
  fails(`${RULE}  condition: comm startwith b\n`,
    'f.yaml:3:19: rule "a": unknown operator "startwith" after "comm" — did you mean "startswith"?');
  fails(`${RULE}  condition: (comm = a or (pid = 1)\n`,
    'f.yaml:3:14: rule "a": unbalanced parentheses: "(" is never closed (found end of condition)');
  fails(`${RULE}  condition: "comm = a)"\n`, 'f.yaml:3:23: rule "a": unbalanced parentheses: ")" has no matching "("');
  fails(`${RULE}  condition: comm = 'abc\n`, 'f.yaml:3:21: rule "a": unterminated string starting with \'');
  fails(`${RULE}  condition: comm = a\n  exceptions:\n    - pid == 1\n`,
    'f.yaml:5:11: rule "a": exception 1: unknown operator "==" — did you mean "="?');
  // A folded block scalar does not map offsets to columns: the offset is given instead.
  fails(`${RULE}  condition: >\n    comm = a and\n    (pid = 1\n`,
    'f.yaml:3:14: rule "a": unbalanced parentheses: "(" is never closed (found end of condition) (at offset 13 of the text)');
});

test('operators on the wrong kind of operand', () => {
  fails(`${RULE}  condition: comm startswith 5\n`, 'f.yaml:3:19: rule "a": operator "startswith" needs a string operand, got number 5 (quote it)');
  fails(`${RULE}  condition: pid > abc\n`, 'f.yaml:3:18: rule "a": operator ">" needs a number, got "abc"');
});

test('unknown and recursive macros, unknown lists', () => {
  fails(`- macro: is_shell\n  condition: comm = sh\n${RULE}  condition: is_shel and pid = 1\n`,
    'f.yaml:5:14: rule "a": unknown macro "is_shel" — did you mean "is_shell"? (or a field with a missing operator)');
  fails(`- list: shells\n  items: [sh]\n${RULE}  condition: comm in (shell)\n`,
    'f.yaml:5:23: rule "a": unknown list "shell" — did you mean "shells"? (quote it for a literal)');
  fails('- macro: m\n  condition: comm in (nolist)\n', 'f.yaml:2:23: macro "m": unknown list "nolist" (quote it for a literal)');
  fails('- macro: a\n  condition: b or comm = x\n- macro: b\n  condition: pid = 1 and a\n',
    'f.yaml:4:26: macro "b": recursive macro a -> b -> a');
  fails('- list: x\n  items: [1, y]\n- list: y\n  items: [x]\n', 'f.yaml:4:11: list "y": recursive list x -> y -> x');
});

test('bad output templates', () => {
  fails(`${RULE}  condition: comm = a\n  output: "x {comm"\n`,
    'f.yaml:4:14: rule "a": unclosed "{" in output (write "{{" for a literal brace)');
  fails(`${RULE}  condition: comm = a\n  output: "x {co mm}"\n`,
    'f.yaml:4:14: rule "a": bad placeholder "{co mm}" in output: expected a field like {comm} or {container.name}');
  fails(`${RULE}  condition: comm = a\n  output: x } y\n`,
    'f.yaml:4:13: rule "a": unmatched "}" in output (write "}}" for a literal brace)');
});

test('duplicate ids name both places; override needs an earlier rule', () => {
  fails(`${RULE}  condition: comm = a\n${RULE}  condition: comm = b\n`,
    'f.yaml:4:9: rule "a" is already defined at f.yaml:1:9; add "override: true" to replace it');
  fails(`${RULE}  override: true\n  condition: comm = a\n`, 'f.yaml:1:9: rule "a": "override: true" but no earlier rule has this id');
  const rs = new RuleSet();
  rs.loadText(`${RULE}  condition: comm = a\n`, 'base.yaml');
  assert.throws(() => rs.loadText(`${RULE}  condition: comm = b\n`, 'user.yaml'),
    { message: 'user.yaml:1:9: rule "a" is already defined at base.yaml:1:9; add "override: true" to replace it' });
});
