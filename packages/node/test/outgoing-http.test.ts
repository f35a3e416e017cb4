import diagnosticsChannel from 'node:diagnostics_channel';
import http, { request as namedRequest } from 'node:http';
import https from 'node:https';
import { Baggage } from '@tracewire/core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { TracewireOptions } from '../src/config.js';
import { runInContext, suppressTracing, withSpan } from '../src/context.js';
import { configure } from '../src/global.js';
import { installOutgoing } from '../src/install-outgoing.js';
import {
  clientRequestStoresAuthority,
  defaultHttpMode,
  installHttp,
  nodeHasCreatedChannel,
} from '../src/outgoing-http.js';
import { resolveOutgoingOptions } from '../src/outgoing-options.js';
import { createOutgoingState } from '../src/outgoing-span.js';
import { type ReadableSpan, SpanKind, SpanStatusCode } from '../src/span-data.js';
import { Tracer } from '../src/tracer.js';
import {
  consume,
  type Downstream,
  type Harness,
  installHarness,
  parseTraceparent,
  startDownstream,
  tls,
  waitForSpans,
} from './outgoing-harness.js';

const originals = {
  httpRequest: http.request,
  httpGet: http.get,
  httpsRequest: https.request,
  httpsGet: https.get,
};

let plain: Downstream;
let secure: Downstream;
let harness: Harness | undefined;

beforeAll(async () => {
  plain = await startDownstream();
  secure = await startDownstream(true);
});
afterAll(async () => {
  await plain.close();
  await secure.close();
});
afterEach(() => {
  harness?.uninstall();
  harness = undefined;
  plain.received.length = 0;
  secure.received.length = 0;
});

function setup(...args: Parameters<typeof installHarness>): Harness {
  harness = installHarness(...args);
  return harness;
}

/** Runs `fn` inside an active, sampled parent span. */
function inParent<T>(h: Harness, fn: () => T): T {
  return withSpan(h.tracer.startSpan('parent', { kind: SpanKind.SERVER }), fn);
}

describe('http.request / http.get call signatures', () => {
  const signatures: [string, (base: string) => http.ClientRequest][] = [
    ['http.request(string)', (base) => http.request(`${base}/a?q=1`)],
    ['http.request(URL, options)', (base) => http.request(new URL(`${base}/a?q=1`), { method: 'GET' })],
    [
      'http.request(string, options, cb)',
      (base) => http.request(`${base}/a?q=1`, { headers: { 'x-a': '1' } }, () => {}),
    ],
    ['http.request(string, cb)', (base) => http.request(`${base}/a?q=1`, () => {})],
    [
      'http.request(options, cb)',
      (base) => {
        const url = new URL(base);
        return http.request({ hostname: url.hostname, port: url.port, path: '/a?q=1' }, () => {});
      },
    ],
    ['http.get(string)', (base) => http.get(`${base}/a?q=1`)],
    ['http.get(string, options, cb)', (base) => http.get(`${base}/a?q=1`, {}, () => {})],
    [
      'http.get(options)',
      (base) => http.get({ host: '127.0.0.1', port: new URL(base).port, path: '/a?q=1' }),
    ],
  ];

  it.each(signatures)('%s carries the client span traceparent', async (_name, send) => {
    const h = setup();
    const req = inParent(h, () => send(plain.url));
    if (!req.writableEnded) req.end();
    await consume(req);
    await waitForSpans(h.spans, 1);

    expect(plain.received).toHaveLength(1);
    const received = parseTraceparent(plain.received[0]!.headers.traceparent);
    const [client] = h.spans;
    expect(client?.kind).toBe(SpanKind.CLIENT);
    expect(received.traceId).toBe(client?.spanContext().traceId);
    expect(received.spanId).toBe(client?.spanContext().spanId);
    expect(received.sampled).toBe(true);
    expect(client?.attributes).toMatchObject({
      'http.request.method': 'GET',
      'url.full': `${plain.url}/a?q=1`,
      'server.address': '127.0.0.1',
      'server.port': plain.port,
      'http.response.status_code': 200,
    });
  });

  it('keeps the caller options object and headers unmodified', async () => {
    const h = setup();
    const headers = { 'x-a': '1' };
    const options = { host: '127.0.0.1', port: plain.port, path: '/', headers };
    await inParent(h, () => consume(http.get(options)));
    expect(headers).toEqual({ 'x-a': '1' });
    expect(Object.keys(options)).toEqual(['host', 'port', 'path', 'headers']);
    expect(plain.received[0]?.headers['x-a']).toBe('1');
    expect(plain.received[0]?.headers.traceparent).toBeDefined();
  });

  it('sends a call given a URL-shaped object that is no URL instance where it points, as Node does', async () => {
    const h = setup();
    const real = new URL(`${plain.url}/shaped?q=1`);
    // A URL class of another realm or written in JavaScript (whatwg-url): getters on its prototype.
    class ShapedUrl {}
    const fields = [
      'href',
      'protocol',
      'hostname',
      'host',
      'port',
      'pathname',
      'search',
      'hash',
      'origin',
      'username',
      'password',
    ] as const;
    for (const field of fields) {
      Object.defineProperty(ShapedUrl.prototype, field, { get: () => real[field] });
    }
    const { status } = await inParent(h, () => consume(http.get(new ShapedUrl() as unknown as URL)));
    expect(status).toBe(200);
    expect(plain.received[0]?.url).toBe('/shaped?q=1');
    expect(plain.received[0]?.headers.traceparent).toBeDefined();
  });

  it("sends only the options' own headers, as Node does, and the trace headers with them", async () => {
    const h = setup();
    const options = Object.create({ headers: { authorization: 'inherited' } }) as http.RequestOptions;
    Object.assign(options, { host: '127.0.0.1', port: plain.port, path: '/' });
    await inParent(h, () => consume(http.get(options)));
    expect(plain.received[0]?.headers.authorization).toBeUndefined();
    expect(plain.received[0]?.headers.traceparent).toBeDefined();
  });

  it("lets a spy put on ClientRequest's setHeader after tracing started see every call", async () => {
    const h = setup();
    const spy = vi.spyOn(http.ClientRequest.prototype, 'setHeader');
    try {
      await inParent(h, () => {
        const req = http.request(plain.url);
        req.setHeader('x-late', '1');
        return consume(req.end());
      });
      expect(spy.mock.calls.map(([name]) => name)).toContain('x-late');
      expect(plain.received[0]?.headers['x-late']).toBe('1');
    } finally {
      spy.mockRestore();
    }
  });

  it("throws Node's own error for a trace header set after the headers went, as without tracing", async () => {
    const h = setup();
    const parent = h.tracer.startSpan('parent');
    const { traceId, spanId } = parent.spanContext();
    await withSpan(parent, async () => {
      const req = http.request(plain.url);
      req.flushHeaders();
      expect(() => req.setHeader('traceparent', `00-${traceId}-${spanId}-01`)).toThrow(
        expect.objectContaining({ code: 'ERR_HTTP_HEADERS_SENT' }),
      );
      await consume(req.end());
    });
  });

  it('injects into raw array headers, or records the call with them untouched where only the channel is used', async () => {
    const h = setup();
    const req = inParent(h, () =>
      http.request({
        host: '127.0.0.1',
        port: plain.port,
        path: '/raw',
        headers: ['Host', `127.0.0.1:${plain.port}`, 'X-Raw', 'yes'],
      }),
    );
    req.end();
    await consume(req);
    await waitForSpans(h.spans, 1);
    expect(plain.received[0]?.headers['x-raw']).toBe('yes');
    expect(h.spans.map((s) => s.attributes['http.response.status_code'])).toEqual([200]);
    // The ClientRequest constructor seals raw-array headers before the created channel fires.
    if (defaultHttpMode() === 'channel') expect(plain.received[0]?.headers.traceparent).toBeUndefined();
    else expect(plain.received[0]?.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it('sends the active baggage along', async () => {
    const h = setup();
    const parent = h.tracer.startSpan('parent');
    const baggage = Baggage.empty().set('tenant', 'acme');
    await runInContext({ span: parent, baggage, suppressed: false }, () => consume(http.get(plain.url)));
    expect(plain.received[0]?.headers.baggage).toBe('tenant=acme');
  });
});

describe('https', () => {
  it.each([
    ['https.request', () => https.request(`${secure.url}/s`, { ca: tls.cert })],
    ['https.get', () => https.get(`${secure.url}/s`, { ca: tls.cert })],
  ])('%s carries the traceparent and records one client span', async (_name, send) => {
    const h = setup();
    const req = inParent(h, send);
    if (!req.writableEnded) req.end();
    await consume(req);
    await waitForSpans(h.spans, 1);
    await new Promise((r) => setTimeout(r, 20));

    expect(h.spans).toHaveLength(1);
    expect(parseTraceparent(secure.received[0]?.headers.traceparent).spanId).toBe(
      h.spans[0]?.spanContext().spanId,
    );
    expect(h.spans[0]?.attributes['url.full']).toBe(`${secure.url}/s`);
  });
});

describe('what is traced', () => {
  it('sends nothing and records nothing for a call with no active span', async () => {
    const h = setup();
    await consume(http.get(plain.url));
    await new Promise((r) => setTimeout(r, 20));
    expect(plain.received[0]?.headers.traceparent).toBeUndefined();
    expect(h.spans).toHaveLength(0);
  });

  it('treats an active span with no valid context (from a replaced tracer) as no active span', async () => {
    const h = setup();
    // A tracer that configure() replaced is shut down; spans a library still starts on it have the invalid context.
    const replaced = new Tracer();
    await replaced.shutdown();
    await replaced.startActiveSpan('job', async (job) => {
      await consume(http.get(plain.url));
      job.end();
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(plain.received[0]?.headers.traceparent).toBeUndefined();
    expect(h.spans).toHaveLength(0);
  });

  it('traces a call with no active span as a root when traceRootCalls is set', async () => {
    const h = setup({ traceRootCalls: true });
    await consume(http.get(plain.url));
    await waitForSpans(h.spans, 1);
    expect(h.spans).toHaveLength(1);
    expect(h.spans[0]?.parentSpanId).toBeUndefined();
    expect(parseTraceparent(plain.received[0]?.headers.traceparent).spanId).toBe(
      h.spans[0]?.spanContext().spanId,
    );
  });

  it('propagates sampled=0 and records nothing when the active trace is unsampled', async () => {
    const neverSample = { shouldSample: () => false, toString: () => 'never' };
    const h = setup({}, neverSample);
    const parent = h.tracer.startSpan('unsampled parent');
    expect(parent.isRecording()).toBe(false);
    await withSpan(parent, () => consume(http.get(plain.url)));
    await new Promise((r) => setTimeout(r, 20));

    const received = parseTraceparent(plain.received[0]?.headers.traceparent);
    expect(received.traceId).toBe(parent.spanContext().traceId);
    expect(received.spanId).not.toBe(parent.spanContext().spanId);
    expect(received.sampled).toBe(false);
    expect(h.spans).toHaveLength(0);
  });

  it('leaves calls made under suppressTracing (the exporters) untouched', async () => {
    const h = setup({ traceRootCalls: true });
    await inParent(h, () => suppressTracing(() => consume(http.get(plain.url))));
    await new Promise((r) => setTimeout(r, 20));
    expect(plain.received[0]?.headers.traceparent).toBeUndefined();
    expect(h.spans).toHaveLength(0);
  });

  it('never overwrites a traceparent of another trace the caller set, in any case, and records no span', async () => {
    const h = setup();
    const mine = `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`;
    await inParent(h, () => consume(http.get(plain.url, { headers: { TraceParent: mine } })));
    await new Promise((r) => setTimeout(r, 20));
    expect(plain.received[0]?.headers.traceparent).toBe(mine);
    expect(h.spans).toHaveLength(0);
  });

  // A proxy (http-proxy-middleware, express-http-proxy) copies the incoming request's headers onto its upstream call.
  it.each([
    ['an object, any case', (tp: string) => ({ TraceParent: tp, TraceState: 'in=1', accept: 'x' })],
    [
      'raw array headers',
      (tp: string) => [
        'Host',
        `127.0.0.1:${plain.port}`,
        'Traceparent',
        tp,
        'tracestate',
        'in=1',
        'accept',
        'x',
      ],
    ],
  ])(
    'replaces a traceparent of the active trace (forwarded, or set by hand) with its client span: %s',
    async (name, headers) => {
      const h = setup();
      const parent = h.tracer.startSpan('parent', { kind: SpanKind.SERVER });
      const traceId = parent.spanContext().traceId;
      const forwarded = `00-${traceId}-${'3'.repeat(16)}-01`;
      const options = {
        host: '127.0.0.1',
        port: plain.port,
        headers: headers(forwarded) as http.OutgoingHttpHeaders,
      };
      await withSpan(parent, () => consume(http.request(options).end()));
      await waitForSpans(h.spans, 1);
      const client = h.spans[0]!;
      expect(client.parentSpanId).toBe(parent.spanContext().spanId);
      const received = plain.received[0]!.headers;
      expect(received.accept).toBe('x');
      if (name === 'raw array headers' && defaultHttpMode() === 'channel') {
        // Sealed in the constructor, as above: the call is recorded, its headers go out as they were set.
        expect(received.traceparent).toBe(forwarded);
        return;
      }
      expect(received.traceparent).toBe(`00-${traceId}-${client.spanContext().spanId}-01`);
      // The forwarded tracestate went with the forwarded parent; the active span has none to send.
      expect(received.tracestate).toBeUndefined();
    },
  );

  // superagent writes its headers onto the request after http.request returned it, the previous hop's traceparent
  // included on a redirect.
  it('keeps its traceparent when one of the active trace is set on the request afterwards; others go through', async () => {
    const h = setup();
    const parent = h.tracer.startSpan('parent');
    const { traceId, spanId } = parent.spanContext();
    const other = `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`;
    await withSpan(parent, async () => {
      const same = http.request(plain.url);
      same.setHeader('Traceparent', `00-${traceId}-${spanId}-01`);
      same.setHeader('x-kept', 'yes');
      await consume(same.end());
      const another = http.request(plain.url);
      another.setHeader('traceparent', other);
      await consume(another.end());
    });
    await waitForSpans(h.spans, 2);

    expect(parseTraceparent(plain.received[0]?.headers.traceparent).spanId).toBe(
      h.spans[0]?.spanContext().spanId,
    );
    expect(plain.received[0]?.headers['x-kept']).toBe('yes');
    // Set on purpose after the call was made: the caller's word wins, as for any header.
    expect(plain.received[1]?.headers.traceparent).toBe(other);
  });

  it('injects once when one wrapped call runs inside another (get routed through request)', async () => {
    const h = setup();
    const wrappedRequest = http.request;
    const originalGet = http.get;
    // A library that implements get with the public request, as Node itself does not.
    http.get = ((url: string) => {
      const req = wrappedRequest(url);
      req.end();
      return req;
    }) as typeof http.get;
    try {
      const outer = http.request;
      await inParent(h, async () => {
        const req = outer(`${plain.url}/nested`);
        req.end();
        return consume(req);
      });
      await inParent(h, () => consume(http.get(`${plain.url}/via-get`)));
    } finally {
      http.get = originalGet;
    }
    await waitForSpans(h.spans, 2);
    await new Promise((r) => setTimeout(r, 20));
    expect(h.spans).toHaveLength(2);
    for (const received of plain.received) expect(received.headers.traceparent).not.toContain(',');
  });

  it('injects once when two installations wrap on top of each other', async () => {
    const h = setup();
    const second = installHarness(); // replaces the first installation: one live at a time
    try {
      await inParent(second, () => consume(http.get(plain.url)));
      await waitForSpans(second.spans, 1);
      expect(plain.received[0]?.headers.traceparent).not.toContain(',');
      expect(second.spans).toHaveLength(1);
      expect(h.spans).toHaveLength(0);
    } finally {
      second.uninstall();
    }
  });
});

describe('destination rules', () => {
  it('keeps headers off hosts in doNotPropagateTo but still records the call', async () => {
    const h = setup({ doNotPropagateTo: ['127.0.0.1'] });
    await inParent(h, () => consume(http.get(plain.url)));
    await waitForSpans(h.spans, 1);
    expect(plain.received[0]?.headers.traceparent).toBeUndefined();
    expect(plain.received[0]?.headers.baggage).toBeUndefined();
    expect(h.spans).toHaveLength(1);
  });

  it('sends no trace headers to an excluded host even when the active trace is set on the request afterwards', async () => {
    const h = setup({ doNotPropagateTo: ['127.0.0.1'] });
    await inParent(h, async () => {
      const { traceId, spanId } = h.tracer.startSpan('caller').spanContext();
      // superagent's .set(), or a forwarded header set by hand after http.request returned.
      const request = http.request(plain.url);
      request.setHeader('traceparent', `00-${traceId}-${spanId}-01`);
      request.setHeader('x-kept', 'yes');
      await consume(request.end());
    });
    await waitForSpans(h.spans, 1);
    // Before: the caller's span id reached the excluded host.
    expect(plain.received[0]?.headers.traceparent).toBeUndefined();
    expect(plain.received[0]?.headers['x-kept']).toBe('yes');
  });

  it('judges and records the host Node connects to for (url, { host }): the URL’s hostname wins', async () => {
    const h = setup({ doNotPropagateTo: ['127.0.0.1'] });
    // Node merges the options over the URL's fields and connects to `hostname || host`: 127.0.0.1 here.
    await inParent(h, () =>
      consume(http.get(`${plain.url}/merged`, { host: 'api.partner.example' } as http.RequestOptions)),
    );
    await waitForSpans(h.spans, 1);
    expect(plain.received[0]?.headers.traceparent).toBeUndefined();
    expect(h.spans[0]?.attributes['server.address']).toBe('127.0.0.1');
    expect(h.spans[0]?.attributes['url.full']).toBe(`${plain.url}/merged`);
  });

  it('sends headers only to propagateTo destinations', async () => {
    const h = setup({ propagateTo: [`127.0.0.1:${secure.port}`] });
    await inParent(h, () => consume(http.get(plain.url)));
    await inParent(h, () => consume(https.get(secure.url, { ca: tls.cert })));
    expect(plain.received[0]?.headers.traceparent).toBeUndefined();
    expect(secure.received[0]?.headers.traceparent).toBeDefined();
  });

  it('matches URL prefixes and RegExps', async () => {
    const h = setup({ doNotPropagateTo: [`${plain.url}/private/`, /\/secret$/] });
    await inParent(h, () => consume(http.get(`${plain.url}/private/x`)));
    await inParent(h, () => consume(http.get(`${plain.url}/api/secret`)));
    await inParent(h, () => consume(http.get(`${plain.url}/public`)));
    expect(plain.received.map((r) => r.headers.traceparent !== undefined)).toEqual([false, false, true]);
  });

  it('judges and records the port the call connects to, not the one in a Host header the caller set', async () => {
    const h = setup({ doNotPropagateTo: [`127.0.0.1:${plain.port}`] });
    const calls: [string, http.RequestOptions][] = [
      ['/vhost', { headers: { Host: 'api.example.com' } }],
      ['/vhost-port', { headers: { Host: 'api.example.com:9999' } }],
    ];
    for (const [path, options] of calls) {
      await inParent(h, () => consume(http.get(`${plain.url}${path}`, options)));
    }
    await waitForSpans(h.spans, 2);
    expect(plain.received.map((r) => r.headers.traceparent)).toEqual([undefined, undefined]);
    expect(h.spans.map((s) => [s.attributes['url.full'], s.attributes['server.port']])).toEqual([
      [`${plain.url}/vhost`, plain.port],
      [`${plain.url}/vhost-port`, plain.port],
    ]);
  });

  it("takes a call without a port to its agent's defaultPort, as Node does", async () => {
    const h = setup({ doNotPropagateTo: [`127.0.0.1:${plain.port}`] });
    // A runtime property of every Agent, missing from Node's type definitions.
    const agent = Object.assign(new http.Agent(), { defaultPort: plain.port });
    await inParent(h, () => consume(http.get({ hostname: '127.0.0.1', path: '/agent-port', agent })));
    agent.destroy();
    await waitForSpans(h.spans, 1);
    expect(plain.received[0]?.headers.traceparent).toBeUndefined();
    expect(h.spans[0]?.attributes['url.full']).toBe(`${plain.url}/agent-port`);
    expect(h.spans[0]?.attributes['server.port']).toBe(plain.port);
  });
});

describe('client span', () => {
  it('records the address the connection reached as network.peer.*, and the HTTP version, on a new and on a kept-alive socket', async () => {
    const h = setup();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (const _ of [1, 2]) await inParent(h, () => consume(http.get(`${plain.url}/peer`, { agent })));
      await waitForSpans(h.spans, 2);
    } finally {
      agent.destroy();
    }
    for (const span of h.spans) {
      expect(span.attributes).toMatchObject({
        'server.address': '127.0.0.1',
        'network.peer.address': '127.0.0.1',
        'network.peer.port': plain.port,
        'network.protocol.version': '1.1',
      });
    }
  });

  it('records status ERROR with error.type for 4xx/5xx answers', async () => {
    const h = setup();
    await inParent(h, () => consume(http.get(`${plain.url}/status/503`)));
    await waitForSpans(h.spans, 1);
    expect(h.spans[0]?.status.code).toBe(SpanStatusCode.ERROR);
    expect(h.spans[0]?.attributes['error.type']).toBe('503');
    expect(h.spans[0]?.attributes['http.response.status_code']).toBe(503);
  });

  it('records a network failure once, without changing the error the app sees', async () => {
    const h = setup();
    const closed = await startDownstream();
    await closed.close();
    const error = await inParent(h, () =>
      consume(http.get(closed.url)).catch((e: NodeJS.ErrnoException) => e),
    );
    await waitForSpans(h.spans, 1);
    await new Promise((r) => setTimeout(r, 20));
    expect((error as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    expect(h.spans).toHaveLength(1);
    expect(h.spans[0]?.status.code).toBe(SpanStatusCode.ERROR);
    expect(h.spans[0]?.attributes['error.type']).toBe('ECONNREFUSED');
    const exception = h.spans[0]?.events.find((e) => e.name === 'exception');
    expect(exception?.attributes?.['exception.type']).toBe('ECONNREFUSED');
  });

  it('ends the span exactly once when the caller aborts', async () => {
    const h = setup();
    const controller = new AbortController();
    const req = inParent(h, () => http.get(`${plain.url}/slow`, { signal: controller.signal }));
    const failed = new Promise((resolve) => req.on('error', resolve));
    controller.abort();
    await failed;
    await waitForSpans(h.spans, 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(h.spans).toHaveLength(1);
    // Semconv HTTP "Status": the caller's own cancellation is no error.
    expect(h.spans[0]?.status.code).toBe(SpanStatusCode.UNSET);
    expect(h.spans[0]?.attributes['error.type']).toBeUndefined();
    expect(h.spans[0]?.events).toEqual([]);
  });

  it('ends a call whose AbortSignal.timeout() ran out as an error: a time limit is no cancellation', async () => {
    const h = setup();
    const silent = http.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(silent.address() as import('node:net').AddressInfo).port}/`;
    try {
      const timedOut = inParent(h, () => http.get(url, { signal: AbortSignal.timeout(30) }));
      await new Promise((resolve) => timedOut.on('error', resolve));
      await waitForSpans(h.spans, 1);
    } finally {
      silent.closeAllConnections();
      silent.close();
    }

    expect(h.spans[0]?.status.code).toBe(SpanStatusCode.ERROR);
    // Node reports it as an ABORT_ERR caused by the TimeoutError: named as fetch names the same failure.
    expect(h.spans[0]?.attributes['error.type']).toBe('TimeoutError');
  });

  it('records an upgrade (WebSocket) and a CONNECT tunnel as the answers they are, not as aborted calls', async () => {
    const tunnels = http.createServer();
    const answer = (status: string) => (_req: http.IncomingMessage, socket: import('node:stream').Duplex) => {
      socket.end(
        `HTTP/1.1 ${status}\r\n${status.startsWith('101') ? 'Upgrade: websocket\r\nConnection: Upgrade\r\n' : ''}\r\n`,
      );
    };
    tunnels.on('upgrade', answer('101 Switching Protocols'));
    tunnels.on('connect', answer('200 Connection Established'));
    await new Promise<void>((resolve) => tunnels.listen(0, '127.0.0.1', resolve));
    const port = (tunnels.address() as import('node:net').AddressInfo).port;
    try {
      const h = setup();
      const handOver = (req: http.ClientRequest, event: 'upgrade' | 'connect') =>
        new Promise<number | undefined>((resolve, reject) => {
          req.on(event, (res: http.IncomingMessage, socket: import('node:stream').Duplex) => {
            socket.destroy();
            resolve(res.statusCode);
          });
          req.on('error', reject);
          req.end();
        });
      const upgraded = await inParent(h, () =>
        handOver(
          http.request({ host: '127.0.0.1', port, headers: { connection: 'Upgrade', upgrade: 'websocket' } }),
          'upgrade',
        ),
      );
      const tunnelled = await inParent(h, () =>
        handOver(
          http.request({ host: '127.0.0.1', port, method: 'CONNECT', path: 'example.test:443' }),
          'connect',
        ),
      );
      await waitForSpans(h.spans, 2);

      expect([upgraded, tunnelled]).toEqual([101, 200]);
      const byMethod = Object.fromEntries(h.spans.map((span) => [span.name, span]));
      expect(byMethod['GET']?.attributes['http.response.status_code']).toBe(101);
      expect(byMethod['CONNECT']?.attributes['http.response.status_code']).toBe(200);
      for (const span of h.spans) {
        expect(span.status.code).toBe(SpanStatusCode.UNSET);
        expect(span.attributes['error.type']).toBeUndefined();
      }
    } finally {
      tunnels.closeAllConnections();
      await new Promise((resolve) => tunnels.close(resolve));
    }
  });

  it('redacts userinfo and sensitive query values in url.full', async () => {
    const h = setup();
    const url = new URL(`${plain.url}/p?user=ann&access_token=abc&sig=x`);
    url.username = 'ann';
    url.password = 'hunter2';
    await inParent(h, () => consume(http.get(url)));
    await waitForSpans(h.spans, 1);
    expect(h.spans[0]?.attributes['url.full']).toBe(
      `${plain.url}/p?user=ann&access_token=REDACTED&sig=REDACTED`,
    );
    expect(plain.received[0]?.url).toBe('/p?user=ann&access_token=abc&sig=x');
  });

  it('names the span after the method and maps unknown methods to _OTHER', async () => {
    const h = setup();
    const post = inParent(h, () => http.request(plain.url, { method: 'post' }));
    post.end('body');
    await consume(post);
    const odd = inParent(h, () => http.request(plain.url, { method: 'PURGE' }));
    odd.end();
    await consume(odd);
    await waitForSpans(h.spans, 2);
    expect(h.spans.map((s) => s.name)).toEqual(['POST', 'HTTP']);
    // Node upper-cases the method it sends, so `post` went out as POST: nothing original to keep.
    expect(h.spans[0]?.attributes['http.request.method_original']).toBeUndefined();
    expect(h.spans[1]?.attributes).toMatchObject({
      'http.request.method': '_OTHER',
      'http.request.method_original': 'PURGE',
    });
  });
});

/** Sends one request with `method` inside a parent span and returns its client span. */
async function clientSpanOf(h: Harness, method: string): Promise<ReadableSpan | undefined> {
  const call = inParent(h, () => http.request(plain.url, { method }));
  call.end();
  await consume(call).catch(() => undefined);
  await waitForSpans(h.spans, 1);
  return h.spans[0];
}

describe('methods', () => {
  it('reports a method outside the semantic conventions list (PROPFIND) as _OTHER, as the server span does', async () => {
    const span = await clientSpanOf(setup(), 'PROPFIND');
    expect(span?.name).toBe('HTTP');
    expect(span?.attributes).toMatchObject({
      'http.request.method': '_OTHER',
      'http.request.method_original': 'PROPFIND',
    });
  });

  it('knows QUERY (RFC 10008), as the server span does', async () => {
    const span = await clientSpanOf(setup(), 'QUERY');
    expect(span?.name).toBe('QUERY');
    expect(span?.attributes['http.request.method']).toBe('QUERY');
    expect(span?.attributes['http.request.method_original']).toBeUndefined();
  });
});

describe('known methods', () => {
  it('follow OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS, read when outgoing calls are instrumented', async () => {
    vi.stubEnv('OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS', 'GET,PROPFIND');
    let h: Harness;
    try {
      h = setup();
    } finally {
      vi.unstubAllEnvs();
    }
    const span = await clientSpanOf(h, 'PROPFIND');
    expect(span?.name).toBe('PROPFIND');
    expect(span?.attributes['http.request.method']).toBe('PROPFIND');
    expect(span?.attributes['http.request.method_original']).toBeUndefined();
  });
});

describe('robustness', () => {
  it('counts a failing propagator in instrumentationErrors, still sends the request and ends its span', async () => {
    const spans: ReadableSpan[] = [];
    const tracer = new Tracer({
      propagator: {
        name: 'broken',
        fields: ['traceparent'],
        inject: () => {
          throw new Error('boom');
        },
        extract: () => ({}),
      },
      processors: [
        { onEnd: (s) => void spans.push(s), forceFlush: async () => {}, shutdown: async () => {} },
      ],
    });
    const uninstall = installOutgoing(tracer);
    try {
      const res = await withSpan(tracer.startSpan('parent'), () => consume(http.get(plain.url)));
      expect(res.status).toBe(200);
      expect(tracer.stats.instrumentationErrors).toBe(1);
      await waitForSpans(spans, 1);
      expect(spans.map((s) => s.kind)).toEqual([SpanKind.CLIENT]);
    } finally {
      uninstall();
    }
  });

  it('lets Node throw its own error for invalid arguments', () => {
    const h = setup();
    expect(() => inParent(h, () => http.request('not a url'))).toThrow(TypeError);
  });

  // Where the created channel tells the port (Node 24.21), nothing is wrapped (tested below); elsewhere request/get are.
  it.runIf(defaultHttpMode() !== 'channel')('restores the original functions on uninstall', () => {
    const uninstall = installOutgoing(new Tracer());
    expect(http.request).not.toBe(originals.httpRequest);
    expect(https.get).not.toBe(originals.httpsGet);
    // The ES module named export is a separate binding; syncBuiltinESMExports() keeps it in step.
    expect(namedRequest).toBe(http.request);
    uninstall();
    uninstall();
    expect(namedRequest).toBe(originals.httpRequest);
    expect(http.request).toBe(originals.httpRequest);
    expect(http.get).toBe(originals.httpGet);
    expect(https.request).toBe(originals.httpsRequest);
    expect(https.get).toBe(originals.httpsGet);
  });

  it('is installed by configure(), left out with instrumentOutgoing: false, and undone by shutdown', async () => {
    const quiet: TracewireOptions = { processors: [], exporters: 'none', shutdownOnSignals: false };
    const traceparentSent = async (tracer: Tracer): Promise<unknown> => {
      await withSpan(tracer.startSpan('parent'), () => consume(http.get(`${plain.url}/configured`)));
      return plain.received.at(-1)?.headers.traceparent;
    };
    const off = configure({ ...quiet, instrumentOutgoing: false });
    expect(await traceparentSent(off)).toBeUndefined();
    const on = configure({ ...quiet, instrumentOutgoing: { doNotPropagateTo: ['example.com'] } });
    expect(await traceparentSent(on)).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    await on.shutdown();
    await off.shutdown();
    expect(await traceparentSent(on)).toBeUndefined();
    expect(http.request).toBe(originals.httpRequest);
    expect(https.get).toBe(originals.httpsGet);
  });

  it('rejects invalid options naming the option', () => {
    expect(() => installOutgoing(new Tracer(), { redactQuery: 'some' as 'all' })).toThrow(/redactQuery/);
    expect(() => installOutgoing(new Tracer(), { doNotPropagateTo: 'x' as unknown as string[] })).toThrow(
      /doNotPropagateTo/,
    );
    expect(() => installOutgoing(new Tracer(), { traceRootCalls: 1 as unknown as boolean })).toThrow(
      /traceRootCalls/,
    );
    expect(http.request).toBe(originals.httpRequest);
  });
});

describe("Node's http.client.request.created channel (22.12+/23.2+)", () => {
  it('is chosen by version', () => {
    expect(nodeHasCreatedChannel('20.20.2')).toBe(false);
    expect(nodeHasCreatedChannel('22.11.0')).toBe(false);
    expect(nodeHasCreatedChannel('22.12.0')).toBe(true);
    expect(nodeHasCreatedChannel('23.1.0')).toBe(false);
    expect(nodeHasCreatedChannel('23.2.0')).toBe(true);
    expect(nodeHasCreatedChannel('24.0.0')).toBe(true);
  });

  it('is used alone only where Node keeps the authority a request connects to', async () => {
    expect(clientRequestStoresAuthority('{ this[kAuthority] = hostHeaderFromOptions; }')).toBe(true);
    expect(clientRequestStoresAuthority('{ this.host = host; }')).toBe(false);
    // What this Node really does: the source check must agree with the symbol found on a live request.
    const req = http.request(`${plain.url}/authority`);
    const symbol = Object.getOwnPropertySymbols(req).find((s) => s.description === 'kAuthority');
    const authority = symbol === undefined ? undefined : (req as unknown as Record<symbol, unknown>)[symbol];
    req.end();
    await consume(req);
    expect({ node: process.version, authority }).toEqual({
      node: process.version,
      authority: clientRequestStoresAuthority() ? `127.0.0.1:${plain.port}` : undefined,
    });
    expect(defaultHttpMode()).toBe(
      !nodeHasCreatedChannel() ? 'wrap' : clientRequestStoresAuthority() ? 'channel' : 'both',
    );
  });

  it('injects into a request announced on the channel without wrapping anything', async () => {
    const spans: unknown[] = [];
    const tracer = new Tracer({
      processors: [
        { onEnd: (s) => void spans.push(s), forceFlush: async () => {}, shutdown: async () => {} },
      ],
    });
    const uninstall = installHttp(createOutgoingState(tracer, resolveOutgoingOptions()), 'channel');
    try {
      expect(http.request).toBe(originals.httpRequest);
      const parent = tracer.startSpan('parent');
      // Node 20 does not publish this channel; publish what Node 22.12+ publishes from the constructor.
      const req = withSpan(parent, () => {
        const created = http.request(`${plain.url}/created`);
        diagnosticsChannel.channel('http.client.request.created').publish({ request: created });
        return created;
      });
      req.end();
      await consume(req);
      await waitForSpans(spans as never[], 1);
      const received = parseTraceparent(plain.received[0]?.headers.traceparent);
      expect(received.traceId).toBe(parent.spanContext().traceId);
      expect(spans).toHaveLength(1);
    } finally {
      uninstall();
    }
  });

  it("with 'both', judges request/get calls by their options and traces a ClientRequest made directly", async () => {
    const spans: ReadableSpan[] = [];
    const tracer = new Tracer({
      processors: [
        { onEnd: (s) => void spans.push(s), forceFlush: async () => {}, shutdown: async () => {} },
      ],
    });
    const options = resolveOutgoingOptions({ doNotPropagateTo: [`${plain.url}/vhost`] });
    const uninstall = installHttp(createOutgoingState(tracer, options), 'both');
    try {
      const parent = tracer.startSpan('parent');
      // On Node 22.12+ the channel sees this call too; judged from there, it would go to port 80 and propagate.
      const vhost = { headers: { Host: 'api.example.com' } };
      await withSpan(parent, () => consume(http.get(`${plain.url}/vhost`, vhost)));
      const direct = withSpan(parent, () => {
        const created = new http.ClientRequest(`${plain.url}/direct`);
        // Node 20 does not publish this channel; on 22.12+ Node already did, and a second announcement is ignored.
        diagnosticsChannel.channel('http.client.request.created').publish({ request: created });
        return created;
      });
      direct.end();
      await consume(direct);
      await waitForSpans(spans, 2);
      expect(plain.received.map((r) => [r.url, r.headers.traceparent !== undefined])).toEqual([
        ['/vhost', false],
        ['/direct', true],
      ]);
      expect(parseTraceparent(plain.received[1]?.headers.traceparent).traceId).toBe(
        parent.spanContext().traceId,
      );
      expect(spans.map((s) => [s.attributes['url.full'], s.attributes['server.port']])).toEqual([
        [`${plain.url}/vhost`, plain.port],
        [`${plain.url}/direct`, plain.port],
      ]);
    } finally {
      uninstall();
    }
    expect(http.request).toBe(originals.httpRequest);
  });
});
