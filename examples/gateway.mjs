// Gateway (Express): the public edge, calling orders and inventory.
import { tracing } from '@tracewire/express';
import express from 'express';

const ordersUrl = process.env.ORDERS_URL ?? 'http://127.0.0.1:3002';
const inventoryUrl = process.env.INVENTORY_URL ?? 'http://127.0.0.1:3003';

async function getJson(url) {
  const response = await fetch(url);
  return { status: response.status, body: await response.json() };
}

const app = express();
app.use(tracing());

const api = express.Router();

api.get('/orders/:id', async (req, res) => {
  const order = await getJson(`${ordersUrl}/orders/${req.params.id}`);
  res.status(order.status).json(order.body);
});

// Fans out to two services in parallel: the two client spans are siblings.
api.get('/products/:sku', async (req, res) => {
  const [stock, price] = await Promise.all([
    getJson(`${inventoryUrl}/inventory/${req.params.sku}`),
    getJson(`${inventoryUrl}/inventory/${req.params.sku}/price`),
  ]);
  res.json({ ...stock.body, ...price.body });
});

app.use('/api', api);

const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`gateway listening on http://127.0.0.1:${server.address().port}`);
});
