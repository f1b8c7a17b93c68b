/** `eunomia rules list|check`: the rules in force, and a rule file checked before it is deployed. */
import { parseArgs } from 'node:util';
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import { loadRules } from '../rules/index.js';

export const RULES_HELP = `Usage: eunomia rules list [--rules FILE|DIR]… [--no-builtin]
       eunomia rules check FILE|DIR…

list   the built-in rules and those of --rules files (later files override earlier rules)
check  load the files after the built-in rules and report the first error (file:line:col)
`;

export async function rulesCommand(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { rules: { type: 'string', multiple: true }, 'no-builtin': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  } catch (e) {
    throw new EunomiaError(ErrorCodes.USAGE, `${(e as Error).message.replace(/\. To specify.*$/s, '')} — see "eunomia rules --help"`);
  }
  const [cmd, ...files] = parsed.positionals;
  if (parsed.values.help || !cmd) {
    out.write(RULES_HELP);
    return parsed.values.help ? 0 : 2;
  }
  if (cmd === 'check') {
    if (files.length === 0) throw new EunomiaError(ErrorCodes.USAGE, '"rules check" needs a rule file or directory');
    const set = loadRules(files);
    out.write(`ok: ${set.rules().length} rules (built-in and ${files.join(', ')})\n`);
    return 0;
  }
  if (cmd === 'list') {
    const set = loadRules(parsed.values.rules ?? [], !parsed.values['no-builtin']);
    const rows = set.rules().map((r) => [r.id, r.priority, r.enabled ? 'on' : 'off', r.events.join(','), r.tags.join(','), r.name]);
    const head = ['RULE', 'PRIORITY', 'ENABLED', 'EVENTS', 'TAGS', 'NAME'];
    const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    for (const r of [head, ...rows]) out.write(r.map((v, i) => (i < r.length - 1 ? v.padEnd(w[i]!) : v)).join('  ') + '\n');
    return 0;
  }
  throw new EunomiaError(ErrorCodes.USAGE, `unknown rules command "${cmd}" — see "eunomia rules --help"`);
}
