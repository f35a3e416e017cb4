import http from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
// nock 14 (on @mswjs/interceptors) puts its own http.get over what it finds, and back what it found on restore.
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withSpan } from '../src/context.js';
import { SpanKind } from '../src/span-data.js';
import { type Downstream, type Harness, installHarness, startDownstream } from './outgoing-harness.js';

let downstream: Downstream;
const realGet = http.get;

beforeAll(async () => {
  nock.restore(); // active from its import on: the instrumentation comes first here
  nock.enableNetConnect();
  downstream = await startDownstream();
});
afterAll(async () => {
  await downstream.close();
});

/** An `http.get` to the downstream under a server span of `harness`'s tracer. */
function callUnder(harness: Harness): Promise<void> {
  const parent = harness.tracer.startSpan('GET /orders', { kind: SpanKind.SERVER });
  return withSpan(
    parent,
    () =>
      new Promise<void>((resolve, reject) => {
        http
          .get(`${downstream.url}/stock`, (response) => {
            response.resume();
            response.on('end', resolve);
          })
          .on('error', reject);
      }),
  );
}

function clientSpans(harness: Harness) {
  return harness.spans.filter((span) => span.kind === SpanKind.CLIENT);
}

describe('a mock that restores http.get after tracing was installed again', () => {
  it('keeps the live tracer tracing, and lets go of the replaced one once nothing traces', async () => {
    // Only what the test looks at is kept of the first installation: the rest is garbage once nothing holds it.
    const { firstSpans, firstTracer } = (() => {
      const first = installHarness();
      return { firstSpans: first.spans, firstTracer: new WeakRef(first.tracer) };
    })();
    nock.activate(); // the mock's http.get over the first installation's
    const second = installHarness(); // replaces the first, whose wrapper the mock keeps under its own
    nock.restore(); // puts the first installation's wrapper back in http.get

    await callUnder(second);
    // Before: the restored wrapper was the first installation's, inactive: calls went out untraced, and it held
    // the first tracer (and all it holds) for as long as http.get stayed that way.
    expect(downstream.received.at(-1)?.headers['traceparent']).toMatch(/^00-/);
    expect(clientSpans(second)).toHaveLength(1);
    expect(firstSpans).toEqual([]);

    second.uninstall();
    await callUnder(second);
    expect(downstream.received.at(-1)?.headers['traceparent']).toBeUndefined();
    expect(clientSpans(second)).toHaveLength(1); // none more
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    for (let i = 0; i < 3 && firstTracer.deref() !== undefined; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      gc();
    }
    expect(firstTracer.deref()).toBeUndefined();
    expect(http.get).not.toBe(realGet); // the released wrapper stays: the mock put it there
  });
});
