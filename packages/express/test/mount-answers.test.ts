import { configure, InMemoryExporter, SimpleSpanProcessor } from '@tracewire/node';
import express5 from 'express';
import express4 from 'express4';
import supertest from 'supertest';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { tracing } from '../src/index.js';
import { oneFinishedSpan } from './one-span.js';

// Handlers mounted with app.use at a path answer without a route of their own: GraphQL and tRPC servers, static
// files, a sub-router's guard. Their path is still the matched template (OpenTelemetry's Express instrumentation
// names them so too); without it every GraphQL request was just `POST`.

const exporter = new InMemoryExporter();
beforeAll(() => {
  configure({ processors: [new SimpleSpanProcessor(exporter)], exporters: 'none', shutdownOnSignals: false });
});
beforeEach(() => exporter.reset());

describe.each([
  ['Express 5', express5],
  ['Express 4', express4 as unknown as typeof express5],
] as const)('%s', (_name, express) => {
  function app() {
    const instance = express();
    instance.use(tracing());
    instance.use('/graphql', (_req, res) => {
      res.json({ data: {} });
    });
    const orgs = express.Router({ mergeParams: true });
    orgs.use((req, res, next) => {
      if (req.headers.authorization === undefined) res.status(401).end();
      else next();
    });
    orgs.get('/projects/:projectId', (_req, res) => {
      res.send('project');
    });
    instance.use('/orgs/:orgId', orgs);
    return instance;
  }

  it('names a request answered by a handler mounted at a path after the mount', async () => {
    await supertest(app()).post('/graphql').send({ query: '{ a }' }).expect(200);
    const span = await oneFinishedSpan(exporter);
    expect(span.name).toBe('POST /graphql');
    expect(span.attributes['http.route']).toBe('/graphql');
  });

  it("names a request a mounted router's middleware answered by the mount's template, not its values", async () => {
    await supertest(app()).get('/orgs/acme/projects/7').expect(401);
    expect((await oneFinishedSpan(exporter)).name).toBe('GET /orgs/:orgId');
  });

  it('keeps the route when one answered, and names a request nothing answered by its method alone', async () => {
    await supertest(app()).get('/orgs/acme/projects/7').set('authorization', 'x').expect(200);
    expect((await oneFinishedSpan(exporter)).name).toBe('GET /orgs/:orgId/projects/:projectId');
    exporter.reset();
    // The router passed it on (no route inside matched): the mount restored baseUrl, and the final 404 has none.
    await supertest(app()).get('/orgs/acme/nothing').set('authorization', 'x').expect(404);
    expect((await oneFinishedSpan(exporter)).name).toBe('GET');
  });
});
