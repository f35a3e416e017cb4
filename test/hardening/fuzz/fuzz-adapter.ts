import * as http from 'node:http';
import { tracing as expressTracing } from '@tracewire/express';
import { tracing as fastifyTracing } from '@tracewire/fastify';
import { tracing as koaTracing } from '@tracewire/koa';
import {
  configure,
  encodeOtlpProto,
  getTracer,
  type ReadableSpan,
  type SpanProcessor,
} from '@tracewire/node';
import express from 'express';
import fc from 'fast-check';
import fastify from 'fastify';
import Koa from 'koa';
import { inject } from 'light-my-request';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downstreamProblems, parseRequestHead } from './downstream-checks.js';
import { fakeDownstreamSocket } from './fake-downstream.js';
import { type HostileHeaders, hostileHeaders } from './hostile-headers.js';

// Hostile trace headers thrown at Express, Koa and Fastify apps in process (light-my-request / fastify.inject:
// the adapters' own code paths, without a socket per case). Each handler makes an outgoing `http` call through
// tracewire's instrumentation; the bytes Node writes for it are checked. Default: 34,000 cases per adapter
// (102,000 per run). Long mode: TRACEWIRE_FUZZ_RUNS=<cases per adapter>; TRACEWIRE_FUZZ_SEED replays a failure.

const RUNS = Number(process.env.TRACEWIRE_FUZZ_RUNS ?? 34_000);
const SEED =
  process.env.TRACEWIRE_FUZZ_SEED === undefined ? undefined : Number(process.env.TRACEWIRE_FUZZ_SEED);
if (!Number.isInteger(RUNS) || RUNS < 1) {
  throw new RangeError(
    `TRACEWIRE_FUZZ_RUNS must be a positive integer; got '${process.env.TRACEWIRE_FUZZ_RUNS}'`,
  );
}
const OWN_BODY = 'own';

/** Exceptions that reached an app's error handling, whatever the framework. */
const appErrors: unknown[] = [];
let lastHead: Record<string, string> | undefined;

/** Encodes ended spans in batches, so hostile input also goes through the exporter's serialization. */
class EncodingProcessor implements SpanProcessor {
  batch: ReadableSpan[] = [];
  ended = 0;
  onEnd(span: ReadableSpan): void {
    this.ended++;
    this.batch.push(span);
    if (this.batch.length >= 500) this.encode();
  }
  encode(): void {
    const spans = this.batch;
    this.batch = [];
    encodeOtlpProto(spans);
  }
  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}
const processor = new EncodingProcessor();

/** The handler's outgoing call: real `http.request` through tracewire's wrapper, on a fake socket. */
function callDownstream(): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port: 9,
      path: '/downstream',
      headers: { 'x-app-call': '1' },
      createConnection: () =>
        fakeDownstreamSocket((raw) => {
          lastHead = parseRequestHead(raw);
        }) as never,
    });
    req.on('error', reject);
    req.on('response', (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.end();
  });
}

type Send = (headers: HostileHeaders) => Promise<{ status: number; appHeader: unknown; body: string }>;

interface Driver {
  name: string;
  create(): Promise<{ send: Send; close(): Promise<void> }>;
}

const DRIVERS: Record<'express' | 'koa' | 'fastify', Driver> = {
  express: {
    name: 'express',
    async create() {
      const app = express();
      app.use(expressTracing());
      app.get('/fuzz', (_req, res, next) => {
        callDownstream().then(() => res.set('x-app', 'own').send(OWN_BODY), next);
      });
      app.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
        appErrors.push(error);
        res.status(500).send('app error');
      });
      return {
        send: async (headers) => {
          const res = await inject(app, { method: 'GET', url: '/fuzz', headers });
          return { status: res.statusCode, appHeader: res.headers['x-app'], body: res.payload };
        },
        close: async () => {},
      };
    },
  },
  koa: {
    name: 'koa',
    async create() {
      const app = new Koa();
      app.silent = true;
      app.on('error', (error) => appErrors.push(error));
      app.use(koaTracing());
      app.use(async (ctx) => {
        await callDownstream();
        ctx.set('x-app', 'own');
        ctx.body = OWN_BODY;
      });
      const handler = app.callback();
      return {
        send: async (headers) => {
          const res = await inject(handler, { method: 'GET', url: '/fuzz', headers });
          return { status: res.statusCode, appHeader: res.headers['x-app'], body: res.payload };
        },
        close: async () => {},
      };
    },
  },
  fastify: {
    name: 'fastify',
    async create() {
      const app = fastify({ logger: false });
      await app.register(fastifyTracing);
      app.setErrorHandler((error, _req, reply) => {
        appErrors.push(error);
        void reply.code(500).send('app error');
      });
      app.get('/fuzz', async (_req, reply) => {
        await callDownstream();
        void reply.header('x-app', 'own');
        return OWN_BODY;
      });
      await app.ready();
      return {
        send: async (headers) => {
          const res = await app.inject({ method: 'GET', url: '/fuzz', headers });
          return { status: res.statusCode, appHeader: res.headers['x-app'], body: res.payload };
        },
        close: () => app.close(),
      };
    },
  },
};

/** Registers the fuzz test for one adapter; each adapter has its own test file so the three run in parallel. */
export function fuzzAdapter(name: keyof typeof DRIVERS): void {
  const driver = DRIVERS[name];
  beforeAll(() => {
    configure({
      exporters: 'none',
      processors: [processor],
      propagators: 'tracecontext,baggage,b3,b3multi,jaeger',
      shutdownOnSignals: false,
    });
  });

  afterAll(() => getTracer().shutdown());

  describe(`hostile trace headers at ${driver.name}`, () => {
    it(
      `answers all ${RUNS} cases itself, with no exception and only valid trace headers downstream`,
      async () => {
        const app = await driver.create();
        const stats = getTracer().stats;
        const startedBefore = stats.spansStarted;
        const endedBefore = stats.spansEnded;
        const encodedBefore = processor.ended;
        try {
          const details = await fc.check(
            fc.asyncProperty(hostileHeaders, async (headers) => {
              lastHead = undefined;
              const res = await app.send(headers);
              if (res.status !== 200 || res.appHeader !== 'own' || res.body !== OWN_BODY) {
                throw new Error(`response was not the app's own: ${res.status} ${res.body.slice(0, 200)}`);
              }
              if (appErrors.length > 0) throw new Error(`the app saw an exception: ${String(appErrors[0])}`);
              if (lastHead === undefined) throw new Error('the downstream call never left');
              const problems = downstreamProblems(lastHead);
              if (problems.length > 0) throw new Error(problems.join('\n'));
            }),
            { numRuns: RUNS, seed: SEED, endOnFailure: true },
          );
          if (details.failed) {
            // fast-check's own report prints the whole (possibly 20 kB) counterexample; the seed and path replay it.
            const sample = JSON.stringify(details.counterexample?.[0]).slice(0, 1500);
            throw new Error(
              `case ${details.numRuns} failed (TRACEWIRE_FUZZ_SEED=${details.seed}, path ${details.counterexamplePath}):\n` +
                `${String(details.errorInstance).slice(0, 1500)}\nheaders: ${sample}`,
            );
          }
          processor.encode();
        } finally {
          await app.close();
        }
        expect(appErrors).toEqual([]);
        // Every span started was ended, and the recorded ones (unsampled callers record nothing) went through the
        // OTLP encoder; nothing was skipped as an instrumentation error either.
        expect(stats.spansEnded - endedBefore).toBe(stats.spansStarted - startedBefore);
        expect(processor.ended - encodedBefore).toBeGreaterThan(RUNS / 2);
        expect(stats.instrumentationErrors).toBe(0);
      },
      // A hang guard, not a speed check: 34,000 cases took 31–39 s alone and up to 115 s beside the rest of the
      // suite on a slow two-core machine.
      Math.max(120_000, RUNS * 10),
    );
  });
}
