import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  configure,
  getActiveSpan,
  InMemoryExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  SpanStatusCode,
} from '@tracewire/node';
import express5 from 'express';
import express4 from 'express4';
import supertest from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { tracing } from '../src/index.js';
import { oneFinishedSpan } from './one-span.js';

const exporter = new InMemoryExporter();
const FILE = fileURLToPath(import.meta.url);

beforeAll(() => {
  configure({ processors: [new SimpleSpanProcessor(exporter)], exporters: 'none', shutdownOnSignals: false });
});
beforeEach(() => exporter.reset());

const span = (): Promise<ReadableSpan> => oneFinishedSpan(exporter);

class TeapotError extends Error {
  override name = 'TeapotError';
}

function buildApp(express: typeof express5, version: 4 | 5, withErrorHandler: boolean) {
  const app = express();
  app.set('env', 'test');
  app.use(tracing());
  app.use(express.json({ limit: '1mb' })); // body parsing resumes from socket events, after tracing
  app.post('/echo', (req, res) => {
    res.json({ spanId: getActiveSpan()?.spanContext().spanId, size: JSON.stringify(req.body).length });
  });

  const posts = express.Router({ mergeParams: true });
  posts.get('/posts/:postId', (_req, res) => {
    res.send('post');
  });
  posts.get('/fail', (_req, _res, next) => {
    next(new TeapotError('no coffee'));
  });
  const api = express.Router();
  api.use('/users/:userId', posts);
  app.use('/api', api);

  app
    .route('/books')
    .get((_req, res) => {
      res.send('list');
    })
    .post((_req, res) => {
      res.status(201).send('created');
    });
  const members = express.Router();
  members.get('/members/:memberId', (_req, res) => {
    res.send('member');
  });
  const teams = express.Router();
  teams.use('/teams/:teamId', members);
  app.use('/orgs/:orgId', teams);

  const admin = express();
  admin.get('/stats/:day', (_req, res) => {
    res.send('stats');
  });
  app.use('/admin', admin);
  app.get(/^\/re\/(\d+)$/, (_req, res) => {
    res.send('regex');
  });
  app.get('/first', (_req, _res, next) => next());
  app.get('/first', (_req, res) => {
    res.send('second handler of the same path');
  });
  app.get('/stream', (_req, res) => {
    res.write('a');
    setTimeout(() => res.end('b'), 10);
  });
  app.get('/file', (_req, res) => {
    res.sendFile(FILE);
  });
  app.get('/boom', () => {
    throw new Error('boom');
  });
  app.get('/sync-throw', () => {
    throw new TeapotError('sync');
  });
  // Express 5 catches a rejected handler promise itself; Express 4 apps hand it to next(err).
  const rejecting = async (): Promise<void> => {
    await new Promise((r) => setTimeout(r, 1));
    throw new TeapotError('async');
  };
  if (version === 5) app.get('/async-throw', rejecting);
  else app.get('/async-throw', (_req, _res, next) => void rejecting().catch(next));
  app.use((_req, res, next) => (_req.path === '/mw-only' ? res.send('middleware') : next()));

  if (withErrorHandler) app.use(tracing.errorHandler());
  // The app's own error-handling middleware answers 418 for TeapotError.
  app.use((error: unknown, _req: express5.Request, res: express5.Response, next: express5.NextFunction) => {
    if (error instanceof TeapotError) res.status(418).send('teapot');
    else next(error);
  });
  return app;
}

describe.each([
  ['Express 5', express5, 5],
  ['Express 4', express4 as unknown as typeof express5, 4],
] as const)('%s', (_name, express, version) => {
  let server: Server;
  let bare: Server;
  let url: string;
  let bareUrl: string;

  const listen = async (app: express5.Express): Promise<[Server, string]> => {
    const s = createServer(app);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return [s, `http://127.0.0.1:${(s.address() as AddressInfo).port}`];
  };

  const close = async (s: Server): Promise<void> => {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  };

  /** Serves `app` for `use` alone, and closes it whatever `use` does. */
  const serving = async (app: express5.Express, use: (url: string) => Promise<void>): Promise<void> => {
    const [s, u] = await listen(app);
    try {
      await use(u);
    } finally {
      await close(s);
    }
  };

  beforeAll(async () => {
    [server, url] = await listen(buildApp(express, version, true));
    [bare, bareUrl] = await listen(buildApp(express, version, false));
  });
  afterAll(async () => {
    for (const s of [server, bare]) await close(s);
  });

  it('names routes in nested routers mounted with parameters by their full template', async () => {
    await supertest(url).get('/api/users/42/posts/7').expect(200);
    const s = await span();
    expect(s.name).toBe('GET /api/users/:userId/posts/:postId');
    expect(s.attributes['http.route']).toBe('/api/users/:userId/posts/:postId');
    expect(s.attributes['url.path']).toBe('/api/users/42/posts/7');
  });

  it('names routes under several parameterized mounts without mergeParams by their template', async () => {
    await supertest(url).get('/orgs/acme/teams/blue/members/ann').expect(200);
    const s = await span();
    expect(s.name).toBe('GET /orgs/:orgId/teams/:teamId/members/:memberId');
  });

  it('names routes under literal mounts in an app without parameterized mounts, and under one added later', async () => {
    const app = express();
    app.use(tracing());
    const v1 = express.Router();
    v1.get('/items/:itemId', (_req, res) => {
      res.send('item');
    });
    const api = express.Router();
    api.use('/v1', v1);
    app.use('/api', api);
    await serving(app, async (u) => {
      await supertest(u).get('/api/v1/items/9').expect(200);
      expect((await span()).name).toBe('GET /api/v1/items/:itemId');
      exporter.reset();

      const members = express.Router();
      members.get('/members/:memberId', (_req, res) => {
        res.send('member');
      });
      app.use('/orgs/:orgId', members);
      await supertest(u).get('/orgs/acme/members/ann').expect(200);
      expect((await span()).name).toBe('GET /orgs/:orgId/members/:memberId');
    });
  });

  it('names routes by their template when tracing() sits in a router or sub-app mounted under parameters', async () => {
    const app = express();
    const members = express.Router();
    members.use(tracing());
    members.get('/members/:memberId', (_req, res) => {
      res.send('member');
    });
    const teams = express.Router();
    teams.use('/teams/:teamId', members);
    app.use('/orgs/:orgId', teams);
    const tenant = express();
    tenant.use(tracing());
    tenant.get('/stats/:day', (_req, res) => {
      res.send('stats');
    });
    const region = express();
    region.use('/tenants/:tenantId', tenant);
    app.use('/regions/:regionId', region);
    await serving(app, async (u) => {
      await supertest(u).get('/orgs/acme/teams/blue/members/ann').expect(200);
      expect((await span()).name).toBe('GET /orgs/:orgId/teams/:teamId/members/:memberId');
      exporter.reset();
      await supertest(u).get('/regions/eu/tenants/t-9/stats/monday').expect(200);
      expect((await span()).name).toBe('GET /regions/:regionId/tenants/:tenantId/stats/:day');
    });
  });

  it('names routes under a wildcard mount by the wildcard, never by the path it matched', async () => {
    const app = express();
    app.use(tracing());
    const files = express.Router();
    files.get('/', (_req, res) => {
      res.send('file');
    });
    // Express 5 (path-to-regexp 8) names its wildcards; Express 4's `*` has none, and is shown as written.
    app.use(version === 5 ? '/files/*rest' : '/files/*', files);
    const expected = version === 5 ? 'GET /files/*rest' : 'GET /files/*';
    await serving(app, async (u) => {
      for (const path of ['/files/a/b/c.txt', '/files/readme']) {
        await supertest(u).get(path).expect(200);
        const s = await span();
        expect(s.name).toBe(expected);
        expect(s.attributes['http.route']).toBe(expected.slice(4));
        exporter.reset();
      }
    });
  });

  it('names a mount by the path the app registered, whatever the case or parameter values of the URL', async () => {
    const app = express();
    app.use(tracing());
    const leaf = express.Router();
    leaf.get('/leaf', (_req, res) => {
      res.send('leaf');
    });
    const users = express.Router();
    users.get('/:id', (_req, res) => {
      res.send('user');
    });
    app.use('/users', users);
    app.use('/api/v:version', leaf);
    app.use('/f/:name.:ext', leaf);
    app.use(/\/rx(\d+)/, leaf);
    app.use('/static', (_req, res) => {
      res.send('asset');
    });
    const cases: [string, string][] = [
      ['/USERS/5', 'GET /users/:id'],
      ['/uSeRs/6', 'GET /users/:id'],
      ['/api/v1/leaf', 'GET /api/v:version/leaf'],
      ['/api/v2/leaf', 'GET /api/v:version/leaf'],
      ['/f/report.pdf/leaf', 'GET /f/:name.:ext/leaf'],
      ['/rx7/leaf', 'GET /\\/rx(\\d+)//leaf'],
      ['/STATIC/app.js', 'GET /static'],
    ];
    await serving(app, async (u) => {
      for (const [path, expected] of cases) {
        await supertest(u).get(path).expect(200);
        expect(`${path} ${(await span()).name}`).toBe(`${path} ${expected}`);
        exporter.reset();
      }
    });
  });

  it('names a mount by its own pattern when an earlier catch-all route matched parameters', async () => {
    const app = express();
    app.use(tracing());
    app.all(version === 5 ? '/api/*splat' : '/api/*', (_req, _res, next) => {
      next();
    });
    const users = express.Router();
    users.get('/', (_req, res) => {
      res.send('users');
    });
    app.use('/api/users', users);
    await serving(app, async (u) => {
      await supertest(u).get('/api/users').expect(200);
      expect((await span()).name).toBe('GET /api/users');
    });
  });

  it('names routes of a mounted sub-app with the mount path', async () => {
    await supertest(url).get('/admin/stats/monday').expect(200);
    expect((await span()).name).toBe('GET /admin/stats/:day');
  });

  it('keeps the span active in a handler behind express.json() reading a multi-chunk body', async () => {
    const res = await supertest(url)
      .post('/echo')
      .send({ a: 'x'.repeat(200_000) })
      .expect(200);
    expect(res.body.size).toBeGreaterThan(200_000);
    expect(res.body.spanId).toBe((await span()).spanContext().spanId);
  });

  it('ends an upload the client gives up on as aborted, not as the error express.json() passes on', async () => {
    await new Promise<void>((resolve) => {
      const req = httpRequest(`${url}/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': '100000' },
      });
      req.on('error', () => {});
      req.on('close', () => resolve());
      req.write('{"a": "', () => setTimeout(() => req.destroy(), 50));
    });
    const s = await span();
    expect(s.attributes['error.type']).toBe('aborted');
    expect(s.events.filter((e) => e.name === 'exception')).toHaveLength(0);
  });

  it('names app.route() handlers per method', async () => {
    await supertest(url).post('/books').expect(201);
    expect((await span()).name).toBe('POST /books');
  });

  it('names regex routes by their pattern', async () => {
    await supertest(url).get('/re/123').expect(200);
    expect((await span()).attributes['http.route']).toBe(String(/^\/re\/(\d+)$/));
  });

  it('names a request by the route that answered when an earlier route passed it on', async () => {
    await supertest(url).get('/first').expect(200);
    expect((await span()).name).toBe('GET /first');
  });

  it('names a request answered by plain middleware by its method alone', async () => {
    await supertest(url).get('/mw-only').expect(200);
    expect((await span()).name).toBe('GET');
  });

  it('keeps the nested template when next(err) reaches an app-level error handler', async () => {
    await supertest(url).get('/api/users/1/fail').expect(418);
    const s = await span();
    expect(s.name).toBe('GET /api/users/:userId/fail');
    expect(s.status.code).toBe(SpanStatusCode.UNSET);
    const event = s.events.find((e) => e.name === 'exception');
    expect(event?.attributes?.['exception.type']).toBe('TeapotError');
    expect(event?.attributes?.['exception.message']).toBe('no coffee');
  });

  it('records a thrown error through tracing.errorHandler() and leaves the response to the app', async () => {
    await supertest(url).get('/sync-throw').expect(418);
    const s = await span();
    expect(s.events.map((e) => e.name)).toEqual(['exception']);
  });

  it('records an async handler error (rejected in Express 5, next(err) in Express 4) as an exception', async () => {
    await supertest(url).get('/async-throw').expect(418);
    const s = await span();
    expect(s.name).toBe('GET /async-throw');
    expect(s.events[0]?.attributes?.['exception.message']).toBe('async');
  });

  it('without tracing.errorHandler() marks an unhandled error as a 500 error span, with no exception event', async () => {
    await supertest(bareUrl).get('/boom').expect(500);
    const s = await span();
    expect(s.status.code).toBe(SpanStatusCode.ERROR);
    expect(s.attributes['error.type']).toBe('500');
    expect(s.events).toEqual([]);
  });

  it('with tracing.errorHandler() names the error type of an unhandled error', async () => {
    await supertest(url).get('/boom').expect(500);
    const s = await span();
    expect(s.status.code).toBe(SpanStatusCode.ERROR);
    expect(s.attributes['error.type']).toBe('Error');
  });

  it('ends a streamed response once, after its last chunk', async () => {
    const res = await supertest(url).get('/stream').expect(200);
    expect(res.text).toBe('ab');
    const s = await span();
    expect(s.name).toBe('GET /stream');
    expect(s.attributes['http.response.status_code']).toBe(200);
  });

  it('traces res.sendFile responses', async () => {
    await supertest(url).get('/file').expect(200);
    const s = await span();
    expect(s.name).toBe('GET /file');
    expect(s.attributes['http.response.status_code']).toBe(200);
  });
});
