import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import { tracing as expressTracing } from '@tracewire/express';
import { tracing as fastifyTracing } from '@tracewire/fastify';
import { tracing as koaTracing } from '@tracewire/koa';
import { configure, InMemoryExporter, SimpleSpanProcessor } from '@tracewire/node';
import express5 from 'express';
import express4 from 'express4';
import fastify5 from 'fastify';
import fastify4 from 'fastify4';
import Koa3 from 'koa';
import Koa2 from 'koa2';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { collectRouteOrderWarnings, listen, type TestApp } from './apps.js';

// Express and Koa answer with the first route that matches, so routes added before the tracing middleware are never
// traced. That is easy to do and silent, so the first request through the middleware says so, once, as a Node
// process warning; so does the first response that never reached it, when the app has it further down (NestJS's
// `app.init()` before `app.use(tracing())`). Fastify applies the plugin's hooks to every route of the app, wherever
// it was registered.

const exporter = new InMemoryExporter();
const tracer = configure({
  serviceName: 'registration-order',
  processors: [new SimpleSpanProcessor(exporter)],
  shutdownOnSignals: false,
});
afterAll(() => tracer.shutdown());

const warnings = collectRouteOrderWarnings();
beforeEach(() => exporter.reset());

type Running = Pick<TestApp, 'port' | 'close'>;

/** An app with `GET /early/:id` declared before the tracing middleware (when `late`) and `GET /late/:id` after. */
type Factory = (late: boolean) => Promise<Running>;

function expressApp(express: typeof express5): Factory {
  return (late) => {
    const app = express();
    if (!late) app.use(expressTracing());
    app.get('/early/:id', (_req, res) => {
      res.send('early');
    });
    app.post('/early', (_req, res) => {
      res.send('early');
    });
    if (late) app.use(expressTracing());
    app.get('/late/:id', (_req, res) => {
      res.send('late');
    });
    return listen(createServer(app));
  };
}

function koaApp(Koa: typeof Koa3): Factory {
  return (late) => {
    const app = new Koa();
    const early = new Router();
    early.get('/early/:id', (ctx) => {
      ctx.body = 'early';
    });
    early.post('/early', (ctx) => {
      ctx.body = 'early';
    });
    const after = new Router();
    after.get('/late/:id', (ctx) => {
      ctx.body = 'late';
    });
    if (!late) app.use(koaTracing());
    app.use(early.routes());
    if (late) app.use(koaTracing());
    app.use(after.routes());
    return listen(createServer(app.callback()));
  };
}

function fastifyApp(fastify: typeof fastify5): Factory {
  return async (late) => {
    const app = fastify();
    if (!late) await app.register(fastifyTracing as never);
    app.get('/early/:id', async () => 'early');
    await app.register(
      async (child) => {
        child.get('/child/:id', async () => 'child');
      },
      { prefix: '/plugin' },
    );
    app.post('/early', async () => 'early');
    if (late) await app.register(fastifyTracing as never);
    app.get('/late/:id', async () => 'late');
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
  };
}

async function requestBoth(port: number): Promise<string[]> {
  for (const path of ['/early/1', '/late/1', '/late/2']) {
    await (await fetch(`http://127.0.0.1:${port}${path}`)).text();
  }
  // Process warnings are emitted on the next tick.
  await new Promise((r) => setImmediate(r));
  return exporter.getFinishedSpans().map((s) => s.name);
}

describe.each([
  ['Express 4', expressApp(express4 as never)],
  ['Express 5', expressApp(express5)],
  ['Koa 2', koaApp(Koa2 as never)],
  ['Koa 3', koaApp(Koa3)],
])('%s', (_name, create) => {
  it('warns once, naming them, when routes come before app.use(tracing())', async () => {
    const app = await create(true);
    try {
      expect(await requestBoth(app.port)).toEqual(['GET /late/:id', 'GET /late/:id']);
      expect(warnings.map((w) => [w.name, w.message])).toEqual([
        [
          'TracewireWarning',
          'app.use(tracing()) comes after 2 routes (GET /early/:id, POST /early); requests answered there are not ' +
            'traced. Add it before your routes; its ignore option leaves paths untraced on purpose.',
        ],
      ]);
    } finally {
      await app.close();
    }
  });

  it('says nothing when app.use(tracing()) comes first', async () => {
    const app = await create(false);
    try {
      expect(await requestBoth(app.port)).toEqual(['GET /early/:id', 'GET /late/:id', 'GET /late/:id']);
      expect(warnings).toEqual([]);
    } finally {
      await app.close();
    }
  });
});

describe.each([
  ['Express 4', express4 as unknown as typeof express5],
  ['Express 5', express5],
])('%s, when no request ever reaches the middleware', (_name, express) => {
  it('warns at the first untraced response, as NestJS apps do when app.init() runs before app.use(tracing())', async () => {
    const app = express();
    app.get('/users/:id', (_req, res) => {
      res.send('user');
    });
    // NestJS's not-found handler: every request ends before the middleware.
    app.use((_req, res) => {
      res.status(404).send('not found');
    });
    app.use(expressTracing());
    const running = await listen(createServer(app));
    try {
      for (const path of ['/users/1', '/nowhere'])
        await (await fetch(`http://127.0.0.1:${running.port}${path}`)).text();
      await new Promise((r) => setImmediate(r));
      expect(exporter.getFinishedSpans()).toEqual([]);
      expect(warnings.map((w) => w.message)).toEqual([
        'app.use(tracing()) comes after 1 route (GET /users/:id); requests answered there are not traced. Add it ' +
          'before your routes; its ignore option leaves paths untraced on purpose.',
      ]);
    } finally {
      await running.close();
    }
  });
});

describe.each([
  ['Fastify 4', fastifyApp(fastify4 as never)],
  ['Fastify 5', fastifyApp(fastify5)],
])('%s', (_name, create) => {
  it('traces routes declared before the plugin was registered, in encapsulated plugins too, and says nothing', async () => {
    const app = await create(true);
    try {
      expect(await requestBoth(app.port)).toEqual(['GET /early/:id', 'GET /late/:id', 'GET /late/:id']);
      await (await fetch(`http://127.0.0.1:${app.port}/plugin/child/1`)).text();
      expect(exporter.getFinishedSpans().at(-1)?.name).toBe('GET /plugin/child/:id');
      expect(warnings).toEqual([]);
    } finally {
      await app.close();
    }
  });
});
