/**
 * The store's writer on a worker thread (src/store/writer-host.ts starts it when the main
 * thread's share of the writing grows): the messages of src/store/protocol.ts in, the writer's
 * answers and its load once a second out.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from './schema.js';
import type { FromWriter, ToWriter, WriterData } from './protocol.js';
import { SWEEP_MS, Writer } from './writer.js';

function main(): void {
  const port = parentPort!;
  const data = workerData as WriterData;
  const post = (m: FromWriter): void => port.postMessage(m);
  let writer: Writer;
  try {
    writer = new Writer(openDatabase(data.path, 'writer'), data, post);
  } catch (e) {
    post({ type: 'fatal', message: (e as Error).message });
    return;
  }
  const sweeps = setInterval(() => post({ type: 'load', ms: writer.tick() }), SWEEP_MS);
  port.on('message', (m: ToWriter) => {
    if (m.type === 'rows') writer.rows(m);
    else if (m.type === 'commit') writer.commit();
    else {
      clearInterval(sweeps);
      if (m.type === 'hand-over') post({ type: 'handed-over', handover: writer.handOver() });
      else writer.close();
      port.close();
    }
  });
  post({ type: 'ready' });
  // The bounds at once: the rows of a long stop may have expired, or the caps may be lower now.
  writer.sweep();
}

main();
