import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { configure, InMemoryExporter, type ReadableSpan, SimpleSpanProcessor } from '@tracewire/node';
import Koa3 from 'koa';
import mount from 'koa-mount';
import Koa2 from 'koa2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { tracing } from '../src/index.js';

// GraphQL and tRPC handlers are often mounted with koa-mount and answer without a router (Apollo's and
// graphql-http's Koa handlers): the mount's path is then the matched template, as Express names such requests too.

const exporter = new InMemoryExporter();
beforeAll(() => {
  configure({ processors: [new SimpleSpanProcessor(exporter)], exporters: 'none', shutdownOnSignals: false });
});
beforeEach(() => exporter.reset());

async function onlySpan(): Promise<ReadableSpan> {
  for (let i = 0; i < 400 && exporter.getFinishedSpans().length === 0; i++) {
    await new Promise((r) => setTimeout(r, 5));
  }
  expect(exporter.getFinishedSpans()).toHaveLength(1);
  return exporter.getFinishedSpans()[0]!;
}

describe.each([
  ['Koa 3', Koa3],
  ['Koa 2', Koa2 as unknown as typeof Koa3],
] as const)('%s', (_name, Koa) => {
  let server: Server;
  let url: string;

  beforeAll(async () => {
    const app = new Koa();
    app.use(tracing());
    app.use(
      mount('/graphql', (ctx) => {
        ctx.body = { data: {} };
      }),
    );
    const api = new Koa();
    api.use(
      mount('/trpc', (ctx) => {
        ctx.body = { result: {} };
      }),
    );
    api.use(mount('/quiet', async (_ctx, next) => next()));
    app.use(mount('/api', api));
    server = createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('names a request a mounted handler answered without a router by the mount', async () => {
    await (await fetch(`${url}/graphql`, { method: 'POST', body: '{}' })).text();
    const span = await onlySpan();
    expect(span.name).toBe('POST /graphql');
    expect(span.attributes['http.route']).toBe('/graphql');
  });

  it('puts the prefixes of the mounts around it in front', async () => {
    await (await fetch(`${url}/api/trpc/user.byId?input=1`)).text();
    expect((await onlySpan()).name).toBe('GET /api/trpc');
  });

  it('names a request nothing answered (Koa’s 404) by its method alone, mounts or not', async () => {
    expect((await fetch(`${url}/api/quiet/x`)).status).toBe(404);
    expect((await onlySpan()).name).toBe('GET');
  });
});
