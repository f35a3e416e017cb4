import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// An app that `import`s @tracewire/node and `require`s an adapter loads both builds of @tracewire/node. They must
// act as one: the adapter records to the tracer the app configured, in the context the app reads.

describe('ES module app with a CommonJS adapter (two copies of @tracewire/node)', () => {
  it('records to the app’s tracer, with the server span (and ServerTracing.active()) active in the handler and parent of the outgoing call, which carries the tracestate and baggage one copy extracted and the other injects', () => {
    for (const file of [
      'packages/node/dist/index.cjs',
      'packages/node/dist/index.js',
      'packages/express/dist/index.cjs',
    ]) {
      if (!existsSync(file)) throw new Error(`${file} is missing: run \`pnpm build\` before these tests`);
    }
    const run = spawnSync(process.execPath, ['test/fixtures/dual/app.mjs'], {
      encoding: 'utf8',
      timeout: 15_000,
      env: { ...process.env, OTEL_TRACES_EXPORTER: 'none' },
    });
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as {
      spans: {
        name: string;
        kind: number;
        spanId: string;
        traceId: string;
        parentSpanId?: string;
        route?: string;
        status?: number;
      }[];
      activeInHandler?: string;
      activeTraceInHandler?: string;
      downstreamHeader?: string;
      downstreamTraceState?: string;
      downstreamBaggage?: string;
    };

    const server = report.spans.find((s) => s.name === 'GET /users/:id');
    const client = report.spans.find((s) => s.kind === 2 && s.parentSpanId === server?.spanId);
    expect(server).toBeDefined();
    // Set as the span ended, by the adapter's copy on the app's copy's span.
    expect(server).toMatchObject({ route: '/users/:id', status: 200 });
    expect(client).toBeDefined();
    expect(report.activeInHandler).toBe(server?.spanId);
    expect(report.activeTraceInHandler).toBe(server?.spanId);
    expect(server?.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(report.downstreamHeader).toBe(`00-${server?.traceId}-${client?.spanId}-01`);
    expect(report.downstreamTraceState).toBe('vendor=abc');
    expect(report.downstreamBaggage).toBe('user=alice');
  });
});

describe('configure() from one build after the other', () => {
  it('replaces the other build’s tracer, which still finishes its requests in flight', () => {
    const run = spawnSync(process.execPath, ['test/fixtures/dual/reconfigure.mjs'], {
      encoding: 'utf8',
      timeout: 15_000,
    });
    expect(run.status, run.stderr).toBe(0);
    // Before: TypeError (the new tracer reached for the replaced one's private members, another class's), with the
    // global tracer already switched.
    expect(JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}')).toEqual({
      threw: null,
      first: ['GET /slow'],
      second: ['GET /next'],
    });
  });
});
