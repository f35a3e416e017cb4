// The README's first command: three traced services, a few requests, and each trace drawn in the terminal and
// stored in the tracewire viewer (packages/viewer), whose address it prints.
import { startViewer } from '@tracewire/viewer';
import { startServices } from './start-services.mjs';
import { renderTraces } from './waterfall.mjs';

const requests = [
  ['an order in stock', '/api/orders/1'],
  ['an order out of stock', '/api/orders/2'],
  ['an order whose warehouse is down (5xx down the chain)', '/api/orders/3'],
  ['a product page (two calls in parallel)', '/api/products/sku-1'],
  ['an unknown order (404)', '/api/orders/99'],
];

// Any of these set means the user picked where spans go (the README's Collector, Jaeger and Zipkin recipes): the
// services are left to their own configuration, and no viewer is started.
const BACKEND_VARIABLES = [
  'OTEL_TRACES_EXPORTER',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_ZIPKIN_ENDPOINT',
];
const chosenBackend = BACKEND_VARIABLES.filter((name) => process.env[name]).map(
  (name) => `${name}=${process.env[name]}`,
);
const startedAt = Date.now();
// The viewer's usual ports when free (so `pnpm viewer` later shows the same traces from .tracewire/traces.db),
// any free ports otherwise.
const viewer =
  chosenBackend.length > 0
    ? undefined
    : await startViewer({ zipkinPort: 0 }).catch(() =>
        startViewer({ uiPort: 0, otlpPort: 0, zipkinPort: 0 }),
      );
const env = viewer ? { OTEL_EXPORTER_OTLP_ENDPOINT: viewer.urls.otlp, OTEL_TRACES_EXPORTER: 'otlp' } : {};
const { gatewayUrl, stop } = await startServices({ env: { OTEL_BSP_SCHEDULE_DELAY: '200', ...env } });

try {
  console.log(`gateway (Express) → orders (Koa) → inventory (Fastify); gateway at ${gatewayUrl}\n`);
  for (const [what, path] of requests) {
    const response = await fetch(gatewayUrl + path);
    await response.arrayBuffer();
    console.log(`GET ${path.padEnd(24)} ${response.status}  ${what}`);
  }
} finally {
  // Each service flushes its queue on SIGTERM before it exits.
  await stop();
}

if (!viewer) {
  console.log(`\nSpans were sent as ${chosenBackend.join(' ')} says; open that backend's UI to see them.`);
} else {
  const KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
  const traces = viewer.store.listTraces({ from: startedAt, limit: 100 }).traces.reverse();
  const spans = traces.flatMap((t) =>
    viewer.store.getTrace(t.traceId).spans.map((span) => ({
      ...span,
      kind: KINDS.indexOf(span.kind),
      startTimeUnixNano: BigInt(span.startUs) * 1000n,
      endTimeUnixNano: BigInt(span.startUs + span.durationUs) * 1000n,
    })),
  );
  console.log(`\n${spans.length} spans from ${new Set(spans.map((s) => s.service)).size} services:\n`);
  console.log(renderTraces(spans));
  // The demo always ends (the README promises a command that exits); with --keep the viewer stays up to browse.
  if (process.argv.includes('--keep')) {
    console.log(`Browse these traces at ${viewer.urls.ui} (Ctrl-C to stop the viewer).`);
    process.once('SIGINT', () => viewer.close().then(() => process.exit(0)));
  } else {
    console.log(
      `Traces stored in ${viewer.options.database}; \`pnpm viewer\` serves them at ${viewer.urls.ui}` +
        ' (or run the demo with --keep).',
    );
    await viewer.close();
  }
}
