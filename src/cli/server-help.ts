/** `eunomia server --help`: its own module, so that printing it loads none of the server's. */
export const SERVER_HELP = `Usage: eunomia server [options]

Runs the agent: the default trackers (process, files, tcpconnect) with container attribution,
the security rules with the trackers they need, Prometheus metrics, and the control API (seed-compatible /start /stop /list, REST /instances, live streams,
GET /openapi.json). Flags override the config file.

  --config FILE        TOML or JSON config (see docs/server.md); unknown keys are errors
  --listen HOST:PORT   control API address (default 127.0.0.1:8527)
  --metrics-listen HOST:PORT
                       Prometheus GET /metrics address (default 127.0.0.1:8528; "off": none)
  --token TOKEN        require "Authorization: Bearer TOKEN" (needed off loopback)
  --token-file FILE    the same, read from FILE
  --tls-key FILE       serve HTTPS with this PEM key ...
  --tls-cert FILE      ... and certificate
  --no-trackers        start with no tracker running
  --no-containers      do not attribute events to containers
  --no-safe            no security rules (they run on every event by default)
  --rules FILE|DIR     more rule files, after the built-in ones (repeatable)
  --alerts FILE        also append alerts as JSON lines to FILE
  --store PATH         the event store's database (default /var/lib/eunomia/events.db; docs/store.md)
  --no-store           keep no event store (GET /query has nothing to read)
  -f, --fmt FORMAT     also print every event (plain, json, csv) ...
  -o, --output FILE    ... to FILE instead of stdout
  -h, --help           this help
`;
