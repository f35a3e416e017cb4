import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as undici from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocketClient, { WebSocketServer } from 'ws';
import { withSpan } from '../src/context.js';
import { SpanKind, SpanStatusCode } from '../src/span-data.js';
import { type Harness, installHarness, parseTraceparent, waitForSpans } from './outgoing-harness.js';

// Opening a WebSocket is an HTTP request answered `101 Switching Protocols`, after which the connection is the
// WebSocket's. Its client span is that request: it ends when the answer arrives, and the server receives the span's
// traceparent. undici (and the `WebSocket` global built on it, Node 22+) publishes no channel event for such an
// answer; `ws` goes through node:http.

let server: http.Server;
let url: string;
const handshakes: http.IncomingHttpHeaders[] = [];
let harness: Harness | undefined;

beforeAll(async () => {
  server = http.createServer();
  const wss = new WebSocketServer({
    server,
    verifyClient: (info: { req: http.IncomingMessage }) => !info.req.url?.startsWith('/locked'),
  });
  wss.on('headers', (_headers, req) => handshakes.push(req.headers));
  wss.on('connection', (socket) => socket.on('message', (data) => socket.send(`echo ${String(data)}`)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});
afterEach(() => {
  harness?.uninstall();
  harness = undefined;
  handshakes.length = 0;
});

/** What an app does with each client: open, exchange one message, and leave it open for the caller to close. */
interface Opened {
  reply: string;
  close(): Promise<void>;
}

type Client = [string, ((target: string) => Promise<Opened>) | undefined];

/** A WebSocket-API client (the global, undici's): resolves open, or rejects when the handshake is refused. */
function openStandard(Ctor: typeof undici.WebSocket) {
  return (target: string) =>
    new Promise<Opened>((resolve, reject) => {
      const socket = new Ctor(target);
      socket.addEventListener('error', () => reject(new Error('refused')));
      socket.addEventListener('open', () => {
        socket.addEventListener('message', (event) =>
          resolve({
            reply: String(event.data),
            close: () =>
              new Promise<void>((done) => {
                socket.addEventListener('close', () => done());
                socket.close();
              }),
          }),
        );
        socket.send('hello');
      });
    });
}

const globalWebSocket = (globalThis as { WebSocket?: typeof undici.WebSocket }).WebSocket;
/** undici 8 loads on Node 22.19 and later only; it reports the 101 answer on its channels, where 5-7 do not. */
const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
const undici8 = major > 22 || (major === 22 && minor >= 19) ? await import('undici8') : undefined;

const clients: Client[] = [
  ["undici's WebSocket", openStandard(undici.WebSocket)],
  ["undici 8's WebSocket", undici8 && openStandard(undici8.WebSocket as unknown as typeof undici.WebSocket)],
  // The global exists from Node 22 on; node-versions.test.ts runs this file under Node 22 and 24.
  ['the WebSocket global', globalWebSocket && openStandard(globalWebSocket)],
  [
    'ws (over node:http)',
    (target) =>
      new Promise<Opened>((resolve, reject) => {
        const socket = new WebSocketClient(target);
        socket.on('error', reject);
        socket.on('open', () => {
          socket.once('message', (data) =>
            resolve({
              reply: String(data),
              close: () =>
                new Promise<void>((done) => {
                  socket.once('close', () => done());
                  socket.close();
                }),
            }),
          );
          socket.send('hello');
        });
      }),
  ],
];

describe.each(clients)('%s', (_name, open) => {
  it.skipIf(open === undefined)(
    'ends its client span at the 101 answer, while the WebSocket stays open',
    async () => {
      harness = installHarness();
      const h = harness;
      const parent = h.tracer.startSpan('parent', { kind: SpanKind.SERVER });
      const opened = await withSpan(parent, () => open!(`${url}/rooms/lobby`));
      try {
        expect(opened.reply).toBe('echo hello');
        await waitForSpans(h.spans, 1);
        const client = h.spans[0]!;
        expect(client.kind).toBe(SpanKind.CLIENT);
        expect(client.name).toBe('GET');
        expect(client.attributes['http.response.status_code']).toBe(101);
        expect(client.attributes['url.full']).toBe(`${url.replace('ws:', 'http:')}/rooms/lobby`);
        expect(client.status.code).toBe(SpanStatusCode.UNSET);
        expect(client.parentSpanId).toBe(parent.spanContext().spanId);
        const sent = parseTraceparent(handshakes[0]?.traceparent);
        expect(sent.spanId).toBe(client.spanContext().spanId);
      } finally {
        await opened.close();
      }
      expect(h.spans).toHaveLength(1);
    },
  );

  it.skipIf(open === undefined)(
    'ends its client span as an error when the handshake is refused',
    async () => {
      harness = installHarness();
      const h = harness;
      await expect(withSpan(h.tracer.startSpan('parent'), () => open!(`${url}/locked`))).rejects.toThrow();
      await waitForSpans(h.spans, 1);
      const client = h.spans[0]!;
      expect(client.attributes['http.response.status_code']).toBe(401);
      expect(client.status.code).toBe(SpanStatusCode.ERROR);
    },
  );
});

// undici's own `upgrade()` and `connect()` go through the dispatcher they are given, so the undici 8 package runs
// its own request there (which reports the answer on its channels) where its WebSocket uses Node's copy.
describe.each([
  ['undici 7', undici as typeof undici | undefined],
  ['undici 8', undici8 as unknown as typeof undici | undefined],
])("%s's upgrade() and connect()", (_name, u) => {
  let raw: http.Server;
  let origin = '';
  beforeAll(async () => {
    raw = http.createServer();
    raw.on('upgrade', (_req, socket) => {
      socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: chat\r\nConnection: Upgrade\r\n\r\n');
    });
    raw.on('connect', (_req, socket) => socket.end('HTTP/1.1 200 Connection Established\r\n\r\n'));
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(raw.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    raw.closeAllConnections();
    await new Promise((r) => raw.close(r));
  });

  it.skipIf(u === undefined).for([
    ['upgrade', 101],
    ['connect', 200],
  ] as const)('%s ends its client span at the answer', async ([method, status]) => {
    harness = installHarness();
    const h = harness;
    const agent = new u!.Agent();
    try {
      const answered = await withSpan(h.tracer.startSpan('parent'), () =>
        method === 'upgrade'
          ? u!.upgrade(`${origin}/chat`, { dispatcher: agent, protocol: 'chat' })
          : u!.connect(`${origin}/`, { dispatcher: agent }),
      );
      answered.socket.destroy();
      await waitForSpans(h.spans, 1);
      expect(h.spans[0]!.attributes['http.response.status_code']).toBe(status);
      expect(h.spans[0]!.kind).toBe(SpanKind.CLIENT);
    } finally {
      await agent.close();
    }
    expect(h.spans).toHaveLength(1);
  });
});
