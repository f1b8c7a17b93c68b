/**
 * Reading and checking `eunomia server`'s config (declared in src/agent/config.ts): a TOML or
 * JSON file parsed, the original Eunomia's keys read as this release's (with a note), the
 * defaults filled in, every key checked (src/agent/config-check.ts: ajv, and the checks that
 * need the tracker catalogue), and the file's keys turned into the code's. The same checks run
 * after flags were applied. This is what the config costs at run time; its types, defaults and
 * constants cost nothing (src/agent/config.ts).
 */
import { readFileSync } from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import { configError, configFileSchema, DEFAULT_TRACKERS, ServerConfigSchema, type ServerConfig } from './config.js';
import { checker } from './config-check.js';
import { fromOriginal, originalKeyTable } from './config-original.js';
import { keyTable, plain, toFile, toTyped, withDefaults } from './config-schema.js';
import { storeShorthands } from '../store/config.js';

/** The schema of the file as written (snake_case keys): what is checked and documented. */
export const FILE_SCHEMA = configFileSchema();
const fileProblem = checker(FILE_SCHEMA);

/** docs/server.md's tables of the config's keys and of the original's keys (kept in sync by a test). */
export function configDocTables(): { keys: string; original: string } {
  return { keys: keyTable(FILE_SCHEMA), original: originalKeyTable() };
}

/** Parses file text by extension (.toml, .json), or by sniffing when there is none. */
export function parseConfigText(text: string, source: string): Record<string, unknown> {
  const json = source.endsWith('.json') || (!source.endsWith('.toml') && text.trimStart().startsWith('{'));
  try {
    const v = json ? (JSON.parse(text) as unknown) : parseToml(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('the top level must be a table (an object)');
    return v as Record<string, unknown>;
  } catch (e) {
    throw configError(source, `not valid ${json ? 'JSON' : 'TOML'}: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** Where the notes about the original's keys go by default: the agent's stderr, as its log. */
const stderrNote = (line: string): void => void process.stderr.write(`eunomia: ${line}\n`);

/**
 * A checked config from a parsed file (over the defaults). The original Eunomia's keys are
 * read as the keys that replace them, each with a note (`config FILE: "fmt" is deprecated …`)
 * given to `note`.
 */
export function configFrom(raw: Record<string, unknown>, source: string, note: (line: string) => void = stderrNote): ServerConfig {
  const fail = (msg: string): never => {
    throw configError(source, msg);
  };
  const current = plain(fromOriginal(raw, fail, (msg) => note(`config ${source}: ${msg}`), DEFAULT_TRACKERS)) as Record<string, unknown>;
  // `store.alerts = false`, a TTL in seconds as a number: the store's shorter forms.
  storeShorthands(current);
  const value = withDefaults(FILE_SCHEMA, current);
  const problem = fileProblem(value);
  if (problem !== undefined) fail(problem);
  return toTyped(ServerConfigSchema, value) as ServerConfig;
}

/**
 * Checks a config as a whole, as the file would be checked: after flags were applied over it
 * (`source` then says where it came from). Returns the same object.
 */
export function checkConfig(cfg: ServerConfig, source: string): ServerConfig {
  const problem = fileProblem(plain(toFile(ServerConfigSchema, cfg)));
  if (problem !== undefined) throw configError(source, problem);
  return cfg;
}

/** Reads a config file; notes about the original Eunomia's keys go to `note` (default: stderr). */
export function loadConfig(path: string, note?: (line: string) => void): ServerConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw configError(path, `cannot be read: ${(e as Error).message}`);
  }
  return configFrom(parseConfigText(text, path), path, note);
}
