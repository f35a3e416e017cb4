import {
  createServer,
  get as httpGet,
  request as httpRequest,
  type RequestListener,
  type Server,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import Router from '@koa/router';
import {
  configure,
  getActiveSpan,
  InMemoryExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  SpanStatusCode,
} from '@tracewire/node';
import Koa3 from 'koa';
import mount from 'koa-mount';
import KoaRouter7 from 'koa-router7';
import Koa2 from 'koa2';
import supertest from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { failingBody, getUntilClosed } from '../../../test/fixtures/failing-body.js';
import { tracing } from '../src/index.js';

const exporter = new InMemoryExporter();

beforeAll(() => {
  configure({ processors: [new SimpleSpanProcessor(exporter)], exporters: 'none', shutdownOnSignals: false });
});
beforeEach(() => exporter.reset());

async function span(): Promise<ReadableSpan> {
  for (let i = 0; i < 400 && exporter.getFinishedSpans().length === 0; i++) {
    await new Promise((r) => setTimeout(r, 5));
  }
  const spans = exporter.getFinishedSpans();
  expect(spans).toHaveLength(1);
  return spans[0]!;
}

/** Serves a Koa app on a free 127.0.0.1 port. */
async function listen(app: { callback(): RequestListener }): Promise<{ server: Server; url: string }> {
  const server = createServer(app.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
}

class ValidationError extends Error {
  override name = 'ValidationError';
}

describe.each([
  ['Koa 3', Koa3],
  ['Koa 2', Koa2 as unknown as typeof Koa3],
] as const)('%s', (_name, Koa) => {
  let server: Server;
  let url: string;
  const caught: unknown[] = [];
  const thrown: unknown[] = [];

  beforeAll(async () => {
    const app = new Koa();
    app.silent = true;
    // The app's own error handler sits outside tracing and must receive the very error the route threw.
    app.use(async (ctx, next) => {
      try {
        await next();
      } catch (error) {
        caught.push(error);
        ctx.status = error instanceof ValidationError ? 422 : 500;
        ctx.body = 'handled';
      }
    });
    app.use(tracing());

    const posts = new Router();
    posts.get('/posts/:postId', (ctx) => {
      ctx.body = 'post';
    });
    const users = new Router();
    users.use('/users/:userId', posts.routes());
    const api = new Router({ prefix: '/api' });
    api.use(users.routes());
    api.post('/validate', async () => {
      await new Promise((r) => setTimeout(r, 1));
      const error = new ValidationError('bad input');
      thrown.push(error);
      throw error;
    });
    api.get('/stream', (ctx) => {
      ctx.type = 'text/plain';
      ctx.body = Readable.from(['a', 'b', 'c']);
    });
    api.get('/stream/fails-early', (ctx) => {
      ctx.type = 'text/plain';
      ctx.body = failingBody();
    });
    api.get('/stream/fails-midway', (ctx) => {
      ctx.type = 'text/plain';
      ctx.body = failingBody('part');
    });
    api.get('/stream/endless', (ctx) => {
      ctx.type = 'text/plain';
      // Large chunks keep the server writing into the reset socket, so Koa also sees its ECONNRESET.
      const chunk = Buffer.alloc(64 * 1024, 120);
      ctx.body = new Readable({
        read() {
          this.push(chunk);
        },
      });
    });
    api.post('/upload', async (ctx) => {
      for await (const _chunk of ctx.req);
      ctx.body = 'stored';
    });
    api.get('/active', (ctx) => {
      const active = getActiveSpan();
      const context = active?.spanContext();
      const liveName = (active as { name?: string } | undefined)?.name;
      ctx.body = {
        spanId: context?.spanId,
        traceId: context?.traceId,
        traceFlags: context?.traceFlags,
        liveName,
      };
    });
    // Router middleware (`router.use`): the routers write its internal pattern to `_matchedRoute` too.
    const guarded = new Router({ prefix: '/guarded' });
    guarded.use(async (ctx, next) => {
      if (ctx.get('authorization') === '') ctx.status = 401;
      else await next();
    });
    guarded.get('/items/:id', async (ctx, next) => {
      ctx.body = 'item';
      await next();
    });
    guarded.use(async (_ctx, next) => {
      await next();
    });
    app.use(guarded.routes());
    app.use(api.routes());
    app.use(api.allowedMethods());

    ({ server, url } = await listen(app));
  });
  afterAll(() => close(server));

  it('names routes of nested, prefixed @koa/router routers by their full template', async () => {
    await supertest(url).get('/api/users/3/posts/9').expect(200);
    const s = await span();
    expect(s.name).toBe('GET /api/users/:userId/posts/:postId');
    expect(s.attributes['http.route']).toBe('/api/users/:userId/posts/:postId');
  });

  it('records an error thrown through the chain and re-throws the same object to outer middleware', async () => {
    await supertest(url).post('/api/validate').expect(422);
    const s = await span();
    expect(caught.at(-1)).toBe(thrown.at(-1));
    expect(s.name).toBe('POST /api/validate');
    expect(s.status.code).toBe(SpanStatusCode.UNSET);
    expect(s.events[0]?.attributes?.['exception.type']).toBe('ValidationError');
  });

  it('ends a streamed ctx.body once, after the stream ends', async () => {
    const res = await supertest(url).get('/api/stream').expect(200);
    expect(res.text).toBe('abc');
    const s = await span();
    expect(s.name).toBe('GET /api/stream');
    expect(s.attributes['http.response.status_code']).toBe(200);
  });

  it.each([
    ['before the first byte', '/api/stream/fails-early'],
    ['after the headers', '/api/stream/fails-midway'],
  ])('records a ctx.body stream failing %s as its exception, not as a client abort', async (_when, path) => {
    await getUntilClosed(url, path, 300);
    const s = await span();
    expect(s.status.code).toBe(SpanStatusCode.ERROR);
    expect(s.attributes['error.type']).toBe('DiskError');
    const exceptions = s.events.filter((e) => e.name === 'exception');
    expect(exceptions).toHaveLength(1);
    expect(exceptions[0]?.attributes?.['exception.message']).toBe('disk gone');
  });

  it('still ends a streamed body the client walks away from as aborted, with no exception', async () => {
    await new Promise<void>((resolve) => {
      const req = httpGet(`${url}/api/stream/endless`, (res) => {
        res.once('data', () => req.destroy());
        res.on('error', () => {});
      });
      req.on('error', () => {});
      req.on('close', () => resolve());
    });
    const s = await span();
    expect(s.attributes['error.type']).toBe('aborted');
    expect(s.events.filter((e) => e.name === 'exception')).toHaveLength(0);
  });

  it('ends an upload the client gives up on as aborted, not as the parse error Koa reports', async () => {
    await new Promise<void>((resolve) => {
      const req = httpRequest(`${url}/api/upload`, {
        method: 'POST',
        headers: { 'content-length': '100000' },
      });
      req.on('error', () => {});
      req.on('close', () => resolve());
      req.write('partial', () => setTimeout(() => req.destroy(), 50));
    });
    const s = await span();
    expect(s.name).toBe('POST /api/upload');
    expect(s.attributes['error.type']).toBe('aborted');
    expect(s.events.filter((e) => e.name === 'exception')).toHaveLength(0);
  });

  it('makes the span active inside router handlers, already named by the route', async () => {
    const res = await supertest(url).get('/api/active').expect(200);
    expect(res.body.spanId).toBe((await span()).spanContext().spanId);
    // As on Express and Fastify; before, the live span was named `GET` until it ended.
    expect(res.body.liveName).toBe('GET /api/active');
  });

  it("keeps an unsampled caller's trace active in handlers and passes errors on untouched", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const traceparent = `00-${traceId}-00f067aa0ba902b7-00`;
    const res = await supertest(url).get('/api/active').set('traceparent', traceparent).expect(200);
    expect(res.body).toMatchObject({ traceId, traceFlags: 0 });
    await supertest(url).post('/api/validate').set('traceparent', traceparent).expect(422);
    expect(caught.at(-1)).toBe(thrown.at(-1));
    await new Promise((r) => setTimeout(r, 20));
    expect(exporter.getFinishedSpans()).toHaveLength(0);
  });

  it('names requests by their route, not by router middleware that answered or ran after it', async () => {
    await supertest(url).get('/guarded/items/1').expect(401);
    expect((await span()).name).toBe('GET /guarded/items/:id');
    exporter.reset();
    await supertest(url).get('/guarded/items/2').set('authorization', 'yes').expect(200);
    const s = await span();
    expect(s.name).toBe('GET /guarded/items/:id');
    expect(s.attributes['http.route']).toBe('/guarded/items/:id');
  });

  it('names a request no route matched by its method alone', async () => {
    await supertest(url).get('/api/nothing/here').expect(404);
    expect((await span()).name).toBe('GET');
  });

  it('names a 405 from allowedMethods by its method alone', async () => {
    await supertest(url).delete('/api/stream').expect(405);
    expect((await span()).name).toBe('DELETE');
  });
});

describe.each([
  ['Koa 3', Koa3],
  ['Koa 2', Koa2 as unknown as typeof Koa3],
] as const)('%s apps mounted with koa-mount', (_name, Koa) => {
  let server: Server;
  let url: string;

  beforeAll(async () => {
    const v1 = new Koa();
    const v1Routes = new Router();
    v1Routes.get('/users/:id', (ctx) => {
      ctx.body = 'user';
    });
    v1Routes.get('/', (ctx) => {
      ctx.body = 'index';
    });
    v1.use(v1Routes.routes());

    const admin = new Koa();
    const teams = new Router({ prefix: '/teams' });
    teams.get('/:teamId', (ctx) => {
      ctx.body = 'team';
    });
    admin.use(teams.routes());

    const app = new Koa();
    app.silent = true;
    app.use(tracing());
    // Something other than koa-mount cutting a value out of the path: that value must not reach the route.
    app.use(async (ctx, next) => {
      const session = /^\/s\/\d+(\/.*)$/.exec(ctx.path);
      if (session) ctx.path = session[1]!;
      await next();
    });
    app.use(mount('/v1', v1));
    app.use(mount('/v2', mount('/admin', admin)));
    const own = new Router();
    own.get('/v1/legacy/:id', (ctx) => {
      ctx.body = 'legacy';
    });
    own.get('/profile', (ctx) => {
      ctx.body = 'profile';
    });
    app.use(own.routes());

    ({ server, url } = await listen(app));
  });
  afterAll(() => close(server));

  it.each([
    ['/v1/users/7?x=1', 'GET /v1/users/:id'],
    ['/v1', 'GET /v1'],
    ['/v1/', 'GET /v1'],
    ['/v2/admin/teams/3', 'GET /v2/admin/teams/:teamId'],
    // The mounted app had no such route and passed the request back to the parent's router.
    ['/v1/legacy/5', 'GET /v1/legacy/:id'],
    ['/s/12345/profile', 'GET /profile'],
  ])('names %s %s', async (path, name) => {
    await supertest(url).get(path).expect(200);
    const s = await span();
    expect(s.name).toBe(name);
    expect(s.attributes['http.route']).toBe(name.slice(4));
  });
});

describe.each([
  ['Koa 3', Koa3],
  ['Koa 2', Koa2 as unknown as typeof Koa3],
] as const)('%s app error events', (_name, Koa) => {
  let server: Server;
  let url: string;
  const activeInListener: (string | undefined)[] = [];

  beforeAll(async () => {
    const app = new Koa();
    app.silent = true;
    app.on('error', () => {
      activeInListener.push(getActiveSpan()?.spanContext().spanId);
    });
    app.use(tracing());
    // Koa's documented pattern for a handler that answers errors itself: emit them on the app, for logging.
    app.use(async (ctx, next) => {
      try {
        await next();
      } catch (error) {
        if (ctx.path !== '/handled/emitted') throw error;
        ctx.status = 500;
        ctx.body = 'handled';
        ctx.app.emit('error', error, ctx);
      }
    });
    const router = new Router();
    router.get('/handled/emitted', () => {
      throw new ValidationError('caught below tracing');
    });
    router.get('/thrown', () => {
      throw new ValidationError('left to Koa');
    });
    app.use(router.routes());
    ({ server, url } = await listen(app));
  });
  afterAll(() => close(server));
  beforeEach(() => {
    activeInListener.length = 0;
  });

  it('records an error a middleware after tracing answers and emits on the app', async () => {
    await supertest(url).get('/handled/emitted').expect(500);
    const s = await span();
    expect(s.name).toBe('GET /handled/emitted');
    expect(s.status.code).toBe(SpanStatusCode.ERROR);
    expect(s.attributes['error.type']).toBe('ValidationError');
    expect(s.events.filter((e) => e.name === 'exception')).toHaveLength(1);
  });

  it("runs the app's error listeners with the request's span active, once for an error Koa answers", async () => {
    await supertest(url).get('/thrown').expect(500);
    const s = await span();
    expect(s.events.filter((e) => e.name === 'exception')).toHaveLength(1);
    expect(activeInListener).toEqual([s.spanContext().spanId]);
  });
});

describe.each([
  ['Koa 3', Koa3],
  ['Koa 2', Koa2 as unknown as typeof Koa3],
] as const)('%s response sent after the middleware chain', (_name, Koa) => {
  it("keeps the request's span active while Koa sends a lazily produced body and emits finish", async () => {
    const app = new Koa();
    app.silent = true;
    app.use(tracing());
    const seen: { route: string; body?: string; finish?: string }[] = [];
    app.use(async (ctx) => {
      const entry: (typeof seen)[number] = { route: ctx.path };
      seen.push(entry);
      ctx.res.on('finish', () => {
        entry.finish = getActiveSpan()?.spanContext().spanId;
      });
      ctx.body = Readable.from(
        (async function* () {
          await new Promise((resolve) => setTimeout(resolve, 1));
          entry.body = getActiveSpan()?.spanContext().spanId;
          yield 'page';
        })(),
      );
    });
    const { server, url } = await listen(app);
    try {
      // The first request through the middleware sets the app up for the next ones.
      await supertest(url).get('/first').expect(200);
      await span();
      exporter.reset();
      await supertest(url).get('/second').expect(200);
      const s = await span();
      const second = seen.find((entry) => entry.route === '/second');
      expect(second).toEqual({
        route: '/second',
        body: s.spanContext().spanId,
        finish: s.spanContext().spanId,
      });
    } finally {
      await close(server);
    }
  });
});

describe("the routers' _matchedRoute", () => {
  // What a handler reads of it is the app's own (metrics middleware labels requests with it); tracing reads it too.
  async function matchedRouteSeen(traced: boolean, RouterClass: typeof Router, path: string) {
    const app = new Koa3();
    if (traced) app.use(tracing());
    const posts = new RouterClass();
    posts.get('/:pid', (ctx) => {
      ctx.body = { inHandler: ctx._matchedRoute };
    });
    posts.post('/new', (ctx) => {
      ctx.body = { created: true };
    });
    const api = new RouterClass({ prefix: '/api' });
    // koa-router 7's README nests routers so; @koa/router's `router.use` after a route writes its own pattern.
    api.use('/v1/posts', posts.routes(), posts.allowedMethods());
    api.use(async (ctx, next) => {
      await next();
      ctx.set('x-matched-after', String(ctx._matchedRoute));
    });
    app.use(api.routes()).use(api.allowedMethods());
    const { server, url } = await listen(app);
    try {
      const response = await supertest(url).get(path).expect(200);
      return { ...response.body, after: response.headers['x-matched-after'] };
    } finally {
      await close(server);
    }
  }

  it.each([
    ['koa-router 7', KoaRouter7],
    ['@koa/router', Router],
  ])(
    '%s: the span is named by the route, and the app reads what the router wrote',
    async (_name, RouterClass) => {
      // `/new` matches POST /new's path too: the GET route is the one that ran.
      for (const path of ['/api/v1/posts/9', '/api/v1/posts/new']) {
        exporter.reset();
        const seen = await matchedRouteSeen(true, RouterClass, path);
        expect((await span()).name, path).toBe('GET /api/v1/posts/:pid');
        // Before: koa-router 7's only write (allowedMethods' path) was dropped: no route, and the app read undefined.
        expect(seen, path).toEqual(await matchedRouteSeen(false, RouterClass, path));
      }
    },
  );
});
