import http, { createServer } from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Baggage } from '@tracewire/core';
import * as undici from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { getActiveSpan, runInContext, suppressTracing, withSpan } from '../src/context.js';
import { SpanKind, SpanStatusCode } from '../src/span-data.js';
import {
  type Downstream,
  type Harness,
  installHarness,
  parseTraceparent,
  startDownstream,
  tls,
  waitForSpans,
} from './outgoing-harness.js';

let downstream: Downstream;
let harness: Harness | undefined;

beforeAll(async () => {
  downstream = await startDownstream();
});
afterAll(async () => {
  await downstream.close();
});
afterEach(() => {
  harness?.uninstall();
  harness = undefined;
  downstream.received.length = 0;
});

function setup(...args: Parameters<typeof installHarness>): Harness {
  harness = installHarness(...args);
  return harness;
}

function inParent<T>(h: Harness, fn: () => T): T {
  return withSpan(h.tracer.startSpan('parent', { kind: SpanKind.SERVER }), fn);
}

const clients: [string, (url: string, headers?: Record<string, string>) => Promise<number>][] = [
  [
    'global fetch',
    async (url, headers) => {
      const res = await fetch(url, { headers });
      await res.text();
      return res.status;
    },
  ],
  [
    'undici.fetch',
    async (url, headers) => {
      const res = await undici.fetch(url, { headers });
      await res.text();
      return res.status;
    },
  ],
  [
    'undici.request',
    async (url, headers) => {
      const res = await undici.request(url, { headers });
      await res.body.text();
      return res.statusCode;
    },
  ],
];

describe.each(clients)('%s', (_name, send) => {
  it('carries the traceparent of its client span', async () => {
    const h = setup();
    const parent = h.tracer.startSpan('parent', { kind: SpanKind.SERVER });
    await withSpan(parent, () => send(`${downstream.url}/f?token=abc&x=1`));
    await waitForSpans(h.spans, 1);

    const client = h.spans[0]!;
    const received = parseTraceparent(downstream.received[0]?.headers.traceparent);
    expect(received.traceId).toBe(parent.spanContext().traceId);
    expect(received.spanId).toBe(client.spanContext().spanId);
    expect(client.parentSpanId).toBe(parent.spanContext().spanId);
    expect(client.name).toBe('GET');
    expect(client.kind).toBe(SpanKind.CLIENT);
    expect(client.attributes).toMatchObject({
      'http.request.method': 'GET',
      'url.full': `${downstream.url}/f?token=REDACTED&x=1`,
      'server.address': '127.0.0.1',
      'server.port': downstream.port,
      'http.response.status_code': 200,
      'network.peer.address': '127.0.0.1',
      'network.peer.port': downstream.port,
      'network.protocol.version': '1.1',
    });
    expect(client.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('replaces a traceparent and tracestate of the active trace (a proxy forwarding them) with its client span', async () => {
    const h = setup();
    const parent = h.tracer.startSpan('parent', { kind: SpanKind.SERVER });
    const traceId = parent.spanContext().traceId;
    await withSpan(parent, () =>
      send(downstream.url, {
        TraceParent: `00-${traceId}-${'3'.repeat(16)}-01`,
        tracestate: 'in=1',
        'x-kept': 'y',
      }),
    );
    await waitForSpans(h.spans, 1);
    const client = h.spans[0]!;
    expect(client.parentSpanId).toBe(parent.spanContext().spanId);
    const received = downstream.received[0]!.headers;
    expect(received.traceparent).toBe(`00-${traceId}-${client.spanContext().spanId}-01`);
    expect(received.tracestate).toBeUndefined();
    expect(received['x-kept']).toBe('y');
  });

  it('sends no forwarded trace headers of the active trace to a destination excluded from propagation', async () => {
    const h = setup({ doNotPropagateTo: ['127.0.0.1'] });
    const parent = h.tracer.startSpan('parent', { kind: SpanKind.SERVER });
    const forwarded = `00-${parent.spanContext().traceId}-${'3'.repeat(16)}-01`;
    await withSpan(parent, () => send(downstream.url, { traceparent: forwarded }));
    await waitForSpans(h.spans, 1);
    expect(downstream.received[0]?.headers.traceparent).toBeUndefined();
  });

  it('leaves a traceparent of another trace the caller set alone and records nothing', async () => {
    const h = setup();
    const mine = `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`;
    await inParent(h, () => send(downstream.url, { TraceParent: mine }));
    await new Promise((r) => setTimeout(r, 20));
    expect(downstream.received[0]?.headers.traceparent).toBe(mine);
    expect(h.spans).toHaveLength(0);
  });

  it('keeps baggage the caller set by hand, instead of adding the active baggage to it', async () => {
    const h = setup();
    const parent = h.tracer.startSpan('parent', { kind: SpanKind.SERVER });
    const baggage = Baggage.empty().set('tenant', 'acme');
    await runInContext({ span: parent, baggage, suppressed: false }, () =>
      send(downstream.url, { Baggage: 'user=1' }),
    );
    expect(downstream.received[0]?.headers.baggage).toBe('user=1');
    expect(downstream.received[0]?.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it('sends the active baggage when the caller set none', async () => {
    const h = setup();
    const parent = h.tracer.startSpan('parent', { kind: SpanKind.SERVER });
    const baggage = Baggage.empty().set('tenant', 'acme');
    await runInContext({ span: parent, baggage, suppressed: false }, () =>
      send(downstream.url, { 'X-Other': 'yes' }),
    );
    expect(downstream.received[0]?.headers.baggage).toBe('tenant=acme');
  });

  it('sends nothing with no active span, or under suppressTracing', async () => {
    const h = setup();
    await send(downstream.url);
    await inParent(h, () => suppressTracing(() => send(downstream.url)));
    await new Promise((r) => setTimeout(r, 20));
    expect(downstream.received.map((r) => r.headers.traceparent)).toEqual([undefined, undefined]);
    expect(h.spans).toHaveLength(0);
  });

  it('marks a 4xx answer as an error', async () => {
    const h = setup();
    await inParent(h, () => send(`${downstream.url}/status/404`));
    await waitForSpans(h.spans, 1);
    expect(h.spans[0]?.status.code).toBe(SpanStatusCode.ERROR);
    expect(h.spans[0]?.attributes['error.type']).toBe('404');
  });

  it('respects doNotPropagateTo', async () => {
    const h = setup({ doNotPropagateTo: [`127.0.0.1:${downstream.port}`] });
    await inParent(h, () => send(downstream.url));
    await waitForSpans(h.spans, 1);
    expect(downstream.received[0]?.headers.traceparent).toBeUndefined();
    expect(h.spans).toHaveLength(1);
  });
});

describe('undici over HTTP/2', () => {
  async function h2Server(received: (string | undefined)[]) {
    const server = http2.createSecureServer(tls, (req, res) => {
      received.push(req.headers.traceparent as string | undefined);
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { server, origin: `https://127.0.0.1:${(server.address() as AddressInfo).port}` };
  }

  it.each([
    ['carrying its headers', {}],
    ['to a destination kept from trace headers', { doNotPropagateTo: ['127.0.0.1'] }],
  ])('records a call undici sends as an HTTP/2 stream (allowH2) once, %s', async (_name, options) => {
    const h = setup(options);
    const received: (string | undefined)[] = [];
    const { server, origin } = await h2Server(received);
    const client = new undici.Client(origin, { allowH2: true, connect: { rejectUnauthorized: false } });
    try {
      const parent = h.tracer.startSpan('parent', { kind: SpanKind.SERVER });
      await withSpan(parent, async () => {
        const { body } = await client.request({ path: '/h2', method: 'GET' });
        await body.text();
      });
      parent.end();
      await client.close();
      await new Promise((r) => setTimeout(r, 20));
      const calls = h.spans.filter((s) => s.kind === SpanKind.CLIENT);
      expect(calls).toHaveLength(1);
      expect(calls[0]?.attributes['network.protocol.version']).toBe('2');
      expect(calls[0]?.status.code).toBe(SpanStatusCode.UNSET);
      if ('doNotPropagateTo' in options) expect(received[0]).toBeUndefined();
      else expect(parseTraceparent(received[0]).spanId).toBe(calls[0]?.spanContext().spanId);
    } finally {
      await client.destroy();
      server.close();
    }
  });
});

describe('fetch methods', () => {
  it("records a method fetch sends as written ('patch') canonically, with the original kept", async () => {
    const h = setup();
    // fetch normalizes only DELETE, GET, HEAD, OPTIONS, POST and PUT; `patch` goes out in lowercase.
    await inParent(h, () => fetch(downstream.url, { method: 'patch' }).then((r) => r.text()));
    await waitForSpans(h.spans, 1);
    expect(h.spans[0]?.name).toBe('PATCH');
    expect(h.spans[0]?.attributes).toMatchObject({
      'http.request.method': 'PATCH',
      'http.request.method_original': 'patch',
    });
  });

  it('records a custom method listed in lowercase in OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS as sent', async () => {
    vi.stubEnv('OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS', 'GET,POST,purge');
    try {
      const h = setup();
      await inParent(h, () => fetch(downstream.url, { method: 'purge' }).then((r) => r.text()));
      await waitForSpans(h.spans, 1);
      // Before: looked up as PURGE, and reported as _OTHER named HTTP.
      expect(h.spans[0]?.name).toBe('purge');
      expect(h.spans[0]?.attributes['http.request.method']).toBe('purge');
      expect(h.spans[0]?.attributes['http.request.method_original']).toBeUndefined();
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('fetch response bodies', () => {
  // Bigger than what undici buffers ahead of the reader, so the body cannot complete unless someone reads it.
  const BODY = Buffer.alloc(4 << 20, 0x78);
  let big: http.Server;
  let bigUrl: string;

  beforeAll(async () => {
    big = http.createServer((_req, res) => res.end(BODY));
    await new Promise<void>((resolve) => big.listen(0, '127.0.0.1', resolve));
    bigUrl = `http://127.0.0.1:${(big.address() as AddressInfo).port}/large`;
  });
  afterAll(async () => {
    big.closeAllConnections();
    await new Promise((resolve) => big.close(resolve));
  });

  it('ends a response dropped unread at its headers, not as an error when it is collected', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const h = setup();
    let answeredBy = 0;
    await inParent(h, async () => {
      const res = await fetch(bigUrl);
      answeredBy = performance.timeOrigin + performance.now();
      expect(res.status).toBe(200);
    });
    for (let i = 0; i < 100 && h.spans.length === 0; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 20));
    }

    expect(h.spans).toHaveLength(1);
    const client = h.spans[0]!;
    expect(client.status.code).toBe(SpanStatusCode.UNSET);
    expect(client.attributes['error.type']).toBeUndefined();
    expect(client.attributes['http.response.status_code']).toBe(200);
    expect(client.events).toHaveLength(0);
    expect(client.endTime).toBeGreaterThan(client.startTime);
    expect(client.endTime).toBeLessThanOrEqual(answeredBy);
  });

  it('ends a response whose body the caller cancels when the caller cancels, as no error', async () => {
    const h = setup();
    await inParent(h, async () => {
      const res = await fetch(bigUrl);
      await res.body?.cancel();
    });
    await waitForSpans(h.spans, 1);

    // Semconv HTTP "Status": a cancellation the caller made on purpose leaves the status unset, without error.type.
    expect(h.spans).toHaveLength(1);
    expect(h.spans[0]?.status.code).toBe(SpanStatusCode.UNSET);
    expect(h.spans[0]?.attributes['error.type']).toBeUndefined();
    expect(h.spans[0]?.events).toEqual([]);
    expect(h.spans[0]?.attributes['http.response.status_code']).toBe(200);
  });

  it('ends a call whose AbortSignal.timeout() ran out as an error: a time limit is no cancellation', async () => {
    const h = setup();
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`;
      const failure = await inParent(h, () =>
        fetch(url, { signal: AbortSignal.timeout(30) }).catch((e: Error) => e),
      );
      await waitForSpans(h.spans, 1);

      expect((failure as Error).name).toBe('TimeoutError');
      expect(h.spans[0]?.status.code).toBe(SpanStatusCode.ERROR);
      expect(h.spans[0]?.attributes['error.type']).toBe('TimeoutError');
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  it('ends a response the caller aborts or cancels with a reason of its own, as no error', async () => {
    const h = setup();
    await inParent(h, async () => {
      const controller = new AbortController();
      const aborted = (await fetch(bigUrl, { signal: controller.signal })).body!.getReader();
      await aborted.read();
      controller.abort('user cancelled');
      await expect(aborted.read()).rejects.toBe('user cancelled');
      const reader = (await fetch(bigUrl)).body!.getReader();
      await reader.read();
      await reader.cancel('enough');
    });
    await waitForSpans(h.spans, 2);

    for (const span of h.spans) {
      expect(span.status.code).toBe(SpanStatusCode.UNSET);
      expect(span.attributes['error.type']).toBeUndefined();
      expect(span.attributes['http.response.status_code']).toBe(200);
    }
  });

  it('covers the whole body when the caller reads it', async () => {
    const h = setup();
    let readBy = 0;
    await inParent(h, async () => {
      const res = await fetch(bigUrl);
      expect((await res.arrayBuffer()).byteLength).toBe(BODY.length);
      readBy = performance.timeOrigin + performance.now();
    });
    await waitForSpans(h.spans, 1);

    expect(h.spans[0]?.status.code).toBe(SpanStatusCode.UNSET);
    expect(h.spans[0]?.endTime).toBeLessThanOrEqual(readBy);
  });
});

describe('fetch failures', () => {
  it('records a refused connection once with status ERROR', async () => {
    const h = setup();
    const closed = await startDownstream();
    await closed.close();
    await expect(inParent(h, () => fetch(closed.url))).rejects.toThrow();
    await waitForSpans(h.spans, 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(h.spans).toHaveLength(1);
    expect(h.spans[0]?.status.code).toBe(SpanStatusCode.ERROR);
    expect(h.spans[0]?.attributes['error.type']).toBeTypeOf('string');
  });

  it('ends the span once when the caller aborts', async () => {
    const h = setup();
    const controller = new AbortController();
    const pending = inParent(h, () => fetch(`${downstream.url}/status/200`, { signal: controller.signal }));
    controller.abort();
    await expect(pending).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 50));
    expect(h.spans.length).toBeLessThanOrEqual(1);
    for (const span of h.spans) expect(span.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('leaves the context of whoever aborts or cancels a call made in another trace as it was', async () => {
    const h = setup();
    // Answers its headers at once and holds the body back: a call to it can be aborted before and after them.
    const slow = createServer((_req, res) => {
      res.write('first part');
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/`;
    try {
      const controller = new AbortController();
      const aborted = inParent(h, () => fetch(url, { signal: controller.signal })).catch(() => undefined);
      const response = await inParent(h, () => fetch(url));
      await new Promise((r) => setTimeout(r, 20));
      // Another request's code gives up both calls, as a cancel endpoint or a shared job runner does.
      const other = h.tracer.startSpan('other request');
      const activeAfter = await withSpan(other, async () => {
        controller.abort();
        const afterAbort = getActiveSpan();
        await response.body?.cancel();
        return [afterAbort, getActiveSpan()];
      });
      await aborted;
      expect(activeAfter).toEqual([other, other]);
    } finally {
      slow.closeAllConnections();
      slow.close();
    }
  });

  it('propagates sampled=0 and records nothing for an unsampled trace', async () => {
    const h = setup({}, { shouldSample: () => false, toString: () => 'never' });
    const parent = h.tracer.startSpan('parent');
    await withSpan(parent, () => fetch(downstream.url).then((r) => r.text()));
    await new Promise((r) => setTimeout(r, 20));
    const received = parseTraceparent(downstream.received[0]?.headers.traceparent);
    expect(received.traceId).toBe(parent.spanContext().traceId);
    expect(received.sampled).toBe(false);
    expect(h.spans).toHaveLength(0);
  });

  it('stops tracing after uninstall', async () => {
    const h = setup();
    h.uninstall();
    await inParent(h, () => fetch(downstream.url).then((r) => r.text()));
    expect(downstream.received[0]?.headers.traceparent).toBeUndefined();
  });
});
