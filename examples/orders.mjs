// Orders service (Koa): asks inventory about each order's item.
import Router from '@koa/router';
import { tracing } from '@tracewire/koa';
import Koa from 'koa';

const inventoryUrl = process.env.INVENTORY_URL ?? 'http://127.0.0.1:3003';
const orders = new Map([
  ['1', { id: '1', sku: 'sku-1', quantity: 2 }],
  ['2', { id: '2', sku: 'sku-2', quantity: 1 }],
  ['3', { id: '3', sku: 'sku-broken', quantity: 1 }],
]);

const router = new Router({ prefix: '/orders' });

router.get('/:id', async (ctx) => {
  const order = orders.get(ctx.params.id);
  if (!order) ctx.throw(404, 'no such order');
  const response = await fetch(`${inventoryUrl}/inventory/${order.sku}`);
  if (!response.ok) ctx.throw(502, `inventory answered ${response.status}`);
  const inventory = await response.json();
  ctx.body = { ...order, inStock: inventory.available >= order.quantity };
});

const app = new Koa();
app.use(tracing());
// Errors leave as JSON so the gateway can relay them.
app.use(async (ctx, next) => {
  try {
    await next();
  } catch (error) {
    ctx.status = error.status ?? 500;
    ctx.body = { error: error.expose ? error.message : 'internal error' };
  }
});
app.use(router.routes()).use(router.allowedMethods());

const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`orders listening on http://127.0.0.1:${server.address().port}`);
});
