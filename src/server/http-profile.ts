/**
 * POST /profile: profile the host, a container or a process for N seconds and answer with the
 * result in one format — the original's "run a probe for 30 s, then aggregate" as one request.
 * A profile instance runs for the time asked (or until the client goes away), its rows are
 * summed as they come, and the answer is rendered when it stops.
 */
import type { FastifyInstance } from 'fastify';
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import type { OptionValues } from '../runtime/types.js';
import type { Agent } from '../agent/agent.js';

const MAX_SECONDS = 300;
const FORMAT_NAMES = ['svg', 'folded', 'pprof', 'speedscope'] as const;
type Format = (typeof FORMAT_NAMES)[number];

interface ProfileBody {
  seconds: number;
  format?: Format;
  options?: OptionValues;
}

export function profileRoutes(app: FastifyInstance, agent: () => Agent, errorSchema: object): void {
  app.post<{ Body: ProfileBody }>('/profile', {
    schema: {
      summary: 'Profile for N seconds (options as the profile tracker\'s: container, pid, frequency, userOnly, kernelOnly) and answer with a flame graph (svg, default), folded stacks, pprof (gzipped) or speedscope JSON',
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['seconds'],
        properties: {
          seconds: { type: 'integer', minimum: 1, maximum: MAX_SECONDS },
          format: { enum: FORMAT_NAMES },
          options: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
        },
      },
      response: { '4xx': errorSchema },
    },
  }, async (req, reply) => {
    const { seconds, format = 'svg', options = {} } = req.body;
    for (const f of FORMAT_NAMES) {
      if (f in options) throw new EunomiaError(ErrorCodes.REQUEST, `option ${f} names a file on the agent's host: here the answer is the profile — give "format": "${f}"`);
    }
    const [{ ProfileCollector }, { FORMATS }] = await Promise.all([import('../profiling/output.js'), import('../profiling/formats/index.js')]);
    const a = agent();
    const inst = a.startTracker('profile', options);
    const collector = new ProfileCollector(Number(inst.options.frequency));
    const untap = a.streams.tap(inst.id, (ev) => collector.add(ev.data as never));
    try {
      // The time asked, or less if the client goes away (nothing would read the answer).
      await new Promise<void>((done) => {
        const timer = setTimeout(done, seconds * 1000);
        reply.raw.once('close', () => {
          if (!reply.raw.writableEnded) {
            clearTimeout(timer);
            done();
          }
        });
      });
      await a.stop(inst.id); // reports the last interval: its rows reach the collector
    } finally {
      untap();
    }
    const f = FORMATS[format];
    const body = f.render(collector.profile(), { process: 'comm-pid' });
    return reply
      .type(f.contentType)
      .header('eunomia-samples', String(collector.samples))
      .header('eunomia-instance', String(inst.id))
      .send(body);
  });
}
