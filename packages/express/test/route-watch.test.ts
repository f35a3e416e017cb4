import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  configure,
  createServerTracing,
  InMemoryExporter,
  runInContext,
  SimpleSpanProcessor,
} from '@tracewire/node';
import express5 from 'express';
import express4 from 'express4';
import supertest from 'supertest';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { watchRoute } from '../src/route-watch.js';
import { oneFinishedSpan } from './one-span.js';

// Both ways of watching the route, whichever this Node's V8 picks for tracing(): keeping the request's shape
// (only `req.route`, unless the app mounts under parameters) and the dictionary (`req.route` and `req.params`).

const exporter = new InMemoryExporter();
beforeAll(() => {
  configure({ processors: [new SimpleSpanProcessor(exporter)], exporters: 'none', shutdownOnSignals: false });
});
beforeEach(() => exporter.reset());

let servers: Server[] = [];
afterEach(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  servers = [];
});

async function spanName(): Promise<string> {
  const { name } = await oneFinishedSpan(exporter);
  exporter.reset();
  return name;
}

describe.each([
  ['Express 5', express5],
  ['Express 4', express4 as unknown as typeof express5],
] as const)('watchRoute, %s', (_name, express) => {
  describe.each([true, false])('keepShape: %s', (keepShape) => {
    async function appWith(mount: (app: express5.Express) => void): Promise<[express5.Express, string]> {
      const server = createServerTracing();
      const app = express();
      app.use((req, res, next) => {
        const trace = server.start(req, res);
        if (trace === undefined) return next();
        watchRoute(req, keepShape);
        runInContext(trace.context, () => next());
      });
      mount(app);
      const s = createServer(app);
      servers.push(s);
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
      return [app, `http://127.0.0.1:${(s.address() as AddressInfo).port}`];
    }

    const answer = (_req: unknown, res: express5.Response): void => {
      res.send('ok');
    };

    it('names a route under nested literal mounts by its full template', async () => {
      const [, url] = await appWith((app) => {
        const v1 = express.Router();
        v1.get('/items/:itemId', answer);
        const api = express.Router();
        api.use('/v1', v1);
        app.use('/api', api);
      });
      await supertest(url).get('/api/v1/items/9').expect(200);
      expect(await spanName()).toBe('GET /api/v1/items/:itemId');
    });

    it('names routes under parameterized mounts, also one added after the first request', async () => {
      const [app, url] = await appWith((a) => {
        a.get('/health', answer);
      });
      await supertest(url).get('/health').expect(200);
      expect(await spanName()).toBe('GET /health');
      const members = express.Router();
      members.get('/members/:memberId', answer);
      const teams = express.Router();
      teams.use('/teams/:teamId', members);
      app.use('/orgs/:orgId', teams);
      await supertest(url).get('/orgs/acme/teams/blue/members/ann').expect(200);
      expect(await spanName()).toBe('GET /orgs/:orgId/teams/:teamId/members/:memberId');
    });
  });
});
