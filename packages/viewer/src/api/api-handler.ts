import type { IncomingMessage, ServerResponse } from 'node:http';
import { COMMON_HEADERS, type RequestGuard, refuseMisdirected } from '../request-guard.js';
import type { TraceStore } from '../store/trace-store.js';
import { serveAsset } from '../web-assets.js';
import { BadQuery, timeRange, traceQueryFrom } from './query-params.js';

/**
 * The UI port: the JSON API under /api and the page's static files everywhere else.
 *
 * GET /api/traces, /api/traces/:traceId, /api/services, /api/operations?service=, /api/dependencies, /api/status
 */
export function createApiHandler(
  store: TraceStore,
  receivers: { otlp: string; zipkin: string },
  guard: RequestGuard,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (!guard.hostAllowed(req)) {
      refuseMisdirected(res);
      return;
    }
    const url = new URL(req.url ?? '/', 'http://viewer');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      json(res, 405, { error: 'the viewer API is read-only; use GET' });
      return;
    }
    if (!url.pathname.startsWith('/api/')) {
      void serveAsset(url.pathname, res);
      return;
    }
    try {
      route(store, receivers, url, res);
    } catch (error) {
      if (error instanceof BadQuery || error instanceof RangeError || error instanceof URIError)
        json(res, 400, { error: error.message });
      else json(res, 500, { error: (error as Error).message });
    }
  };
}

function route(
  store: TraceStore,
  receivers: { otlp: string; zipkin: string },
  url: URL,
  res: ServerResponse,
): void {
  const path = url.pathname;
  if (path === '/api/status') {
    json(res, 200, { spanCount: store.spanCount(), receivers });
  } else if (path === '/api/traces') {
    json(res, 200, store.listTraces(traceQueryFrom(url.searchParams)));
  } else if (path.startsWith('/api/traces/')) {
    const traceId = decodeURIComponent(path.slice('/api/traces/'.length));
    if (!/^[0-9a-fA-F]{32}$/.test(traceId)) throw new BadQuery('a trace id is 32 hex characters');
    const trace = store.getTrace(traceId);
    if (trace) json(res, 200, trace);
    else json(res, 404, { error: `no trace ${traceId}` });
  } else if (path === '/api/services') {
    json(res, 200, { services: store.services() });
  } else if (path === '/api/operations') {
    json(res, 200, { operations: store.operations(url.searchParams.get('service') || undefined) });
  } else if (path === '/api/dependencies') {
    json(res, 200, { dependencies: store.dependencies(timeRange(url.searchParams)) });
  } else {
    json(res, 404, { error: `no API at ${path}` });
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res
    .writeHead(status, {
      ...COMMON_HEADERS,
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      'cache-control': 'no-store',
    })
    .end(text);
}
