import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SpanRecord, startViewer, TraceStore, type Viewer } from '../src/index.js';

// What a web page the developer opens can do to the viewer through their browser: read it after rebinding a name
// to 127.0.0.1 (DNS rebinding), or write to a receiver without a preflight (a Zipkin POST with no Content-Type).

let viewer: Viewer;
beforeAll(async () => {
  viewer = await startViewer({ uiPort: 0, otlpPort: 0, zipkinPort: 0, database: ':memory:' });
});
afterAll(async () => {
  await viewer.close();
});

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A request with the headers a browser would send (node:http, as fetch will not let a page set Host). */
function send(
  base: string,
  path: string,
  init: { method?: string; headers?: http.OutgoingHttpHeaders; body?: string },
) {
  const url = new URL(path, base);
  return new Promise<Answer>((resolve, reject) => {
    const req = http.request(url, { method: init.method ?? 'GET', headers: init.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

const zipkinSpan = (traceId: string) =>
  JSON.stringify([
    {
      traceId,
      id: '00f067aa0ba902b7',
      name: 'get /x',
      kind: 'SERVER',
      timestamp: Date.now() * 1000,
      duration: 1000,
      localEndpoint: { serviceName: 'page-test' },
    },
  ]);

describe('DNS rebinding', () => {
  it('answers the API and the receivers only under loopback names', async () => {
    const port = new URL(viewer.urls.ui).port;
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) {
      expect((await send(viewer.urls.ui, '/api/status', { headers: { host } })).status).toBe(200);
    }
    // Before: 200 with every stored trace, to a page at attacker.example resolving to 127.0.0.1.
    expect(
      (await send(viewer.urls.ui, '/api/status', { headers: { host: 'attacker.example' } })).status,
    ).toBe(421);
    const zipkin = await send(viewer.urls.zipkin, viewer.urls.zipkin, {
      method: 'POST',
      headers: { host: 'attacker.example', 'content-type': 'application/json' },
      body: zipkinSpan('a'.repeat(32)),
    });
    expect(zipkin.status).toBe(421);
  });
});

describe('cross-site writes', () => {
  it('refuses a receiver request a web page sent (it carries Origin), and stores nothing', async () => {
    const traceId = 'b'.repeat(32);
    // What fetch(url, { method: 'POST', mode: 'no-cors', body: new Blob([json]) }) sends: no preflight needed.
    const page = await send(viewer.urls.zipkin, viewer.urls.zipkin, {
      method: 'POST',
      headers: { origin: 'https://evil.test' },
      body: zipkinSpan(traceId),
    });
    expect(page.status).toBe(403);
    expect((await send(viewer.urls.ui, `/api/traces/${traceId}`, {})).status).toBe(404);
    // An exporter sends no Origin, with or without Content-Type.
    const exporter = await send(viewer.urls.zipkin, viewer.urls.zipkin, {
      method: 'POST',
      body: zipkinSpan(traceId),
    });
    expect(exporter.status).toBe(202);
    expect((await send(viewer.urls.ui, `/api/traces/${traceId}`, {})).status).toBe(200);
  });
});

describe('response headers', () => {
  it('keeps the page to its own files and out of frames, and no answer is sniffed into something else', async () => {
    const page = await send(viewer.urls.ui, '/', {});
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    for (const path of ['/', '/app.js', '/api/status', '/api/traces/nope']) {
      expect((await send(viewer.urls.ui, path, {})).headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('answers a malformed percent-encoding in a trace id with 400, not 500', async () => {
    const answer = await send(viewer.urls.ui, '/api/traces/%E0%A4%A', {});
    expect(answer.status).toBe(400);
  });
});

describe('large traces', () => {
  it('opens a trace of 150,000 spans (spreading them into Math.min overflowed the stack)', () => {
    const store = new TraceStore(':memory:');
    try {
      const traceId = 'c'.repeat(32);
      const spans: SpanRecord[] = [];
      for (let i = 0; i < 150_000; i++) {
        spans.push({
          traceId,
          spanId: (i + 1).toString(16).padStart(16, '0'),
          name: 'op',
          kind: 'internal',
          service: 'big',
          startUs: 1_000_000 + i,
          durationUs: 10,
          statusCode: 0,
          attributes: {},
          resource: { 'service.name': 'big' },
          scope: { name: 'test' },
          events: [],
          links: [],
        });
      }
      store.insert(spans);
      const trace = store.getTrace(traceId);
      expect(trace?.spans).toHaveLength(150_000);
      expect(trace?.startUs).toBe(1_000_000);
      expect(trace?.durationUs).toBe(150_000 - 1 + 10);
    } finally {
      store.close();
    }
  }, 60_000);
});
