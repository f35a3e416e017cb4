import { readFileSync } from 'node:fs';
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { installOutgoing } from '../src/install-outgoing.js';
import type { OutgoingOptions } from '../src/outgoing-options.js';
import type { Sampler } from '../src/sampler.js';
import type { ReadableSpan } from '../src/span-data.js';
import { Tracer } from '../src/tracer.js';

const fixtures = fileURLToPath(new URL('../../../test/fixtures/outgoing/', import.meta.url));
/** Self-signed for 127.0.0.1/localhost, generated once with openssl; clients trust it through `ca`. */
export const tls = {
  cert: readFileSync(`${fixtures}cert.pem`, 'utf8'),
  key: readFileSync(`${fixtures}key.pem`, 'utf8'),
};

export interface Downstream {
  readonly url: string;
  readonly port: number;
  /** Headers of every request received, in arrival order. */
  readonly received: { method: string; url: string; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

/** A real server on 127.0.0.1 that records what it receives; `/status/<n>` answers with that status. */
export async function startDownstream(secure = false): Promise<Downstream> {
  const received: Downstream['received'] = [];
  const handler: http.RequestListener = (req, res) => {
    received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    const status = /^\/status\/(\d{3})/.exec(req.url ?? '');
    res.statusCode = status ? Number(status[1]) : 200;
    req.resume();
    req.on('end', () => res.end('ok'));
  };
  const server = secure ? https.createServer(tls, handler) : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${secure ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface Harness {
  readonly tracer: Tracer;
  readonly spans: ReadableSpan[];
  uninstall(): void;
}

/** A tracer whose ended spans land in `spans`, with outgoing calls instrumented. */
export function installHarness(options?: OutgoingOptions, sampler?: Sampler): Harness {
  const spans: ReadableSpan[] = [];
  const tracer = new Tracer({
    sampler,
    processors: [
      {
        onEnd: (span) => void spans.push(span),
        forceFlush: async () => {},
        shutdown: async () => {},
      },
    ],
  });
  const uninstall = installOutgoing(tracer, options);
  return { tracer, spans, uninstall };
}

/** Resolves once `spans` holds `count` spans (client spans end on the request's `close`, a tick after the body). */
export async function waitForSpans(spans: readonly ReadableSpan[], count: number): Promise<void> {
  for (let i = 0; i < 200 && spans.length < count; i++) await new Promise((r) => setTimeout(r, 5));
}

/** Sends a request with the given function and resolves with the response body once it has ended. */
export function consume(req: http.ClientRequest): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

/** The parts of a received `traceparent` header. */
export function parseTraceparent(header: string | string[] | undefined) {
  const [version, traceId, spanId, flags] = String(header).split('-');
  return { version, traceId, spanId, sampled: (Number.parseInt(flags ?? '0', 16) & 1) === 1 };
}
