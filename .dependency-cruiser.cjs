// The layers of src/ (README "Layout"): each floor imports only from the floors below it.
// `npm run lint` and scripts/setup.sh (the build) run it; an import that runs back up fails.
const SUBSYSTEMS = '(pipeline|exporters|containers|rules|alerts|analyzer|metrics|otel|hotload|trackers|seccomp|profiling|store|query)';
const notIn = (dirs) => `^src/(?!${dirs}/)`;

module.exports = {
  forbidden: [
    { name: 'core-is-a-library', comment: 'src/core is the eBPF/BTF library: it imports nothing else of the project', severity: 'error', from: { path: '^src/core/' }, to: { path: notIn('core') } },
    { name: 'runtime-looks-down', comment: 'src/runtime takes descriptors and interfaces; it imports only the core', severity: 'error', from: { path: '^src/runtime/' }, to: { path: notIn('core|runtime') } },
    { name: 'subsystems-look-down', comment: 'subsystems never import the agent or the faces', severity: 'error', from: { path: `^src/${SUBSYSTEMS}/` }, to: { path: '^src/(agent|server|cli)/' } },
    { name: 'agent-looks-down', comment: 'the agent never imports a face (CLI, HTTP API)', severity: 'error', from: { path: '^src/agent/' }, to: { path: '^src/(server|cli)/' } },
    { name: 'api-is-not-the-cli', comment: 'the HTTP API does not borrow from the CLI (the CLI may start the API)', severity: 'error', from: { path: '^src/server/' }, to: { path: '^src/cli/' } },
    { name: 'no-cycles', comment: 'no module loads itself back through others (a cycle of type imports alone loads nothing)', severity: 'error', from: { path: '^src/' }, to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^src/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
