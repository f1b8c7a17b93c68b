/**
 * Keeps V8's young generation from growing under a stream of events. V8 doubles it whenever a
 * scavenge finds much of it alive, up to 2 × 16 MiB here, and keeps it (RSS under load and after
 * a burst of API work: +8 to +23 MiB, `npm run bench -- footprint memory`).
 *
 * Set at run time, once the command is up, not as a command-line flag: a non-default V8 flag
 * makes V8 refuse the code cache Node ships for its built-ins and for each worker thread's
 * bootstrap (a flag hash is part of the check), ~40 ms of every start. What is loaded after this
 * call pays that, once. `--max-semi-space-size` is read only when the heap is made; the growth
 * factor is read at each growth, so 1 stops it where it is (the 1 MiB semi-spaces it starts with,
 * or what the start grew them to).
 */
import { setFlagsFromString } from 'node:v8';

export function stopYoungGenerationGrowth(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}
