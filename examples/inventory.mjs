// Inventory service (Fastify): the leaf of the demo chain. Its warehouse client traces through
// @opentelemetry/api, as many libraries do; registering tracewire behind the API puts those spans in the same trace.
import * as otelApi from '@opentelemetry/api';
import { tracing } from '@tracewire/fastify';
import { registerOpenTelemetryApi } from '@tracewire/node';
import Fastify from 'fastify';

registerOpenTelemetryApi(otelApi);
const warehouse = otelApi.trace.getTracer('warehouse-client', '1.0.0');

const stock = new Map([
  ['sku-1', 12],
  ['sku-2', 0],
  ['sku-3', 4],
]);

const app = Fastify();
await app.register(tracing);

app.get('/inventory/:sku', async (request, reply) => {
  const { sku } = request.params;
  if (sku === 'sku-broken') {
    // The failing leg of the demo: a warehouse backend that is down.
    return reply.code(503).send({ error: 'warehouse backend unavailable' });
  }
  const available = await warehouse.startActiveSpan('warehouse lookup', async (span) => {
    span.setAttribute('warehouse.sku', sku);
    await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 10));
    span.end();
    return stock.get(sku) ?? 0;
  });
  return { sku, available };
});

app.get('/inventory/:sku/price', async (request) => {
  await new Promise((resolve) => setTimeout(resolve, 3));
  return { sku: request.params.sku, price: 19.99 };
});

const address = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
console.log(`inventory listening on ${address}`);
