import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream';
import Router from '@koa/router';
import * as otelApi from '@opentelemetry/api';
import { tracing as expressTracing } from '@tracewire/express';
import { tracing as fastifyTracing } from '@tracewire/fastify';
import { tracing as koaTracing } from '@tracewire/koa';
import { getActiveSpan, type ServerTracingOptions } from '@tracewire/node';
import express5 from 'express';
import express4 from 'express4';
import fastify5 from 'fastify';
import fastify4 from 'fastify4';
import Koa3 from 'koa';
import Koa2 from 'koa2';
import { afterEach, beforeEach } from 'vitest';
import { failingBody } from '../fixtures/failing-body.js';

/** The same routes in every framework; the shared suite sends the same requests to each. */
export interface TestApp {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Lets the abort case know when the handler started and when it has answered (too late). */
export interface SlowRouteSignals {
  started: () => void;
  answered: () => void;
}

export interface AppFactory {
  name: string;
  create(options: ServerTracingOptions, slow: SlowRouteSignals): Promise<TestApp>;
}

export class BoomError extends Error {
  override name = 'BoomError';
}

/** A body that sends a first chunk, then fails with a BoomError: the response's headers are out by then. */
function boomBody() {
  return failingBody('first chunk\n', () => new BoomError('body boom'));
}

/** The active span as tracewire and as @opentelemetry/api see it (the suite registers tracewire behind the API). */
function activeIds(): { traceId?: string; spanId?: string; apiSpanId?: string } {
  const sc = getActiveSpan()?.spanContext();
  return {
    traceId: sc?.traceId,
    spanId: sc?.spanId,
    apiSpanId: otelApi.trace.getActiveSpan()?.spanContext().spanId,
  };
}

async function callDownstream(url: string): Promise<unknown> {
  const response = await fetch(url);
  return response.json();
}

/** Listens on a free 127.0.0.1 port; `close` also ends kept-alive connections. */
export function listen(server: Server): Promise<TestApp> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        port,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

/**
 * Collects the route-order warnings (`TRACEWIRE_ROUTES_BEFORE_TRACING`) emitted during each test of the file
 * that calls it; the array is emptied before each test.
 */
export function collectRouteOrderWarnings(): Error[] {
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => {
    if ((warning as { code?: string }).code === 'TRACEWIRE_ROUTES_BEFORE_TRACING') warnings.push(warning);
  };
  beforeEach(() => {
    warnings.length = 0;
    process.on('warning', onWarning);
  });
  afterEach(() => {
    process.off('warning', onWarning);
  });
  return warnings;
}

/** Polls `read` until it gives a value (spans are exported after the response), for up to 5 s. */
export async function waitFor<T>(read: () => T | undefined, what: string): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function expressApp(express: typeof express5, version: 4 | 5): AppFactory['create'] {
  return async (options, slow) => {
    const app = express();
    app.set('env', 'test'); // finalhandler logs error stacks outside the test env
    app.use(express.json());
    app.use(expressTracing(options));
    // Express 4 does not catch rejected promises; its users pass them to next().
    const wrap =
      (fn: (req: express5.Request, res: express5.Response) => Promise<void>): express5.RequestHandler =>
      (req, res, next) =>
        version === 5 ? fn(req, res) : fn(req, res).catch(next);
    app.get('/users/:id', (req, res) => {
      res.json({ id: req.params.id });
    });
    const v1 = express.Router();
    v1.get('/orders/:orderId', (_req, res) => {
      res.json({ ok: true });
    });
    const api = express.Router();
    api.use('/v1', v1);
    app.use('/api', api);
    app.get('/status/:code', (req, res) => {
      res.status(Number(req.params.code)).send('status');
    });
    app.get('/throw-sync', () => {
      throw new BoomError('sync boom');
    });
    app.get(
      '/throw-async',
      wrap(async () => {
        await new Promise((r) => setTimeout(r, 1));
        throw new BoomError('async boom');
      }),
    );
    app.get('/health', (_req, res) => {
      res.send('ok');
    });
    app.get('/active', (_req, res) => {
      res.json(activeIds());
    });
    app.post('/echo', (_req, res) => {
      res.json(activeIds());
    });
    const outgoing = wrap(async (req, res) => {
      res.json(await callDownstream(String(req.query.to)));
    });
    app.get('/outgoing', outgoing);
    app.get('/internal/outgoing', outgoing);
    app.get('/headers', (_req, res) => {
      res.set('x-response-id', 'r1').set('set-cookie', 'session=s').send('headers');
    });
    app.get('/stream-fails', (_req, res) => {
      pipeline(boomBody(), res, () => {});
    });
    app.get('/slow', (_req, res) => {
      slow.started();
      res.on('close', () => {
        res.send('late');
        slow.answered();
      });
    });
    app.use(expressTracing.errorHandler());
    return listen(createServer(app));
  };
}

function koaApp(Koa: typeof Koa3): AppFactory['create'] {
  return async (options, slow) => {
    const app = new Koa();
    app.silent = true; // Koa logs thrown errors otherwise
    app.use(koaTracing(options));
    const router = new Router();
    router.get('/users/:id', (ctx) => {
      ctx.body = { id: ctx.params.id };
    });
    const v1 = new Router({ prefix: '/v1' });
    v1.get('/orders/:orderId', (ctx) => {
      ctx.body = { ok: true };
    });
    const api = new Router({ prefix: '/api' });
    api.use(v1.routes());
    router.get('/status/:code', (ctx) => {
      ctx.status = Number(ctx.params.code);
      ctx.body = 'status';
    });
    router.get('/throw-sync', () => {
      throw new BoomError('sync boom');
    });
    router.get('/throw-async', async () => {
      await new Promise((r) => setTimeout(r, 1));
      throw new BoomError('async boom');
    });
    router.get('/health', (ctx) => {
      ctx.body = 'ok';
    });
    router.get('/active', (ctx) => {
      ctx.body = activeIds();
    });
    router.post('/echo', async (ctx) => {
      await new Promise<void>((resolve) => {
        ctx.req.resume();
        ctx.req.on('end', resolve);
      });
      ctx.body = activeIds();
    });
    router.get(['/outgoing', '/internal/outgoing'], async (ctx) => {
      ctx.body = await callDownstream(String(ctx.query.to));
    });
    router.get('/headers', (ctx) => {
      ctx.set('x-response-id', 'r1');
      ctx.set('set-cookie', 'session=s');
      ctx.body = 'headers';
    });
    router.get('/stream-fails', (ctx) => {
      ctx.body = boomBody();
    });
    router.get('/slow', async (ctx) => {
      slow.started();
      await new Promise((resolve) => ctx.res.on('close', resolve));
      ctx.body = 'late';
      setImmediate(slow.answered);
    });
    app.use(router.routes());
    app.use(api.routes());
    return listen(createServer(app.callback()));
  };
}

function fastifyApp(fastify: typeof fastify5): AppFactory['create'] {
  return async (options, slow) => {
    const app = fastify({ logger: false });
    await app.register(fastifyTracing, options);
    app.get<{ Params: { id: string } }>('/users/:id', async (req) => ({ id: req.params.id }));
    await app.register(
      async (api) => {
        await api.register(
          async (v1) => {
            v1.get('/orders/:orderId', async () => ({ ok: true }));
          },
          { prefix: '/v1' },
        );
      },
      { prefix: '/api' },
    );
    app.get<{ Params: { code: string } }>('/status/:code', async (req, reply) => {
      reply.code(Number(req.params.code));
      return 'status';
    });
    app.get('/throw-sync', () => {
      throw new BoomError('sync boom');
    });
    app.get('/throw-async', async () => {
      await new Promise((r) => setTimeout(r, 1));
      throw new BoomError('async boom');
    });
    app.get('/health', async () => 'ok');
    app.get('/active', async () => activeIds());
    app.post('/echo', async () => activeIds());
    const outgoing = async (req: { query: unknown }) =>
      callDownstream(String((req.query as { to: string }).to));
    app.get('/outgoing', outgoing);
    app.get('/internal/outgoing', outgoing);
    app.get('/headers', async (_req, reply) => {
      reply.header('x-response-id', 'r1').header('set-cookie', 'session=s');
      return 'headers';
    });
    app.get('/stream-fails', async (_req, reply) => reply.send(boomBody()));
    app.get('/slow', async (_req, reply) => {
      slow.started();
      await new Promise((resolve) => reply.raw.on('close', resolve));
      setImmediate(slow.answered);
      return 'late';
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, port, close: () => app.close() };
  };
}

export const APPS: AppFactory[] = [
  { name: 'express 5', create: expressApp(express5, 5) },
  { name: 'express 4', create: expressApp(express4 as unknown as typeof express5, 4) },
  { name: 'koa 3', create: koaApp(Koa3) },
  { name: 'koa 2', create: koaApp(Koa2 as unknown as typeof Koa3) },
  { name: 'fastify 5', create: fastifyApp(fastify5) },
  { name: 'fastify 4', create: fastifyApp(fastify4 as unknown as typeof fastify5) },
];

/** A downstream service on 127.0.0.1 that answers every call with the headers it received, as JSON. */
export async function startEchoDownstream(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(req.headers));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/downstream`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
