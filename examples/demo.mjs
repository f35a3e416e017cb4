// The README's first command: three traced services, a few requests, and each trace drawn in the terminal.
import { startOtlpReceiver } from './otlp-receiver.mjs';
import { startServices } from './start-services.mjs';
import { renderTraces } from './waterfall.mjs';

const requests = [
  ['an order in stock', '/api/orders/1'],
  ['an order out of stock', '/api/orders/2'],
  ['an order whose warehouse is down (5xx down the chain)', '/api/orders/3'],
  ['a product page (two calls in parallel)', '/api/products/sku-1'],
  ['an unknown order (404)', '/api/orders/99'],
];

const externalCollector =
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
const receiver = await startOtlpReceiver();
const env = externalCollector
  ? {}
  : {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_TRACES_EXPORTER: 'otlp',
    };
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
  await receiver.close();
}

if (externalCollector) {
  console.log(`\nSpans were sent to ${externalCollector}; open your collector's UI to see them.`);
} else {
  console.log(
    `\n${receiver.spans.length} spans from ${new Set(receiver.spans.map((s) => s.service)).size} services:\n`,
  );
  console.log(renderTraces(receiver.spans));
}
