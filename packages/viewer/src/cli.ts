#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { startViewer } from './viewer.js';

const HELP = `tracewire-viewer: a local trace store and viewer (OTLP/HTTP and Zipkin in, a web page out)

Options:
  --port <n>          page and JSON API port (default 8080)
  --otlp-port <n>     OTLP/HTTP receiver port, /v1/traces (default 4318)
  --zipkin-port <n>   Zipkin v2 receiver port, /api/v2/spans (default 9411)
  --host <addr>       interface to listen on (default 127.0.0.1)
  --db <path>         SQLite file, or :memory: (default .tracewire/traces.db)
  --max-spans <n>     keep at most this many spans (default 200000)
  --max-age <dur>     delete traces older than this: 30m, 12h, 7d (default 7d)
  --max-body <bytes>  largest request body, e.g. 8mb (default 8mb)
  -h, --help          show this help`;

function integer(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new RangeError(`--${name} must be an integer, got "${value}"`);
  return n;
}

function duration(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(value);
  if (!match)
    throw new RangeError(`--max-age must be a number with ms, s, m, h or d, such as 12h; got "${value}"`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[
    match[2] as 'ms' | 's' | 'm' | 'h' | 'd'
  ];
  return Number(match[1]) * unit;
}

function bytes(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+)(b|kb|mb)?$/i.exec(value);
  if (!match)
    throw new RangeError(`--max-body must be bytes, or a number with kb or mb, such as 8mb; got "${value}"`);
  const unit = { b: 1, kb: 1024, mb: 1024 * 1024 }[(match[2] ?? 'b').toLowerCase() as 'b' | 'kb' | 'mb'];
  return Number(match[1]) * unit;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      'otlp-port': { type: 'string' },
      'zipkin-port': { type: 'string' },
      host: { type: 'string' },
      db: { type: 'string' },
      'max-spans': { type: 'string' },
      'max-age': { type: 'string' },
      'max-body': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const viewer = await startViewer({
    uiPort: integer(values.port, 'port'),
    otlpPort: integer(values['otlp-port'], 'otlp-port'),
    zipkinPort: integer(values['zipkin-port'], 'zipkin-port'),
    host: values.host,
    database: values.db,
    maxSpans: integer(values['max-spans'], 'max-spans'),
    maxAgeMs: duration(values['max-age']),
    maxBodyBytes: bytes(values['max-body']),
  });
  console.log(`tracewire viewer on ${viewer.urls.ui}`);
  console.log(
    `  OTLP/HTTP  ${viewer.urls.otlp}/v1/traces   (OTEL_EXPORTER_OTLP_ENDPOINT=${viewer.urls.otlp})`,
  );
  console.log(`  Zipkin v2  ${viewer.urls.zipkin}`);
  console.log(`  storage    ${viewer.options.database}`);
  const stop = (): void => {
    void viewer.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: Error) => {
  console.error(`tracewire-viewer: ${error.message}`);
  process.exit(1);
});
