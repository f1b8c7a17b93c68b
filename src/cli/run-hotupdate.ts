/**
 * `eunomia run hotupdate '<package JSON>'`: the original Eunomia's first step with a hot-update
 * package, which needed no server. Read as that package run in this process, as `eunomia client
 * push FILE --follow` runs it on a server: the same reading and checks (src/hotload), the same
 * decoding, its events printed like any tracker's until Ctrl-C or -T.
 */
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import { parseSeedStart, programDescriptor } from '../hotload/index.js';
import { parseRunArgs, runHelp } from './args.js';
import { runTracker, type RunIo } from './run.js';

export const HOTUPDATE_NOTE = '"run hotupdate" is deprecated (the original Eunomia\'s): read as the package run here without a server, as "eunomia client push FILE --follow" runs it on one';

export async function runHotupdate(argv: string[], io: RunIo & { stdout: NodeJS.WritableStream }): Promise<number> {
  const [text, ...flags] = argv;
  if (text === undefined || text.startsWith('-')) {
    throw new EunomiaError(ErrorCodes.USAGE, '"run hotupdate" needs the package JSON as its argument, as the original took it: eunomia run hotupdate "$(cat package.json)" [-T SECONDS] [--fmt json]');
  }
  // One argument, as the seed's /start took it: the package (any format `client push` sends).
  const { pkg, options } = parseSeedStart([text]);
  const tracker = programDescriptor(pkg);
  const args = parseRunArgs(tracker, flags);
  if (args.help) {
    io.stdout.write(runHelp(tracker) + '\n');
    return 0;
  }
  return runTracker({ ...args, options: { ...options, ...args.options }, notes: [HOTUPDATE_NOTE, ...args.notes] }, io);
}
