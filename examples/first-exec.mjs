// A plug-in of your own on Eunomia's agent: in each container, report a program the first time
// it runs there (a small drift detector), and count the files the container opens.
// Run as root: node examples/first-exec.mjs [SECONDS]   (from a checkout: after npm run build)
import { Agent, defaultConfig } from 'eunomia';

const programs = new Map(); // container name → programs seen running in it
const opens = new Map(); // container name → files opened
const firstExec = {
  name: 'first-exec',
  handle(ev, next) {
    const c = ev.data.container?.name;
    // "host" here is a runtime's own work while it sets a container up: not the container's.
    if (c === undefined || c === 'host') return next(ev);
    if (ev.tracker === 'opensnoop') opens.set(c, (opens.get(c) ?? 0) + 1);
    else if (ev.data.type === 'exec') {
      const seen = programs.get(c) ?? programs.set(c, new Set()).get(c);
      if (!seen.has(ev.data.prog)) console.log(JSON.stringify({ container: c, new_program: ev.data.prog }));
      seen.add(ev.data.prog);
    }
    next(ev); // pass it on: rules, metrics and outputs still see every event
  },
};

const config = defaultConfig();
config.trackers = ['process', 'opensnoop'].map((name) => ({ name, options: { containersOnly: true } }));
config.rules.enabled = false;
const agent = await Agent.start(config, { handlers: [firstExec], metrics: false });
console.error('started');
await new Promise((resolve) => setTimeout(resolve, Number(process.argv[2] ?? 10) * 1000));
await agent.close();
for (const [c, n] of opens) console.log(JSON.stringify({ container: c, opens: n, programs: [...(programs.get(c) ?? [])] }));
