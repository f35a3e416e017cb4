import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';

// A TypeScript app type-checks against the published declarations (dist/*.d.ts for import, dist/*.d.cts for
// require), as users compile it: strict, library files checked too, in an ES module and in a CommonJS file.
const root = fileURLToPath(new URL('..', import.meta.url));
// Inside the repository, so that `@tracewire/*` and the frameworks resolve as they do for an installed app.
const dir = mkdtempSync(join(root, 'test', '.types-consumer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const app = `
import { w3cTraceContext } from '@tracewire/core';
import { tracing as expressTracing } from '@tracewire/express';
import { tracing as fastifyTracing } from '@tracewire/fastify';
import { tracing as koaTracing } from '@tracewire/koa';
import expressDefault from '@tracewire/express';
import fastifyDefault from '@tracewire/fastify';
import koaDefault from '@tracewire/koa';
import {
  Baggage,
  configure,
  getActiveBaggage,
  getActiveSpan,
  getTracer,
  type Propagator,
  type SpanContext,
  TraceState,
} from '@tracewire/node';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';

configure({ serviceName: 'types', propagators: w3cTraceContext, sampler: 'parentbased_always_on' });
express().use(expressTracing({ ignore: ['/health'] }));
new Koa().use(koaTracing());
Fastify().register(fastifyTracing, { ignore: ['/health'] });
express().use(expressDefault());
new Koa().use(koaDefault({ ignore: ['/health'] }));
Fastify().register(fastifyDefault);
// The core types @tracewire/node's API uses are named through it, with no dependency on @tracewire/core.
const propagator: Propagator = w3cTraceContext;
const context: SpanContext | undefined = getActiveSpan()?.spanContext();
const baggage: Baggage = getActiveBaggage() ?? Baggage.empty();
const state: TraceState | undefined = context?.traceState ?? TraceState.empty();
console.log(propagator.fields, baggage.size, state?.serialize());
getTracer().startActiveSpan('work', (span) => {
  span.setAttribute('app.ok', getActiveSpan() === span);
  span.end();
});
`;

// One project with both files: node16 resolution takes the `import` declarations for app.mts and the `require`
// ones for app.cts (a bundler's resolution takes the `import` ones too).
it('type-checks as an ES module and as a CommonJS module', () => {
  for (const file of ['app.mts', 'app.cts']) writeFileSync(join(dir, file), app);
  const config = {
    compilerOptions: {
      target: 'es2022',
      module: 'node16',
      moduleResolution: 'node16',
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      esModuleInterop: true,
      types: ['node'],
    },
    files: ['app.mts', 'app.cts'],
  };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(config));
  let output = '';
  try {
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], {
      cwd: dir,
      encoding: 'utf8',
    });
  } catch (error) {
    output = String((error as { stdout?: string }).stdout ?? error);
  }
  expect(output).toBe('');
}, 60_000);
