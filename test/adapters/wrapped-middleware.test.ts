import { createServer } from 'node:http';
import { tracing } from '@tracewire/express';
import { configure, InMemoryExporter, SimpleSpanProcessor } from '@tracewire/node';
import express from 'express';
import PromiseRouter from 'express-promise-router';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { listen } from './apps.js';

// Libraries that make async handlers safe wrap every function handed to a router (express-promise-router) or every
// layer's handle (express-async-errors on Express 4). The adapter finds its own middleware in the routers to learn
// the mount paths above it and to check what comes before it: it must know it inside such a wrapper too.

const exporter = new InMemoryExporter();
const tracer = configure({
  serviceName: 'wrapped-middleware',
  processors: [new SimpleSpanProcessor(exporter)],
  shutdownOnSignals: false,
});
afterAll(() => tracer.shutdown());
beforeEach(() => exporter.reset());

async function spanNameOf(app: express.Express, path: string): Promise<string | undefined> {
  const running = await listen(createServer(app));
  try {
    await (await fetch(`http://127.0.0.1:${running.port}${path}`)).text();
    for (let i = 0; i < 200 && exporter.getFinishedSpans().length === 0; i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    return exporter.getFinishedSpans()[0]?.name;
  } finally {
    await running.close();
  }
}

describe('tracing() inside an express-promise-router router', () => {
  it('names the route with the templates of the mounts above it, not their values', async () => {
    const app = express();
    const org = PromiseRouter();
    org.use(tracing());
    org.get('/projects/:projectId', async (_req, res) => {
      res.send('project');
    });
    app.use('/orgs/:orgId', org);
    // Before: `GET /orgs/acme/projects/:projectId`, one span name per organisation.
    expect(await spanNameOf(app, '/orgs/acme/projects/7')).toBe('GET /orgs/:orgId/projects/:projectId');
  });
});
