import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import {
  configure,
  InMemoryExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  SpanKind,
  SpanStatusCode,
} from '@tracewire/node';
import got from 'got';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

// Libraries on node:http2, with no code from the user: gRPC calls (@grpc/grpc-js) are recorded as RPC client spans
// and carry the trace in their metadata; got's `http2: true` calls like any HTTP call.

const exporter = new InMemoryExporter();
const tracer = configure({
  serviceName: 'outgoing-grpc',
  processors: [new SimpleSpanProcessor(exporter)],
  shutdownOnSignals: false,
});

const fixtures = new URL('./fixtures/outgoing/', import.meta.url);
const tls = {
  cert: readFileSync(new URL('cert.pem', fixtures), 'utf8'),
  key: readFileSync(new URL('key.pem', fixtures), 'utf8'),
};

const raw = (buffer: Buffer): Buffer => buffer;
const unary = {
  path: '/demo.v1.Echo/Say',
  requestStream: false,
  responseStream: false,
  requestSerialize: raw,
  requestDeserialize: raw,
  responseSerialize: raw,
  responseDeserialize: raw,
};
const echoService = {
  Say: unary,
  Stream: { ...unary, path: '/demo.v1.Echo/Stream', responseStream: true },
  Hang: { ...unary, path: '/demo.v1.Echo/Hang' },
};
const EchoClient = grpc.makeGenericClientConstructor(echoService, 'Echo');
type Echo = grpc.Client & {
  Say(request: Buffer, callback: (error: grpc.ServiceError | null, reply?: Buffer) => void): void;
  Stream(request: Buffer): grpc.ClientReadableStream<Buffer>;
  Hang(
    request: Buffer,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null) => void,
  ): grpc.ClientUnaryCall;
};

const metadata: (string | undefined)[] = [];
const grpcServer = new grpc.Server();
grpcServer.addService(echoService, {
  Say(call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) {
    metadata.push(call.metadata.get('traceparent')[0] as string | undefined);
    const text = call.request.toString();
    if (text === 'missing') callback({ code: grpc.status.NOT_FOUND, details: 'no such item: ünïcode' });
    else callback(null, Buffer.from(`echo:${text}`));
  },
  // Never answers: the client gives up (its deadline) or cancels.
  Hang() {},
  Stream(call: grpc.ServerWritableStream<Buffer, Buffer>) {
    metadata.push(call.metadata.get('traceparent')[0] as string | undefined);
    call.write(Buffer.from('first'));
    // After a message, the status travels in the trailers.
    call.emit('error', { code: grpc.status.RESOURCE_EXHAUSTED, details: 'quota' });
  },
});
let grpcAddress = '';

const h2Received: (string | undefined)[] = [];
const h2Server = http2.createSecureServer({ ...tls, allowHTTP1: true }, (req, res) => {
  h2Received.push(req.headers.traceparent as string | undefined);
  res.end('{"ok":true}');
});
const h2Sessions = new Set<http2.ServerHttp2Session>();
h2Server.on('session', (session) => {
  h2Sessions.add(session);
  session.on('close', () => h2Sessions.delete(session));
});
let h2Base = '';

beforeAll(async () => {
  const port = await new Promise<number>((resolve, reject) =>
    grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  grpcAddress = `127.0.0.1:${port}`;
  await new Promise<void>((resolve) => h2Server.listen(0, '127.0.0.1', resolve));
  h2Base = `https://127.0.0.1:${(h2Server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await tracer.shutdown();
  grpcServer.forceShutdown();
  // got keeps its HTTP/2 session open for reuse; close() waits for every session to end.
  for (const session of h2Sessions) session.destroy();
  await new Promise((resolve) => h2Server.close(resolve));
});
beforeEach(() => {
  exporter.reset();
  metadata.length = 0;
  h2Received.length = 0;
});

function client(): Echo {
  return new EchoClient(grpcAddress, grpc.credentials.createInsecure()) as unknown as Echo;
}

function say(echo: Echo, text: string): Promise<{ error: grpc.ServiceError | null; reply?: string }> {
  return new Promise((resolve) =>
    echo.Say(Buffer.from(text), (error, reply) => resolve({ error, reply: reply?.toString() })),
  );
}

async function clientSpans(count: number): Promise<ReadableSpan[]> {
  const kind = () => exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT);
  for (let i = 0; i < 200 && kind().length < count; i++) await new Promise((r) => setTimeout(r, 5));
  return kind();
}

function traceparentSpanId(header: string | undefined): string | undefined {
  return header?.split('-')[2];
}

describe('gRPC calls (@grpc/grpc-js)', () => {
  it('are RPC client spans under the active span, and carry the trace in their metadata', async () => {
    const echo = client();
    const reply = await tracer.startActiveSpan('checkout', async (span) => {
      try {
        // The channel connects during the first call: the trace must survive that too.
        return await say(echo, 'hi');
      } finally {
        span.end();
      }
    });
    echo.close();
    expect(reply.reply).toBe('echo:hi');

    const [call] = await clientSpans(1);
    const parent = exporter.getFinishedSpans().find((s) => s.name === 'checkout');
    expect(call).toMatchObject({ name: 'demo.v1.Echo/Say', status: { code: SpanStatusCode.UNSET } });
    expect(call?.parentSpanId).toBe(parent?.spanContext().spanId);
    expect(call?.attributes).toEqual({
      'rpc.system': 'grpc',
      'rpc.service': 'demo.v1.Echo',
      'rpc.method': 'Say',
      'server.address': '127.0.0.1',
      'server.port': Number(grpcAddress.split(':')[1]),
      'network.peer.address': '127.0.0.1',
      'network.peer.port': Number(grpcAddress.split(':')[1]),
      'network.protocol.version': '2',
      'rpc.grpc.status_code': 0,
    });
    expect(metadata[0]?.split('-')[1]).toBe(parent?.spanContext().traceId);
    expect(traceparentSpanId(metadata[0])).toBe(call?.spanContext().spanId);
  });

  it('are errors unless the status is OK, read from a trailers-only answer and from trailers', async () => {
    const echo = client();
    const streamed: string[] = [];
    await tracer.startActiveSpan('checkout', async (span) => {
      const failed = await say(echo, 'missing');
      expect(failed.error?.code).toBe(grpc.status.NOT_FOUND);
      await new Promise<void>((resolve) => {
        const stream = echo.Stream(Buffer.from('go'));
        stream.on('data', (chunk: Buffer) => streamed.push(chunk.toString()));
        stream.on('error', () => resolve());
      });
      span.end();
    });
    echo.close();
    expect(streamed).toEqual(['first']);

    const [notFound, exhausted] = await clientSpans(2);
    expect(notFound?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'no such item: ünïcode' });
    expect(notFound?.attributes).toMatchObject({ 'rpc.grpc.status_code': 5, 'error.type': 'NOT_FOUND' });
    expect(exhausted?.name).toBe('demo.v1.Echo/Stream');
    expect(exhausted?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'quota' });
    expect(exhausted?.attributes).toMatchObject({
      'rpc.grpc.status_code': 8,
      'error.type': 'RESOURCE_EXHAUSTED',
    });
    expect(metadata.map(traceparentSpanId)).toEqual([
      notFound?.spanContext().spanId,
      exhausted?.spanContext().spanId,
    ]);
  });

  it('that the client cancels or lets run out are CANCELLED and DEADLINE_EXCEEDED, as the app sees them', async () => {
    const echo = client();
    const seen: (number | undefined)[] = [];
    await tracer.startActiveSpan('parent', async (parent) => {
      await new Promise<void>((resolve) =>
        echo.Hang(Buffer.from('x'), new grpc.Metadata(), { deadline: Date.now() + 100 }, (error) => {
          seen.push(error?.code);
          resolve();
        }),
      );
      await new Promise<void>((resolve) => {
        const call = echo.Hang(Buffer.from('x'), new grpc.Metadata(), {}, (error) => {
          seen.push(error?.code);
          resolve();
        });
        setTimeout(() => call.cancel(), 50);
      });
      parent.end();
    });
    echo.close();
    expect(seen).toEqual([grpc.status.DEADLINE_EXCEEDED, grpc.status.CANCELLED]);
    const spans = await clientSpans(2);
    // Before: no rpc.grpc.status_code, and error.type 'aborted' for both.
    expect(spans.map((s) => [s.attributes['rpc.grpc.status_code'], s.attributes['error.type']])).toEqual([
      [4, 'DEADLINE_EXCEEDED'],
      [1, 'CANCELLED'],
    ]);
    expect(spans.every((s) => s.status.code === SpanStatusCode.ERROR)).toBe(true);
  });

  it('made with no active span are left alone', async () => {
    const echo = client();
    await say(echo, 'untraced');
    echo.close();
    expect(metadata).toEqual([undefined]);
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});

describe("got's http2: true", () => {
  it('is an HTTP client span over HTTP/2 that carries the trace', async () => {
    const body = await tracer.startActiveSpan('checkout', async (span) => {
      try {
        return await got(`${h2Base}/items/1`, {
          http2: true,
          https: { certificateAuthority: tls.cert },
          retry: { limit: 0 },
        }).json();
      } finally {
        span.end();
      }
    });
    expect(body).toEqual({ ok: true });

    const [call] = await clientSpans(1);
    expect(call?.name).toBe('GET');
    expect(call?.attributes).toMatchObject({
      'url.full': `${h2Base}/items/1`,
      'network.protocol.version': '2',
      'http.response.status_code': 200,
    });
    expect(traceparentSpanId(h2Received[0])).toBe(call?.spanContext().spanId);
  });
});
