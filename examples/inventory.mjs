// Inventory service (Fastify): the leaf of the demo chain.
import { tracing } from '@tracewire/fastify';
import Fastify from 'fastify';

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
  await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 10));
  return { sku, available: stock.get(sku) ?? 0 };
});

app.get('/inventory/:sku/price', async (request) => {
  await new Promise((resolve) => setTimeout(resolve, 3));
  return { sku: request.params.sku, price: 19.99 };
});

const address = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
console.log(`inventory listening on ${address}`);
