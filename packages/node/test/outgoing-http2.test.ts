import http2, { type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { suppressTracing, withSpan } from '../src/context.js';
import { SpanKind, SpanStatusCode } from '../src/span-data.js';
import { type Harness, installHarness, parseTraceparent, tls, waitForSpans } from './outgoing-harness.js';

// node:http2 client streams: the layer gRPC (`@grpc/grpc-js`) and got's `http2: true` run on. Node gives no hook
// that can still add a header, so sessions' `request` is wrapped (test/outgoing-grpc.test.ts runs the libraries).

interface H2Server {
  readonly url: string;
  readonly port: number;
  readonly received: IncomingHttpHeaders[];
  close(): Promise<void>;
}

/** `/status/<n>` answers that status; `/reset` resets the stream before answering. */
async function startH2Server(secure = false): Promise<H2Server> {
  const received: IncomingHttpHeaders[] = [];
  const server = secure ? http2.createSecureServer(tls) : http2.createServer();
  server.on('stream', (stream, headers) => {
    received.push(headers);
    stream.on('error', () => {});
    const path = String(headers[':path']);
    if (path === '/reset') {
      stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      return;
    }
    if (path === '/pkg.Svc/Denied') {
      // A gRPC error answered before any message: "Trailers-Only", the status in the response headers.
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'grpc-status': '7',
          'grpc-message': 'not%20yours',
        },
        { endStream: true },
      );
      return;
    }
    if (path === '/pkg.Svc/Gateway') {
      stream.respond({ ':status': 502 }, { endStream: true });
      return;
    }
    if (path === '/partial') {
      // Part of a body that never ends: the client cuts it off.
      stream.respond({ ':status': 200 });
      stream.write('part');
      return;
    }
    const status = /^\/status\/(\d{3})/.exec(path);
    stream.respond({ ':status': status ? Number(status[1]) : 200 });
    stream.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const sessions = new Set<http2.Http2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  return {
    url: `${secure ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const session of sessions) session.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Sends one request on `session` and resolves with its status and body once the stream has ended. */
function send(
  session: ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers);
    let status = 0;
    let body = '';
    stream.on('response', (h) => {
      status = Number(h[':status']);
    });
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      body += chunk;
    });
    stream.on('end', () => resolve({ status, body }));
    stream.on('error', reject);
  });
}

let plain: H2Server;
let secure: H2Server;
let harness: Harness | undefined;
const sessions: ClientHttp2Session[] = [];

function connect(url: string): ClientHttp2Session {
  const session = http2.connect(url, { ca: tls.cert });
  session.on('error', () => {});
  sessions.push(session);
  return session;
}

beforeAll(async () => {
  plain = await startH2Server();
  secure = await startH2Server(true);
});
afterAll(async () => {
  await plain.close();
  await secure.close();
});
afterEach(() => {
  harness?.uninstall();
  harness = undefined;
  for (const session of sessions.splice(0)) session.destroy();
  plain.received.length = 0;
  secure.received.length = 0;
});

function setup(...args: Parameters<typeof installHarness>): Harness {
  harness = installHarness(...args);
  return harness;
}

describe('node:http2 client streams', () => {
  it('carry the trace and get a client span under the active one, over h2c and TLS', async () => {
    const { tracer, spans } = setup();
    const parent = tracer.startSpan('parent');
    await withSpan(parent, async () => {
      await send(connect(plain.url), { ':path': '/items/1?q=2' });
      await send(connect(secure.url), { ':path': '/items/2', ':method': 'POST' });
    });
    await waitForSpans(spans, 2);

    const [first, second] = spans;
    expect(first).toMatchObject({
      name: 'GET',
      kind: SpanKind.CLIENT,
      status: { code: SpanStatusCode.UNSET },
    });
    expect(first?.parentSpanId).toBe(parent.spanContext().spanId);
    expect(first?.attributes).toMatchObject({
      'http.request.method': 'GET',
      'url.full': `${plain.url}/items/1?q=2`,
      'server.address': '127.0.0.1',
      'server.port': plain.port,
      'network.protocol.version': '2',
      'http.response.status_code': 200,
      'network.peer.address': '127.0.0.1',
      'network.peer.port': plain.port,
    });
    expect(second?.name).toBe('POST');
    expect(second?.attributes['url.full']).toBe(`${secure.url}/items/2`);
    expect(second?.attributes['network.peer.port']).toBe(secure.port);

    const sent = parseTraceparent(plain.received[0]?.traceparent);
    expect(sent.traceId).toBe(parent.spanContext().traceId);
    expect(sent.spanId).toBe(first?.spanContext().spanId);
    expect(parseTraceparent(secure.received[0]?.traceparent).spanId).toBe(second?.spanContext().spanId);
  });

  it('reach sessions opened before tracing was installed', async () => {
    const session = connect(plain.url);
    await send(session, { ':path': '/warm-up' });
    const { tracer, spans } = setup();
    await withSpan(tracer.startSpan('parent'), () => send(session, { ':path': '/after' }));
    await waitForSpans(spans, 1);
    expect(plain.received[1]?.traceparent).toBeDefined();
    expect(spans.map((s) => s.name)).toEqual(['GET']);
  });

  it('record 4xx/5xx answers and reset streams as errors, and leave the app its own error event', async () => {
    const { tracer, spans } = setup();
    const session = connect(plain.url);
    let appError: unknown;
    await withSpan(tracer.startSpan('parent'), async () => {
      await send(session, { ':path': '/status/503' });
      await send(session, { ':path': '/reset' }).catch((error: unknown) => {
        appError = error;
      });
    });
    await waitForSpans(spans, 2);

    expect(spans[0]?.status.code).toBe(SpanStatusCode.ERROR);
    expect(spans[0]?.attributes['error.type']).toBe('503');
    expect((appError as { code?: string }).code).toBe('ERR_HTTP2_STREAM_ERROR');
    expect(spans[1]?.status.code).toBe(SpanStatusCode.ERROR);
    expect(spans[1]?.attributes['error.type']).toBe('ERR_HTTP2_STREAM_ERROR');
    expect(spans[1]?.events.map((e) => e.name)).toEqual(['exception']);
  });

  it('record a response the client cut off mid-body as aborted, and one never read as complete', async () => {
    const { tracer, spans } = setup();
    const cut = async (how: (stream: http2.ClientHttp2Stream, session: ClientHttp2Session) => void) => {
      const session = connect(plain.url);
      const stream = session.request({ ':path': '/partial' });
      stream.on('error', () => {});
      stream.on('data', () => how(stream, session));
      await new Promise((resolve) => stream.once('close', resolve));
    };
    await withSpan(tracer.startSpan('parent'), async () => {
      await cut((stream) => stream.destroy());
      await cut((stream) => stream.close(http2.constants.NGHTTP2_CANCEL));
      await cut((_stream, session) => session.destroy());
      await send(connect(plain.url), { ':path': '/' });
      // A whole response nobody reads, its session then closed: it closes without 'end', and is no abort.
      const idle = connect(plain.url);
      const unread = idle.request({ ':path': '/' });
      unread.once('response', () => setTimeout(() => idle.destroy(), 50));
      await new Promise((resolve) => unread.once('close', resolve));
    });
    await waitForSpans(spans, 5);

    // Before: the three cut-off responses ended as successes (UNSET, no error.type), unlike over HTTP/1.1.
    expect(spans.map((s) => [s.status.code, s.attributes['error.type']])).toEqual([
      [SpanStatusCode.ERROR, 'ResponseAborted'],
      [SpanStatusCode.ERROR, 'ResponseAborted'],
      [SpanStatusCode.ERROR, 'ResponseAborted'],
      [SpanStatusCode.UNSET, undefined],
      [SpanStatusCode.UNSET, undefined],
    ]);
  });

  it('describe gRPC-shaped calls as RPCs, whatever the case of their content-type', async () => {
    const { tracer, spans } = setup();
    const session = connect(plain.url);
    const grpcHeaders = { ':method': 'POST', 'Content-Type': 'application/grpc+proto' };
    await withSpan(tracer.startSpan('parent'), async () => {
      await send(session, { ...grpcHeaders, ':path': '/pkg.Svc/Denied' });
      // Not gRPC's own answer: a proxy's 502, with no grpc-status.
      await send(session, { ...grpcHeaders, ':path': '/pkg.Svc/Gateway' });
    });
    await waitForSpans(spans, 2);

    expect(spans[0]?.name).toBe('pkg.Svc/Denied');
    expect(spans[0]?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'not yours' });
    expect(spans[0]?.attributes).toMatchObject({
      'rpc.system': 'grpc',
      'rpc.service': 'pkg.Svc',
      'rpc.method': 'Denied',
      'rpc.grpc.status_code': 7,
      'error.type': 'PERMISSION_DENIED',
    });
    expect(spans[0]?.attributes['url.full']).toBeUndefined();
    expect(spans[1]?.name).toBe('pkg.Svc/Gateway');
    expect(spans[1]?.status.code).toBe(SpanStatusCode.ERROR);
    expect(spans[1]?.attributes['error.type']).toBe('502');
    expect(spans[1]?.attributes['rpc.grpc.status_code']).toBeUndefined();
  });

  it('leave calls alone without an active span, and when tracing is suppressed', async () => {
    const { tracer, spans } = setup();
    const session = connect(plain.url);
    await send(session, { ':path': '/no-span' });
    await withSpan(tracer.startSpan('parent'), () =>
      suppressTracing(() => send(session, { ':path': '/quiet' })),
    );
    await new Promise((r) => setTimeout(r, 20));
    expect(plain.received.map((h) => h.traceparent)).toEqual([undefined, undefined]);
    expect(spans).toEqual([]);
  });

  it("never change the caller's headers object, which may be frozen, and keep sensitive headers", async () => {
    const { tracer, spans } = setup();
    const headers = Object.freeze({
      ':path': '/frozen',
      authorization: 'secret',
      [http2.sensitiveHeaders]: ['authorization'],
    });
    await withSpan(tracer.startSpan('parent'), () => send(connect(plain.url), headers));
    await waitForSpans(spans, 1);
    expect(Object.keys(headers)).toEqual([':path', 'authorization']);
    expect(plain.received[0]?.traceparent).toBeDefined();
    expect(plain.received[0]?.authorization).toBe('secret');
    const sensitive = (plain.received[0] as unknown as Record<symbol, unknown>)[http2.sensitiveHeaders];
    expect(sensitive).toContain('authorization');
  });

  it("replace a forwarded traceparent of the active trace, and leave another trace's alone", async () => {
    const { tracer, spans } = setup();
    const parent = tracer.startSpan('parent');
    const { traceId, spanId } = parent.spanContext();
    const other = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await withSpan(parent, async () => {
      const session = connect(plain.url);
      await send(session, { ':path': '/forwarded', TraceParent: `00-${traceId}-${spanId}-01` });
      await send(session, { ':path': '/other', traceparent: other });
    });
    await waitForSpans(spans, 1);
    await new Promise((r) => setTimeout(r, 20));

    expect(spans).toHaveLength(1);
    expect(parseTraceparent(plain.received[0]?.traceparent).spanId).toBe(spans[0]?.spanContext().spanId);
    expect(plain.received[1]?.traceparent).toBe(other);
  });

  // Node 22 takes `[name, value, ...]` lists too (Node 20 rejects them as headers).
  it.runIf(Number(process.versions.node.split('.')[0]) >= 22)(
    'add the trace to raw header lists, replacing a forwarded one of the active trace',
    async () => {
      const { tracer, spans } = setup();
      const parent = tracer.startSpan('parent');
      const { traceId, spanId } = parent.spanContext();
      const headers = [':path', '/raw', 'Traceparent', `00-${traceId}-${spanId}-01`, 'x-kept', 'yes'];
      await withSpan(parent, () => send(connect(plain.url), headers as unknown as http2.OutgoingHttpHeaders));
      await waitForSpans(spans, 1);
      expect(headers).toHaveLength(6);
      expect(plain.received[0]?.['x-kept']).toBe('yes');
      expect(parseTraceparent(plain.received[0]?.traceparent).spanId).toBe(spans[0]?.spanContext().spanId);
    },
  );

  it('record calls to destinations excluded from propagation, without their headers', async () => {
    const { tracer, spans } = setup({ doNotPropagateTo: [`127.0.0.1:${plain.port}`] });
    await withSpan(tracer.startSpan('parent'), () => send(connect(plain.url), { ':path': '/private' }));
    await waitForSpans(spans, 1);
    expect(plain.received[0]?.traceparent).toBeUndefined();
    expect(spans[0]?.attributes['server.port']).toBe(plain.port);
  });

  it('are traced no more once uninstalled: the sessions get their own request back', async () => {
    const session = connect(plain.url);
    const before = session.request;
    const { tracer, spans, uninstall } = setup();
    expect(session.request).not.toBe(before);
    uninstall();
    expect(session.request).toBe(before);
    await withSpan(tracer.startSpan('parent'), () => send(session, { ':path': '/after-uninstall' }));
    expect(plain.received[0]?.traceparent).toBeUndefined();
    expect(spans).toEqual([]);
  });
});
