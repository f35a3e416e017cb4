import type { Writable } from 'node:stream';
import { configure, InMemoryExporter, logFields, SimpleSpanProcessor, withSpan } from '@tracewire/node';
import { afterAll, describe, expect, it } from 'vitest';
import winston from 'winston';

// The README's winston recipe: the ids are read in `defaultMeta`, as each line is logged. winston runs formats later
// once a transport falls behind, from whatever drains its stream, where another request's span is active.

const tracer = configure({
  serviceName: 'log-fields-winston',
  processors: [new SimpleSpanProcessor(new InMemoryExporter())],
  shutdownOnSignals: false,
});
afterAll(() => tracer.shutdown());

type Line = { message: string; trace_id?: string };

const REQUESTS = 50;
const STEPS = 4;
const LINES = REQUESTS * STEPS * 2;

// winston's types call it `transport`; the module exports `Transport`.
const Transport = (winston as unknown as { Transport: new () => Writable }).Transport;

/** A transport that answers later, as file, HTTP and cloud transports do. */
class LaterTransport extends Transport {
  constructor(private readonly lines: Line[]) {
    super();
  }
  log(info: unknown, done: () => void): void {
    setImmediate(() => {
      this.lines.push(info as Line);
      done();
    });
  }
}

const traceMeta = {
  get trace_id() {
    return logFields().trace_id;
  },
  get span_id() {
    return logFields().span_id;
  },
  get trace_flags() {
    return logFields().trace_flags;
  },
};

/** 50 requests at once, each logging lines between awaits; each line names the trace it was logged in. */
async function logConcurrently(logger: winston.Logger): Promise<void> {
  const requests = Array.from({ length: REQUESTS }, async (_, i) => {
    const span = tracer.startSpan(`request ${i}`);
    await withSpan(span, async () => {
      for (let step = 0; step < STEPS; step++) {
        logger.info(span.spanContext().traceId);
        logger.info(span.spanContext().traceId);
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
      }
    });
    span.end();
  });
  await Promise.all(requests);
  await new Promise((resolve) => setTimeout(resolve, 50));
}

describe('winston', () => {
  it("writes each line's own trace id when the ids are read in defaultMeta, however far the transport falls behind", async () => {
    const lines: Line[] = [];
    const logger = winston.createLogger({
      defaultMeta: traceMeta,
      transports: [new LaterTransport(lines) as never],
    });
    await logConcurrently(logger);
    expect(lines).toHaveLength(LINES);
    expect(lines.filter((line) => line.trace_id !== line.message)).toEqual([]);
  });

  it('writes other traces into lines when a format reads the ids (why the README does not use one)', async () => {
    const lines: Line[] = [];
    const format = winston.format((info) => Object.assign(info, logFields()))();
    const logger = winston.createLogger({ format, transports: [new LaterTransport(lines) as never] });
    await logConcurrently(logger);
    expect(lines).toHaveLength(LINES);
    expect(lines.filter((line) => line.trace_id !== line.message).length).toBeGreaterThan(0);
  });
});
