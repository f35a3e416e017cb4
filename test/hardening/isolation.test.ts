import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type CollectedSpan, FakeCollector } from './fixtures/fake-collector.js';
import { waitFor } from './fixtures/services.js';

// 1000 concurrent requests through two real processes (Express front → Fastify back), each crossing random delays,
// timers, an event emitter and setImmediate, with two outgoing calls per request. Half arrive with a caller's
// traceparent, half start new traces. Checked on the spans the collector received and on what the handlers saw.

const REQUESTS = 1000;
const SERVER = 2;
const CLIENT = 3;

interface Leaf {
  traceparent: string;
  traceId: string;
  spanId: string;
  stayedActive: boolean;
}

interface FrontAnswer {
  traceId: string;
  spanId: string;
  hops: [string, boolean][];
  leaves: Leaf[];
}

const collector = new FakeCollector();
const children: ChildProcess[] = [];

function start(file: string, env: Record<string, string>): Promise<string> {
  const child = spawn(process.execPath, [fileURLToPath(new URL(`./fixtures/${file}`, import.meta.url))], {
    env: {
      ...process.env,
      NODE_OPTIONS: '',
      OTEL_SERVICE_NAME: file,
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '200',
      OTEL_BSP_MAX_QUEUE_SIZE: '20000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk) => {
      output += chunk;
      const match = /listening on (\S+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code}:\n${output}`)));
  });
}

let frontUrl: string;

beforeAll(async () => {
  await collector.up();
  const backUrl = await start('chain-back.mjs', {});
  frontUrl = await start('chain-front.mjs', { BACK_URL: backUrl });
});

afterAll(async () => {
  for (const child of children) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  }
  await collector.down();
});

it('keeps 1000 concurrent chained requests apart: one trace each, every parent the right one', async () => {
  const callers = Array.from({ length: REQUESTS }, (_, i) =>
    i % 2 === 0
      ? { traceId: randomBytes(16).toString('hex'), parentId: randomBytes(8).toString('hex') }
      : undefined,
  );
  const answers = await Promise.all(
    callers.map(async (caller, i): Promise<FrontAnswer> => {
      const headers: Record<string, string> = caller
        ? { traceparent: `00-${caller.traceId}-${caller.parentId}-01` }
        : {};
      const response = await fetch(`${frontUrl}/chain/${i}`, { headers });
      expect(response.status).toBe(200);
      return (await response.json()) as FrontAnswer;
    }),
  );

  // What the handlers saw, in both processes.
  for (const [i, answer] of answers.entries()) {
    const caller = callers[i];
    if (caller) expect(answer.traceId).toBe(caller.traceId);
    expect(answer.hops.filter(([, ok]) => !ok)).toEqual([]);
    expect(answer.hops.map(([where]) => where).sort()).toEqual(['await', 'emitter', 'immediate', 'timer']);
    for (const leaf of answer.leaves) {
      expect(leaf.stayedActive).toBe(true);
      expect(leaf.traceId).toBe(answer.traceId);
      expect(leaf.traceparent.slice(3, 35)).toBe(answer.traceId);
    }
  }
  expect(new Set(answers.map((a) => a.traceId)).size).toBe(REQUESTS);

  // What the collector received: exactly one trace of five spans per request, each parent the right one.
  await waitFor(() => collector.spans.length >= REQUESTS * 5, 'all spans at the collector', 30_000);
  const byTrace = new Map<string, CollectedSpan[]>();
  for (const span of collector.spans) byTrace.set(span.traceId, [...(byTrace.get(span.traceId) ?? []), span]);
  expect(byTrace.size).toBe(REQUESTS);
  for (const [i, answer] of answers.entries()) {
    const spans = byTrace.get(answer.traceId) ?? [];
    expect(spans).toHaveLength(5);
    const front = spans.filter((s) => s.kind === SERVER && s.service === 'chain-front.mjs');
    expect(front).toHaveLength(1);
    expect(front[0]!.spanId).toBe(answer.spanId);
    expect(front[0]!.parentSpanId).toBe(callers[i]?.parentId);
    const clients = spans.filter((s) => s.kind === CLIENT);
    expect(clients).toHaveLength(2);
    for (const client of clients) expect(client.parentSpanId).toBe(answer.spanId);
    const backs = spans.filter((s) => s.kind === SERVER && s.service === 'chain-back.mjs');
    expect(backs.map((s) => s.parentSpanId).sort()).toEqual(clients.map((c) => c.spanId).sort());
    expect(backs.map((s) => s.spanId).sort()).toEqual(answer.leaves.map((l) => l.spanId).sort());
    // The traceparent each leaf received named its own client span as parent.
    for (const leaf of answer.leaves) {
      const back = backs.find((s) => s.spanId === leaf.spanId);
      expect(leaf.traceparent.slice(36, 52)).toBe(back?.parentSpanId);
    }
  }
}, 90_000);
