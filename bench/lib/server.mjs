// One benchmark server: `node server.mjs <framework> <variant>`; tells its parent the port over IPC, then answers
// `{ cmd: 'flush' }` (export everything ended so far, so the sink's count is exact) and `{ cmd: 'usage' }` (RSS, CPU time).
// Frameworks load through require() after any instrumentation is registered: OpenTelemetry's auto-instrumentation
// patches CommonJS modules as they are required (the ES module path needs a loader hook, which tracewire does not).
import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const [framework, variant] = process.argv.slice(2);
const downstream = process.env.BENCH_DOWNSTREAM ?? 'http://127.0.0.1:1';

let flush = async () => {};
let stats = () => undefined;
let fastifyOtel;
/** Wraps the app's request listener; only the `als` and `ship` variants use it. */
let wrap = (listener) => listener;
/** Called per downstream call; `ship` counts a client span there. */
let onOutgoing = () => {};

if (variant === 'tracewire') {
  const { configure } = require('@tracewire/node');
  // Exporter, endpoint and sampler come from OTEL_* in the environment, as a user would set them.
  const tracer = configure({ serviceName: `bench-${framework}-tracewire` });
  flush = () => tracer.forceFlush();
  stats = () => tracer.stats.snapshot();
} else if (variant === 'otel') {
  const { setupOpenTelemetry } = await import('./otel-setup.mjs');
  ({ flush, fastifyOtel } = setupOpenTelemetry(framework, require));
} else if (variant === 'als' || variant === 'ship') {
  // The physical floor of any AsyncLocalStorage tracer: one run() per request, nothing else. `ship` adds the
  // floor of exporting: the spans a tracer would end, prebuilt, batched and POSTed to the sink (lib/ship.mjs).
  const storage = new AsyncLocalStorage();
  const store = { bench: true };
  let onRequest = () => {};
  if (variant === 'ship') {
    const { createShipper } = await import('./ship.mjs');
    const shipper = createShipper(process.env.OTEL_EXPORTER_OTLP_ENDPOINT, `bench-${framework}-ship`);
    onRequest = shipper.serverSpan;
    onOutgoing = shipper.clientSpan;
    flush = shipper.flush;
  }
  wrap = (listener) =>
    function alsListener(req, res) {
      onRequest();
      storage.run(store, listener, req, res);
    };
} else if (variant !== 'bare') {
  throw new RangeError(`variant must be bare, als, ship, tracewire or otel, got ${variant}`);
}

const user = (id) => ({ id, name: `user ${id}`, email: `user${id}@example.test`, active: true });

async function downstreamItem(id) {
  onOutgoing();
  const response = await fetch(`${downstream}/items/${id}`);
  return response.json();
}

function statsBody() {
  return { rss: process.memoryUsage().rss, tracer: stats() };
}

const http = require('node:http');
let server;

if (framework === 'express') {
  const express = require('express');
  const app = express();
  if (variant === 'tracewire') app.use(require('@tracewire/express').tracing());
  app.get('/users/:id', (req, res) => {
    res.json(user(req.params.id));
  });
  app.get('/chain/:id', async (req, res) => {
    res.json({ id: req.params.id, item: await downstreamItem(req.params.id) });
  });
  app.get('/stats', (_req, res) => {
    res.json(statsBody());
  });
  server = http.createServer(wrap(app));
} else if (framework === 'koa') {
  const Koa = require('koa');
  const Router = require('@koa/router');
  const app = new Koa();
  const router = new Router();
  if (variant === 'tracewire') app.use(require('@tracewire/koa').tracing());
  router.get('/users/:id', (ctx) => {
    ctx.body = user(ctx.params.id);
  });
  router.get('/chain/:id', async (ctx) => {
    ctx.body = { id: ctx.params.id, item: await downstreamItem(ctx.params.id) };
  });
  router.get('/stats', (ctx) => {
    ctx.body = statsBody();
  });
  app.use(router.routes());
  server = http.createServer(wrap(app.callback()));
} else if (framework === 'fastify') {
  const Fastify = require('fastify');
  // serverFactory lets the als variant wrap Fastify's own listener the same way as the others.
  const app = Fastify({
    serverFactory: (handler) => {
      server = http.createServer(wrap(handler));
      return server;
    },
  });
  if (variant === 'tracewire') await app.register(require('@tracewire/fastify').tracing);
  if (variant === 'otel') await app.register(fastifyOtel.plugin());
  app.get('/users/:id', async (req) => user(req.params.id));
  app.get('/chain/:id', async (req) => ({ id: req.params.id, item: await downstreamItem(req.params.id) }));
  app.get('/stats', async () => statsBody());
  await app.ready();
} else {
  throw new RangeError(`framework must be express, koa or fastify, got ${framework}`);
}

server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.send?.({ ready: true, port: server.address().port, pid: process.pid });
});

process.on('message', async (message) => {
  if (message.cmd === 'flush') {
    try {
      await flush();
      process.send({ id: message.id, ok: true });
    } catch (error) {
      process.send({ id: message.id, ok: false, error: String(error) });
    }
  } else if (message.cmd === 'usage') {
    const cpu = process.cpuUsage();
    process.send({ id: message.id, rss: process.memoryUsage().rss, cpuMicros: cpu.user + cpu.system });
  } else if (message.cmd === 'stats') {
    process.send({ id: message.id, ...statsBody() });
  } else if (message.cmd === 'heap-sampling') {
    // allocations.mjs: loaded only when asked, so other runs never load the inspector.
    const sampling = await import('./heap-sampling.mjs');
    try {
      if (message.file === undefined) await sampling.startSampling(message.interval);
      else await sampling.stopSampling(message.file);
      process.send({ id: message.id, ok: true });
    } catch (error) {
      process.send({ id: message.id, ok: false, error: String(error) });
    }
  }
});
process.on('disconnect', () => process.exit(0));
