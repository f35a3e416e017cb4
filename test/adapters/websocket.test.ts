import { Agent, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import fastifyWebsocket from '@fastify/websocket';
import Router from '@koa/router';
import { tracing as expressTracing } from '@tracewire/express';
import { tracing as fastifyTracing } from '@tracewire/fastify';
import { tracing as koaTracing } from '@tracewire/koa';
import {
  configure,
  getActiveSpan,
  InMemoryExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  SpanKind,
  SpanStatusCode,
} from '@tracewire/node';
import express5 from 'express';
import expressWs from 'express-ws';
import express4 from 'express4';
import fastify5 from 'fastify';
import fastify4 from 'fastify4';
import fastify4Websocket from 'fastify4-websocket';
import Koa3 from 'koa';
import koaEasyWs from 'koa-easy-ws';
import Koa2 from 'koa2';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { listen, type TestApp, waitFor } from './apps.js';

// A WebSocket starts as an HTTP request answered `101 Switching Protocols`, written to the socket by `ws` rather
// than through the framework's response. The server span is that request: it ends when the handshake is answered,
// while the WebSocket session goes on, and a refused handshake is recorded with its status. Each framework is
// wired the way its users add WebSockets: @fastify/websocket, koa-easy-ws, and `ws` in an Express route.

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

const exporter = new InMemoryExporter();
const tracer = configure({
  serviceName: 'websocket',
  processors: [new SimpleSpanProcessor(exporter)],
  shutdownOnSignals: false,
});
afterAll(() => tracer.shutdown());
beforeEach(() => {
  exporter.reset();
  delete seen.accepted;
  delete seen.message;
});

type WsApp = Pick<TestApp, 'port' | 'close'>;

/** Every app: `/rooms/:room` upgrades and echoes messages; `/locked/:room` refuses with 401 through the response. */
interface WsFactory {
  name: string;
  /** The span's name for `/rooms/:room`, where the framework knows the route. */
  roomRoute: string;
  create(): Promise<WsApp>;
}

/** The span active where the app accepts the connection, and where it handles a message. */
const seen: { accepted?: string; message?: string } = {};

function echo(socket: WebSocket): void {
  seen.accepted = getActiveSpan()?.spanContext().spanId ?? 'none';
  socket.on('message', (data) => {
    seen.message = getActiveSpan()?.spanContext().spanId ?? 'none';
    socket.send(`echo ${String(data)}`);
  });
}

function expressApp(express: typeof express5): WsFactory['create'] {
  return () => {
    const wss = new WebSocketServer({ noServer: true });
    const app = express();
    app.use(expressTracing());
    app.get('/rooms/:room', (req) => {
      wss.handleUpgrade(req, req.socket, Buffer.alloc(0), echo);
    });
    app.get('/locked/:room', (_req, res) => {
      res.status(401).send('no');
    });
    app.get('/plain', (_req, res) => {
      res.send('plain');
    });
    return listen(createServer(app));
  };
}

function koaApp(Koa: typeof Koa3): WsFactory['create'] {
  return () => {
    const app = new Koa();
    const router = new Router();
    app.use(koaTracing());
    // Its types declare an ES default export; the package is CommonJS, whose default import is the function itself.
    app.use((koaEasyWs as unknown as typeof koaEasyWs.default)());
    router.get('/rooms/:room', async (ctx) => {
      if (ctx.ws) echo(await ctx.ws());
    });
    router.get('/locked/:room', (ctx) => {
      ctx.status = 401;
      ctx.body = 'no';
    });
    router.get('/plain', (ctx) => {
      ctx.body = 'plain';
    });
    app.use(router.routes());
    return listen(createServer(app.callback()));
  };
}

const FACTORIES: WsFactory[] = [
  { name: 'Express 4 (ws in a route)', roomRoute: '/rooms/:room', create: expressApp(express4 as never) },
  { name: 'Express 5 (ws in a route)', roomRoute: '/rooms/:room', create: expressApp(express5) },
  { name: 'Koa 2 (koa-easy-ws)', roomRoute: '/rooms/:room', create: koaApp(Koa2 as never) },
  { name: 'Koa 3 (koa-easy-ws)', roomRoute: '/rooms/:room', create: koaApp(Koa3) },
  {
    name: 'Fastify 4 (@fastify/websocket 10)',
    roomRoute: '/rooms/:room',
    create: async () => {
      const app = fastify4();
      await app.register(fastifyTracing as never);
      // Version 10's types are written against Fastify 5's, so its options are given untyped here.
      await app.register(fastify4Websocket as never);
      app.get('/rooms/:room', { websocket: true } as never, (socket: unknown) => echo(socket as WebSocket));
      app.get('/locked/:room', {
        websocket: true,
        onRequest: (
          _request: unknown,
          reply: { code(status: number): { send(body: string): void } },
          done: () => void,
        ) => {
          reply.code(401).send('no');
          done();
        },
        handler: () => {},
      } as never);
      await app.listen({ port: 0, host: '127.0.0.1' });
      return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
    },
  },
  {
    name: 'Fastify 5 (@fastify/websocket 11)',
    roomRoute: '/rooms/:room',
    create: async () => {
      const app = fastify5();
      await app.register(fastifyTracing);
      await app.register(fastifyWebsocket);
      app.get('/rooms/:room', { websocket: true }, (socket) => echo(socket));
      app.get('/locked/:room', {
        websocket: true,
        onRequest: (_request, reply, done) => {
          void reply.code(401).send('no');
          done();
        },
        handler: () => {},
      });
      await app.listen({ port: 0, host: '127.0.0.1' });
      return {
        port: app.server.address() ? (app.server.address() as AddressInfo).port : 0,
        close: () => app.close(),
      };
    },
  },
];

function serverSpans(): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER);
}

/** Opens a WebSocket and exchanges one message; resolves with it open, or with the status it was refused with. */
function connect(
  port: number,
  path: string,
): Promise<{ socket: WebSocket; reply: string } | { refused: number }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers: { traceparent: TRACEPARENT } });
    socket.on('unexpected-response', (_request, response) => {
      response.resume();
      resolve({ refused: response.statusCode ?? 0 });
    });
    socket.on('error', reject);
    socket.on('open', () => {
      socket.once('message', (data) => resolve({ socket, reply: String(data) }));
      socket.send('hello');
    });
  });
}

/** A raw upgrade request; `ws` answers one without `Sec-WebSocket-Key` with 400 on the socket itself. */
function badHandshake(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      path,
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13' },
    });
    req.on('response', (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    req.on('upgrade', () => reject(new Error('upgraded without a key')));
    req.on('error', reject);
    req.end();
  });
}

describe.each(FACTORIES)('$name', ({ create, roomRoute }) => {
  it('ends the server span when the handshake is answered (101), while the WebSocket stays open', async () => {
    const app = await create();
    try {
      const opened = await connect(app.port, '/rooms/lobby');
      if (!('socket' in opened)) throw new Error(`refused with ${opened.refused}`);
      expect(opened.reply).toBe('echo hello');
      const span = await waitFor(() => serverSpans()[0], 'the handshake span');
      expect(opened.socket.readyState).toBe(WebSocket.OPEN);
      expect(span.name).toBe(`GET ${roomRoute}`);
      expect(span.attributes['http.response.status_code']).toBe(101);
      expect(span.attributes['http.route']).toBe(roomRoute);
      expect(span.attributes['error.type']).toBeUndefined();
      expect(span.status.code).toBe(SpanStatusCode.UNSET);
      expect(span.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
      expect(span.parentSpanId).toBe('00f067aa0ba902b7');
      // The code accepting the connection runs in the handshake's span; messages come later, from the connection.
      expect(seen).toEqual({ accepted: span.spanContext().spanId, message: 'none' });

      // The session goes on after the span has ended, and closing it records nothing more.
      opened.socket.send('again');
      expect(await new Promise((r) => opened.socket.once('message', (d) => r(String(d))))).toBe('echo again');
      const closed = new Promise((r) => opened.socket.once('close', r));
      opened.socket.close();
      await closed;
      await new Promise((r) => setTimeout(r, 20));
      expect(serverSpans()).toHaveLength(1);
    } finally {
      await app.close();
    }
  });

  it('records a handshake the app refuses through its response with that status', async () => {
    const app = await create();
    try {
      expect(await connect(app.port, '/locked/lobby')).toEqual({ refused: 401 });
      const span = await waitFor(() => serverSpans()[0], 'the refused span');
      expect(span.attributes['http.response.status_code']).toBe(401);
      expect(span.attributes['error.type']).toBeUndefined();
    } finally {
      await app.close();
    }
  });

  it('records a handshake ws rejects on the socket (no key: 400) with that status', async () => {
    const app = await create();
    try {
      expect(await badHandshake(app.port, '/rooms/lobby')).toBe(400);
      const span = await waitFor(() => serverSpans()[0], 'the rejected span');
      expect(span.name).toBe(`GET ${roomRoute}`);
      expect(span.attributes['http.response.status_code']).toBe(400);
    } finally {
      await app.close();
    }
  });
});

describe('a request with an Upgrade header answered as a plain request', () => {
  it.each(FACTORIES.slice(0, 4))(
    '$name: keeps its status, and the connection serves later requests',
    async ({ create }) => {
      const app = await create();
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const get = (headers: Record<string, string>) =>
        new Promise<{ status: number; body: string; port: number }>((resolve, reject) => {
          const req = httpRequest(
            { host: '127.0.0.1', port: app.port, path: '/plain', agent, headers },
            (res) => {
              let body = '';
              res.setEncoding('utf8');
              res.on('data', (chunk: string) => {
                body += chunk;
              });
              res.on('end', () =>
                resolve({ status: res.statusCode ?? 0, body, port: req.socket?.localPort ?? 0 }),
              );
            },
          );
          req.on('error', reject);
          req.end();
        });
      try {
        // HTTP/2 over cleartext is asked for this way (RFC 7540 §3.2); a server that does not speak it answers as usual.
        const first = await get({
          connection: 'Upgrade, HTTP2-Settings',
          upgrade: 'h2c',
          'http2-settings': '',
        });
        const second = await get({});
        expect([first.status, first.body, second.status, second.body]).toEqual([200, 'plain', 200, 'plain']);
        expect(second.port).toBe(first.port);
        const spans = await waitFor(
          () => (serverSpans().length === 2 ? serverSpans() : undefined),
          'two spans',
        );
        expect(spans.map((s) => [s.name, s.attributes['http.response.status_code']])).toEqual([
          ['GET /plain', 200],
          ['GET /plain', 200],
        ]);
      } finally {
        agent.destroy();
        await app.close();
      }
    },
  );
});

describe('express-ws (routes the request after the handshake was answered)', () => {
  it('ends the span with 101 when the connection closes, instead of leaving it open', async () => {
    const app = express5();
    const server = createServer(app);
    const { app: wsApp } = expressWs(app as never, server);
    app.use(expressTracing());
    wsApp.ws('/rooms/:room', (socket) => echo(socket as unknown as WebSocket));
    const running = await listen(server);
    try {
      const opened = await connect(running.port, '/rooms/lobby');
      if (!('socket' in opened)) throw new Error(`refused with ${opened.refused}`);
      expect(opened.reply).toBe('echo hello');
      opened.socket.close();
      const span = await waitFor(() => serverSpans()[0], 'the express-ws span');
      // express-ws routes it as `/rooms/:room/.websocket`; the app wrote `/rooms/:room`.
      expect(span.name).toBe('GET /rooms/:room');
      expect(span.attributes['http.route']).toBe('/rooms/:room');
      expect(span.attributes['http.response.status_code']).toBe(101);
      expect(span.attributes['error.type']).toBeUndefined();
      expect(span.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    } finally {
      await running.close();
    }
  });
});
