/** Entry point: `eunomia <command>`. Errors print one line saying what is wrong and what to do. */
import { isEunomiaError, ErrorCodes, EunomiaError } from '../core/errors.js';
import { eunomiaVersion } from '../core/version.js';

// Each command's modules are loaded when that command runs, not before: `eunomia version`
// need not load Fastify, the rule compiler, gRPC or the catalogue.

const HELP = `Usage: eunomia <command> [options]

Commands:
  server [options]          the agent: default trackers, security rules, the control API on 127.0.0.1:8527
  safe [options]            security monitoring only: the trackers the rules need, alerts to the log
  client <command>          talk to a server: list, start, stop, push, events (eunomia client --help)
  query [options]           ask a server's event store: events and alerts by time, filter, group (eunomia query --help)
  run <tracker> [options]   run one tracker and print its events (see: eunomia run <tracker> --help)
  trackers                  list the trackers
  containers [-a] [-f json] list the running containers with their pids and namespaces
  rules list|check FILE     the security rules in force; check a rule file (eunomia rules --help)
  seccomp <command>         record a container's syscalls into a seccomp profile; run under one (eunomia seccomp --help)
  doctor [--json]           what this host allows: kernel, program kinds probed, runtimes; can each tracker and rule run here
  help                      this help
  version                   print the version

Examples:
  sudo eunomia server
  eunomia client push examples/opensnoop-lite/opensnoop.bpf.o --follow
  sudo eunomia run process
  sudo eunomia run process --fmt json -T 10 -o /tmp/process.jsonl
  sudo eunomia run opensnoop --container web
  sudo eunomia containers
  sudo eunomia doctor
  sudo eunomia seccomp record --container web -T 60 -o web.json
  eunomia trackers
`;


async function listTrackers(): Promise<string> {
  const [{ trackers }, { allOptions }] = await Promise.all([import('../trackers/registry.js'), import('../runtime/options.js')]);
  const w = Math.max(...trackers.map((t) => t.name.length));
  const lines = trackers.map((t) => {
    const opts = allOptions(t).map((o) => `--${o.flag}`).join(' ');
    return `${t.name.padEnd(w)}  ${t.summary}\n${' '.repeat(w)}  options: ${opts}`;
  });
  return lines.join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case undefined:
      process.stderr.write(HELP);
      return 2;
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(HELP);
      return 0;
    case 'version':
    case '--version':
    case '-V':
      process.stdout.write(eunomiaVersion() + '\n');
      return 0;
    case 'trackers':
      process.stdout.write((await listTrackers()) + '\n');
      return 0;
    case 'containers':
      return (await import('./containers.js')).containersCommand(rest, process.stdout, process.stderr);
    case 'rules':
      return (await import('./rules.js')).rulesCommand(rest, process.stdout);
    case 'seccomp':
      return (await import('./seccomp.js')).seccompCommand(rest, process.stdout, process.stderr);
    case 'server':
    case 'safe':
      // Help alone: only its text. With other flags, the config they give is read and checked
      // first (deploy/ uses `server --config … --help` to check a rendered config).
      if (rest.length === 1 && (rest[0] === '--help' || rest[0] === '-h')) {
        process.stdout.write((await import('./server-help.js')).SERVER_HELP);
        return 0;
      }
      return (await import('./server.js')).runServer(rest, { stdout: process.stdout, stderr: process.stderr, version: eunomiaVersion(), safe: cmd === 'safe' });
    case 'doctor':
      return (await import('./doctor.js')).doctorCommand(rest, { stdout: process.stdout });
    case 'query':
      return (await import('./query.js')).queryCommand(rest, { stdout: process.stdout, stderr: process.stderr });
    case 'client': {
      const { CLIENT_HELP, runClient } = await import('./client.js');
      if (rest.length === 0) {
        process.stderr.write(CLIENT_HELP);
        return 2;
      }
      return runClient(rest, { stdout: process.stdout, stderr: process.stderr });
    }
    case 'run': {
      const [{ trackers, findTracker }, { parseRunArgs, runHelp }] = await Promise.all([import('../trackers/registry.js'), import('./args.js')]);
      const [name, ...args] = rest;
      if (!name || name.startsWith('-')) throw new EunomiaError(ErrorCodes.USAGE, `"run" needs a tracker name — available: ${trackers.map((t) => t.name).join(', ')}`);
      // The original Eunomia's spellings: `run hotupdate '<package JSON>'`, the tracker name `tcp`.
      if (name === 'hotupdate') return (await import('./run-hotupdate.js')).runHotupdate(args, { stdout: process.stdout, stderr: process.stderr });
      const tracker = findTracker(name, trackers, (note) => void process.stderr.write(`eunomia: ${note}\n`));
      const parsed = parseRunArgs(tracker, args);
      if (parsed.help) {
        process.stdout.write(runHelp(tracker) + '\n');
        return 0;
      }
      return (await import('./run.js')).runTracker(parsed, { stderr: process.stderr });
    }
    default:
      throw new EunomiaError(ErrorCodes.USAGE, `unknown command "${cmd}" — see "eunomia help"`);
  }
}

export async function main(argv: string[]): Promise<void> {
  // `eunomia rules list | head`: a reader that goes away ends the listing, quietly, as in
  // other command-line tools (`run` handles its own output stream the same way).
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (process.stdout.listenerCount('error') > 1) return; // `run` listens itself: it still prints its summary
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  try {
    process.exitCode = await run(argv);
  } catch (e) {
    if (isEunomiaError(e)) {
      process.stderr.write(`eunomia: ${e.message}\n`);
      if (process.env.EUNOMIA_DEBUG && e.log) process.stderr.write(e.log + '\n');
      process.exitCode = e.code === ErrorCodes.USAGE ? 2 : 1;
    } else {
      process.stderr.write(`eunomia: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exitCode = 70;
    }
  }
}
