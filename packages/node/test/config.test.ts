import { defaultPropagator, type Propagator } from '@tracewire/core';
import { describe, expect, it, vi } from 'vitest';
import { resolveConfig, type TracewireOptions } from '../src/config.js';
import { readEnv } from '../src/env.js';
import { warnOfEnv } from '../src/env-warning.js';
import { alwaysOn } from '../src/sampler.js';
import type { SpanExporter } from '../src/span-data.js';
import { SpanCollector } from './span-collector.js';

const resolve = (options: TracewireOptions = {}, env: NodeJS.ProcessEnv = {}) => resolveConfig(options, env);
const exporter: SpanExporter = { export: async () => ({ code: 0 }), shutdown: async () => {} };

describe('readEnv', () => {
  it('leaves everything undefined when nothing is set, and treats empty values as unset', () => {
    const env = readEnv({ OTEL_SDK_DISABLED: '', OTEL_TRACES_EXPORTER: '  ', OTEL_BSP_MAX_QUEUE_SIZE: '' });
    expect(env.disabled).toBeUndefined();
    expect(env.exporters).toBeUndefined();
    expect(env.batch).toEqual({
      scheduledDelayMillis: undefined,
      exportTimeoutMillis: undefined,
      maxQueueSize: undefined,
      maxExportBatchSize: undefined,
    });
  });

  it('reads every supported variable', () => {
    const env = readEnv({
      OTEL_SDK_DISABLED: 'TRUE',
      OTEL_TRACES_EXPORTER: 'otlp, console,otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_HEADERS: 'api-key=abc%20def,x=1',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x=2',
      OTEL_EXPORTER_OTLP_TIMEOUT: '2000',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_ZIPKIN_ENDPOINT: 'http://zipkin:9411/api/v2/spans',
      OTEL_EXPORTER_ZIPKIN_TIMEOUT: '3000',
      OTEL_PROPAGATORS: 'b3multi',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
      OTEL_BSP_SCHEDULE_DELAY: '500',
      OTEL_BSP_EXPORT_TIMEOUT: '10000',
      OTEL_BSP_MAX_QUEUE_SIZE: '100',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '50',
      OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '1000',
      OTEL_ATTRIBUTE_COUNT_LIMIT: '64',
      OTEL_SPAN_EVENT_COUNT_LIMIT: '10',
      OTEL_SPAN_LINK_COUNT_LIMIT: '5',
      OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT: '4',
      OTEL_LINK_ATTRIBUTE_COUNT_LIMIT: '3',
    });
    expect(env).toEqual({
      disabled: true,
      exporters: ['otlp', 'console'],
      otlp: {
        url: 'http://collector:4318/v1/traces',
        headers: { 'api-key': 'abc def', x: '2' },
        timeoutMillis: 2000,
        compression: 'gzip',
        protocol: 'http/json',
      },
      zipkin: { url: 'http://zipkin:9411/api/v2/spans', timeoutMillis: 3000 },
      propagators: 'b3multi',
      sampler: 'parentbased_traceidratio',
      samplerArg: '0.25',
      batch: {
        scheduledDelayMillis: 500,
        exportTimeoutMillis: 10000,
        maxQueueSize: 100,
        maxExportBatchSize: 50,
      },
      spanLimits: {
        attributeCountLimit: 64,
        attributeValueLengthLimit: 1000,
        eventCountLimit: 10,
        linkCountLimit: 5,
        eventAttributeCountLimit: 4,
        linkAttributeCountLimit: 3,
      },
    });
  });

  it('prefers the traces-specific OTLP variables over the generic ones', () => {
    const env = readEnv({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://generic:4318/',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:4318/custom/path',
      OTEL_EXPORTER_OTLP_TIMEOUT: '1',
      OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '2',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'none',
      OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: 'gzip',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
    });
    expect(env.otlp).toMatchObject({
      url: 'http://traces:4318/custom/path',
      timeoutMillis: 2,
      compression: 'gzip',
      protocol: 'http/protobuf',
    });
  });

  it('appends v1/traces to OTEL_EXPORTER_OTLP_ENDPOINT with or without a trailing slash', () => {
    expect(readEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' }).otlp.url).toBe(
      'http://c:4318/v1/traces',
    );
    expect(readEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c/base' }).otlp.url).toBe(
      'https://c/base/v1/traces',
    );
  });

  it('appends v1/traces to the path of OTEL_EXPORTER_OTLP_ENDPOINT, not to its query string', () => {
    expect(readEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c/base?tenant=a' }).otlp.url).toBe(
      'https://c/base/v1/traces?tenant=a',
    );
    expect(readEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318?tenant=a' }).otlp.url).toBe(
      'http://c:4318/v1/traces?tenant=a',
    );
  });

  it('prefers the span-specific attribute limits over the generic ones', () => {
    const env = readEnv({
      OTEL_ATTRIBUTE_COUNT_LIMIT: '10',
      OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: '20',
      OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '30',
      OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: '40',
    });
    expect(env.spanLimits).toMatchObject({ attributeCountLimit: 20, attributeValueLengthLimit: 40 });
  });

  // OpenTelemetry SDK environment variable spec: an invalid value MUST be warned of and ignored, never fatal.
  describe('warns of invalid values, naming the variable and the accepted values, and ignores them', () => {
    const cases: [string, string, string][] = [
      ['OTEL_SDK_DISABLED', 'yes', 'OTEL_SDK_DISABLED must be true or false; got "yes"'],
      [
        'OTEL_EXPORTER_OTLP_ENDPOINT',
        'collector:4318',
        'OTEL_EXPORTER_OTLP_ENDPOINT must be an absolute http:// or https:// URL; got "collector:4318"',
      ],
      [
        'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
        'not a url',
        'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must be an absolute http:// or https:// URL; got "not a url"',
      ],
      [
        // Written with a colon by mistake: the message must not quote the credential.
        'OTEL_EXPORTER_OTLP_HEADERS',
        'Authorization: Bearer sk_live_SECRET',
        'OTEL_EXPORTER_OTLP_HEADERS: expected comma-separated key=value pairs; entry 1 has no key=; that entry is left out.',
      ],
      [
        'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
        'a=%zz',
        'OTEL_EXPORTER_OTLP_TRACES_HEADERS: invalid percent-encoding in entry 1 (expected %XX escapes)',
      ],
      [
        'OTEL_EXPORTER_OTLP_HEADERS',
        'api key=secret',
        'OTEL_EXPORTER_OTLP_HEADERS: "api key" is not a valid HTTP header name',
      ],
      [
        'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
        'authorization=Bearer%0Asecret',
        'OTEL_EXPORTER_OTLP_TRACES_HEADERS: the value of "authorization" is not a valid HTTP header value',
      ],
      ['OTEL_EXPORTER_OTLP_TIMEOUT', '10s', 'OTEL_EXPORTER_OTLP_TIMEOUT must be an integer >= 1; got "10s"'],
      [
        'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT',
        '0',
        'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT must be an integer >= 1 (0, no limit, is not supported); got "0"; the variable is ignored and OTEL_EXPORTER_OTLP_TIMEOUT (or its default) used.',
      ],
      [
        'OTEL_EXPORTER_OTLP_COMPRESSION',
        'brotli',
        'OTEL_EXPORTER_OTLP_COMPRESSION must be one of gzip, none; got "brotli"',
      ],
      [
        'OTEL_EXPORTER_OTLP_TRACES_COMPRESSION',
        'zip',
        'OTEL_EXPORTER_OTLP_TRACES_COMPRESSION must be one of gzip, none; got "zip"',
      ],
      [
        'OTEL_EXPORTER_OTLP_PROTOCOL',
        'grpc',
        "OTEL_EXPORTER_OTLP_PROTOCOL: grpc is not supported; use one of http/protobuf, http/json, with the endpoint of the collector's OTLP/HTTP receiver (port 4318, not gRPC's 4317)",
      ],
      [
        'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
        'http/xml',
        'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL must be one of http/protobuf, http/json; got "http/xml"',
      ],
      [
        'OTEL_EXPORTER_ZIPKIN_ENDPOINT',
        'ftp://zipkin/spans',
        'OTEL_EXPORTER_ZIPKIN_ENDPOINT must be an absolute http:// or https:// URL; got "ftp://zipkin/spans"',
      ],
      [
        'OTEL_EXPORTER_ZIPKIN_TIMEOUT',
        '-5',
        'OTEL_EXPORTER_ZIPKIN_TIMEOUT must be an integer >= 1 (0, no limit, is not supported); got "-5"',
      ],
      [
        'OTEL_TRACES_SAMPLER',
        'sometimes',
        'OTEL_TRACES_SAMPLER must be one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio, ratelimited, parentbased_ratelimited; got "sometimes"',
      ],
      ['OTEL_BSP_SCHEDULE_DELAY', '-1', 'OTEL_BSP_SCHEDULE_DELAY must be an integer >= 0; got "-1"'],
      ['OTEL_BSP_EXPORT_TIMEOUT', '1.5', 'OTEL_BSP_EXPORT_TIMEOUT must be an integer >= 1; got "1.5"'],
      ['OTEL_BSP_MAX_QUEUE_SIZE', 'big', 'OTEL_BSP_MAX_QUEUE_SIZE must be an integer >= 1; got "big"'],
      [
        'OTEL_BSP_MAX_EXPORT_BATCH_SIZE',
        '0',
        'OTEL_BSP_MAX_EXPORT_BATCH_SIZE must be an integer >= 1; got "0"',
      ],
      [
        'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT',
        '-1',
        'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT must be an integer >= 0; got "-1"',
      ],
      ['OTEL_ATTRIBUTE_COUNT_LIMIT', 'x', 'OTEL_ATTRIBUTE_COUNT_LIMIT must be an integer >= 0; got "x"'],
      [
        'OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT',
        '1e3',
        'OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT must be an integer >= 0; got "1e3"',
      ],
      [
        'OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT',
        '-2',
        'OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT must be an integer >= 0; got "-2"',
      ],
      [
        'OTEL_SPAN_EVENT_COUNT_LIMIT',
        'many',
        'OTEL_SPAN_EVENT_COUNT_LIMIT must be an integer >= 0; got "many"',
      ],
      ['OTEL_SPAN_LINK_COUNT_LIMIT', '-1', 'OTEL_SPAN_LINK_COUNT_LIMIT must be an integer >= 0; got "-1"'],
      [
        'OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT',
        '2.5',
        'OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT must be an integer >= 0; got "2.5"',
      ],
      [
        'OTEL_LINK_ATTRIBUTE_COUNT_LIMIT',
        '-9',
        'OTEL_LINK_ATTRIBUTE_COUNT_LIMIT must be an integer >= 0; got "-9"',
      ],
    ];
    it.each(cases)('%s=%s', (name, value, message) => {
      const warnings: string[] = [];
      const env = readEnv({ [name]: value }, (warning) => warnings.push(warning));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(message);
      expect(env).toEqual(readEnv({}));
    });

    it('refuses a timeout of 0 (no limit: a hung export would hold its slot for good) and takes a delay of 0', () => {
      const warnings: string[] = [];
      const env = readEnv({ OTEL_BSP_EXPORT_TIMEOUT: '0', OTEL_BSP_SCHEDULE_DELAY: '0' }, (warning) =>
        warnings.push(warning),
      );
      expect(warnings).toEqual([
        'tracewire: OTEL_BSP_EXPORT_TIMEOUT must be an integer >= 1 (0, no limit, is not supported); got "0"; the variable is ignored and its default used.',
      ]);
      expect(env.batch.exportTimeoutMillis).toBeUndefined();
      expect(env.batch.scheduledDelayMillis).toBe(0);
    });

    it('leaves out a malformed header entry or header alone, keeping the others', () => {
      const warnings: string[] = [];
      const env = readEnv(
        {
          OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20x,Api-Key: SECRET,x-ok=1,bad name=2,x-pct=%zz',
          OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-traces=3',
        },
        (warning) => warnings.push(warning),
      );
      expect(env.otlp.headers).toEqual({ authorization: 'Bearer x', 'x-ok': '1', 'x-traces': '3' });
      expect(warnings).toEqual([
        'tracewire: OTEL_EXPORTER_OTLP_HEADERS: expected comma-separated key=value pairs; entry 2 has no key=; that entry is left out.',
        'tracewire: OTEL_EXPORTER_OTLP_HEADERS: invalid percent-encoding in entry 5 (expected %XX escapes); that entry is left out.',
        'tracewire: OTEL_EXPORTER_OTLP_HEADERS: "bad name" is not a valid HTTP header name; that header is left out.',
      ]);
      expect(warnings.join('\n')).not.toContain('SECRET');
    });

    it.each([
      ['OTEL_TRACES_EXPORTER', 'none,otlp', 'exporters'],
      ['OTEL_PROPAGATORS', 'tracecontext, NONE', 'propagators'],
    ])('lets none win when %s=%s lists it with others, with a warning', (name, value, what) => {
      const warnings: string[] = [];
      const config = resolveConfig({}, { [name]: value }, (warning) => warnings.push(warning));
      expect(warnings).toEqual([
        `tracewire: ${name}: "none" cannot be combined with other ${what}; got ${JSON.stringify(value)}; it is read as none, unless a code option sets it.`,
      ]);
      if (name === 'OTEL_TRACES_EXPORTER') expect(config.exporters).toEqual([]);
      else {
        const carrier: Record<string, string> = {};
        config.propagator.inject(
          {
            spanContext: {
              traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
              spanId: '00f067aa0ba902b7',
              traceFlags: 1,
            },
          },
          carrier,
        );
        expect(carrier).toEqual({});
      }
    });

    it('quotes at most 100 characters of a value, and never the userinfo of an endpoint', () => {
      const warnings: string[] = [];
      readEnv(
        {
          OTEL_TRACES_SAMPLER: 'x'.repeat(5000),
          OTEL_EXPORTER_OTLP_ENDPOINT: 'user:s3cret-token@collector:4318',
          OTEL_EXPORTER_ZIPKIN_ENDPOINT: 'ftp://me:p/w#x@y@zipkin/spans',
        },
        (warning) => warnings.push(warning),
      );
      expect(warnings).toEqual([
        'tracewire: OTEL_EXPORTER_OTLP_ENDPOINT must be an absolute http:// or https:// URL; got "***@collector:4318"; the variable is ignored and its default used.',
        'tracewire: OTEL_EXPORTER_ZIPKIN_ENDPOINT must be an absolute http:// or https:// URL; got "ftp://***@zipkin/spans"; the variable is ignored and its default used.',
        `tracewire: OTEL_TRACES_SAMPLER must be one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio, ratelimited, parentbased_ratelimited; got "${'x'.repeat(100)}"… (5000 characters); the variable is ignored and its default used.`,
      ]);
    });

    it('says where spans go when OTEL_EXPORTER_OTLP_ENDPOINT is given the full traces URL, as the spec appends', () => {
      const warnings: string[] = [];
      const env = readEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/v1/traces' }, (warning) =>
        warnings.push(warning),
      );
      expect(env.otlp.url).toBe('http://collector:4318/v1/traces/v1/traces');
      expect(warnings).toEqual([
        'tracewire: OTEL_EXPORTER_OTLP_ENDPOINT already ends in /v1/traces, and /v1/traces is appended to it (it is a base URL); spans go to …/v1/traces/v1/traces; OTEL_EXPORTER_OTLP_TRACES_ENDPOINT takes a full URL.',
      ]);
      const quiet: string[] = [];
      readEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/otlp' }, (warning) =>
        quiet.push(warning),
      );
      expect(quiet).toEqual([]);
    });

    it('warns of an OTEL_LOG_LEVEL it does not know', () => {
      const warnings: string[] = [];
      readEnv({ OTEL_LOG_LEVEL: 'loud' }, (warning) => warnings.push(warning));
      readEnv({ OTEL_LOG_LEVEL: 'ERROR' }, (warning) => warnings.push(warning));
      expect(warnings).toEqual([
        'tracewire: OTEL_LOG_LEVEL must be one of none, error, warn, info, debug, verbose, all; got "loud"; warnings stay on.',
      ]);
    });

    it('leaves out an unknown exporter name and keeps the known ones', () => {
      const warnings: string[] = [];
      const env = readEnv({ OTEL_TRACES_EXPORTER: 'otlp,jaeger' }, (warning) => warnings.push(warning));
      expect(env.exporters).toEqual(['otlp']);
      expect(warnings).toEqual([
        'tracewire: OTEL_TRACES_EXPORTER: unknown exporter "jaeger"; accepted values: otlp, zipkin, console, none; it is left out.',
      ]);
    });

    it('starts (getTracer) with every variable invalid at once, as with none set', () => {
      const warnings: string[] = [];
      const env: NodeJS.ProcessEnv = Object.fromEntries(cases.map(([name, value]) => [name, value]));
      env.OTEL_TRACES_SAMPLER_ARG = '7';
      env.OTEL_PROPAGATORS = 'xray';
      env.OTEL_RESOURCE_ATTRIBUTES = 'novalue';
      const config = resolveConfig({}, env, (warning) => warnings.push(warning));
      expect(config.disabled).toBe(false);
      expect(config.propagator).toBe(defaultPropagator);
      expect(config.exporters).toEqual([{ kind: 'otlp', options: expect.any(Object) }]);
      expect(warnings.length).toBeGreaterThanOrEqual(cases.length);
    });
  });
});

describe('warnOfEnv', () => {
  it('says each thing once: the variables are read again by every configure() and adapter', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      warnOfEnv('tracewire: once');
      warnOfEnv('tracewire: once');
      warnOfEnv('tracewire: another');
      expect(warn.mock.calls).toEqual([['tracewire: once'], ['tracewire: another']]);
    } finally {
      warn.mockRestore();
    }
  });
});

describe('resolveConfig', () => {
  it('defaults to parent-based always-on, the default propagator, one OTLP exporter and signal hooks', () => {
    const config = resolve();
    expect(config.disabled).toBe(false);
    expect(String(config.sampler)).toMatch(/^ParentBased\{root=AlwaysOnSampler/);
    expect(config.propagator).toBe(defaultPropagator);
    expect(config.exporters).toEqual([{ kind: 'otlp', options: expect.any(Object) }]);
    expect(config.batch).toEqual({});
    expect(config.spanLimits).toEqual({});
    expect(config.shutdownOnSignals).toEqual({ timeoutMillis: 5000 });
    expect(config.instrumentOutgoing).toEqual({});
  });

  it('exports nothing by default when processors are given in code, unless an exporter is asked for', () => {
    const processors = [new SpanCollector()];
    expect(resolve({ processors }).exporters).toEqual([]);
    expect(resolve({ processors }, { OTEL_TRACES_EXPORTER: 'console' }).exporters).toEqual([
      { kind: 'console' },
    ]);
    expect(resolve({ processors, exporters: 'zipkin' }).exporters.map((e) => e.kind)).toEqual(['zipkin']);
    expect(resolve({ processors }).processors).toEqual(processors);
  });

  it('builds exporter specs from names, comma lists and objects', () => {
    expect(resolve({ exporters: 'otlp,console' }).exporters.map((e) => e.kind)).toEqual(['otlp', 'console']);
    expect(resolve({ exporters: 'none' }).exporters).toEqual([]);
    expect(resolve({ exporters: [exporter, 'console'] }).exporters).toEqual([
      { kind: 'custom', exporter },
      { kind: 'console' },
    ]);
    expect(resolve({ exporters: exporter }).exporters).toEqual([{ kind: 'custom', exporter }]);
    expect(resolve({}, { OTEL_TRACES_EXPORTER: 'none' }).exporters).toEqual([]);
  });

  it('lets code options win over the environment, field by field', () => {
    const env = {
      OTEL_SDK_DISABLED: 'true',
      OTEL_TRACES_EXPORTER: 'zipkin',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://env:4318',
      OTEL_EXPORTER_OTLP_HEADERS: 'a=env,b=env',
      OTEL_EXPORTER_OTLP_TIMEOUT: '1000',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_ZIPKIN_ENDPOINT: 'http://zipkin-env:9411/api/v2/spans',
      OTEL_TRACES_SAMPLER: 'always_off',
      OTEL_PROPAGATORS: 'b3',
      OTEL_BSP_MAX_QUEUE_SIZE: '100',
      OTEL_BSP_SCHEDULE_DELAY: '50',
      OTEL_SPAN_EVENT_COUNT_LIMIT: '1',
      OTEL_SPAN_LINK_COUNT_LIMIT: '2',
    };
    const propagator = { name: 'mine', fields: [], inject() {}, extract: () => ({}) } as Propagator;
    const config = resolve(
      {
        disabled: false,
        exporters: ['otlp', 'zipkin'],
        otlp: { endpoint: 'http://code:4318', headers: { b: 'code' }, protocol: 'http/protobuf' },
        zipkin: { endpoint: 'http://zipkin-code:9411/api/v2/spans' },
        sampler: 'always_on',
        propagators: propagator,
        batch: { maxQueueSize: 4096 },
        spanLimits: { eventCountLimit: 7 },
      },
      env,
    );
    expect(config.disabled).toBe(false);
    expect(config.exporters).toEqual([
      {
        kind: 'otlp',
        options: {
          url: 'http://code:4318/v1/traces',
          headers: { a: 'env', b: 'code' },
          timeoutMillis: 1000,
          compression: undefined,
          protocol: 'http/protobuf',
        },
      },
      {
        kind: 'zipkin',
        options: {
          url: 'http://zipkin-code:9411/api/v2/spans',
          headers: undefined,
          timeoutMillis: undefined,
        },
      },
    ]);
    expect(config.sampler).toBe(alwaysOn);
    expect(config.propagator).toBe(propagator);
    expect(config.batch).toEqual({ maxQueueSize: 4096, scheduledDelayMillis: 50 });
    expect(config.spanLimits).toEqual({ eventCountLimit: 7, linkCountLimit: 2 });
  });

  it('accepts a queue smaller than the default batch size alone: batches then default to the queue size', () => {
    expect(resolve({}, { OTEL_BSP_MAX_QUEUE_SIZE: '100' }).batch).toEqual({ maxQueueSize: 100 });
    expect(resolve({ batch: { maxQueueSize: 64 } }).batch).toEqual({ maxQueueSize: 64 });
    expect(() => resolve({ batch: { maxQueueSize: 100, maxExportBatchSize: 200 } })).toThrow(RangeError);
  });

  it('takes the OTLP traces endpoint from code as is, over the environment', () => {
    const config = resolve(
      { otlp: { tracesEndpoint: 'http://code/exact' } },
      { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://env/traces' },
    );
    expect(config.exporters[0]).toMatchObject({ kind: 'otlp', options: { url: 'http://code/exact' } });
    expect(
      resolve({}, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://env/traces' }).exporters[0],
    ).toMatchObject({
      options: { url: 'http://env/traces' },
    });
  });

  it('builds each named sampler, with OTEL_TRACES_SAMPLER_ARG', () => {
    const sampler = (name: string, arg?: string) =>
      String(
        resolve(
          {},
          { OTEL_TRACES_SAMPLER: name, ...(arg === undefined ? {} : { OTEL_TRACES_SAMPLER_ARG: arg }) },
        ).sampler,
      );
    expect(sampler('always_on')).toBe('AlwaysOnSampler');
    expect(sampler('always_off')).toBe('AlwaysOffSampler');
    expect(sampler('traceidratio')).toBe('TraceIdRatioBased{1}');
    expect(sampler('traceidratio', '0.1')).toBe('TraceIdRatioBased{0.1}');
    expect(sampler('parentbased_always_off')).toMatch(/^ParentBased\{root=AlwaysOffSampler,/);
    expect(sampler('parentbased_traceidratio', '0.5')).toMatch(
      /^ParentBased\{root=TraceIdRatioBased\{0.5\},/,
    );
    expect(sampler('ratelimited')).toBe('RateLimitingSampler{100}');
    expect(sampler('parentbased_ratelimited', '20')).toMatch(/^ParentBased\{root=RateLimitingSampler\{20\},/);
    expect(String(resolve({ sampler: 'traceidratio' }, { OTEL_TRACES_SAMPLER_ARG: '0.3' }).sampler)).toBe(
      'TraceIdRatioBased{0.3}',
    );
  });

  it('applies OTEL_SDK_DISABLED: no exporters, processors or signal hooks, but propagation and outgoing stay', () => {
    const config = resolve(
      { processors: [new SpanCollector()] },
      { OTEL_SDK_DISABLED: 'true', OTEL_PROPAGATORS: 'b3' },
    );
    expect(config.disabled).toBe(true);
    expect(config.exporters).toEqual([]);
    expect(config.processors).toEqual([]);
    expect(config.shutdownOnSignals).toBe(false);
    expect(config.instrumentOutgoing).toEqual({});
    expect(config.propagator.fields).toContain('b3');
    expect(resolve({ disabled: true }).disabled).toBe(true);
    expect(resolve({ disabled: false }, { OTEL_SDK_DISABLED: 'true' }).disabled).toBe(false);
  });

  it('accepts shutdownOnSignals and instrumentOutgoing as booleans or objects', () => {
    expect(resolve({ shutdownOnSignals: false }).shutdownOnSignals).toBe(false);
    expect(resolve({ shutdownOnSignals: { timeoutMillis: 100 } }).shutdownOnSignals).toEqual({
      timeoutMillis: 100,
    });
    expect(resolve({ instrumentOutgoing: false }).instrumentOutgoing).toBe(false);
    expect(resolve({ instrumentOutgoing: { traceRootCalls: true } }).instrumentOutgoing).toEqual({
      traceRootCalls: true,
    });
  });

  describe('rejects invalid code options, naming the option and the accepted values', () => {
    const cases: [string, TracewireOptions, ErrorConstructor, string][] = [
      ['options', 5 as never, TypeError, 'tracewire options must be an object; got 5'],
      ['disabled', { disabled: 'yes' as never }, TypeError, 'disabled must be true or false; got "yes"'],
      ['serviceName', { serviceName: '' }, TypeError, 'serviceName must be a non-empty string; got ""'],
      [
        'serviceVersion',
        { serviceVersion: 1 as never },
        TypeError,
        'serviceVersion must be a non-empty string; got 1',
      ],
      [
        'resourceAttributes',
        { resourceAttributes: [] as never },
        TypeError,
        'resourceAttributes must be an object; got an array',
      ],
      [
        'sampler name',
        { sampler: 'maybe' as never },
        RangeError,
        'sampler must be one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio, ratelimited, parentbased_ratelimited; got "maybe"',
      ],
      [
        'sampler object',
        { sampler: {} as never },
        TypeError,
        'sampler must be a Sampler or one of always_on',
      ],
      [
        'propagators name',
        { propagators: 'tracecontext,xray' },
        RangeError,
        'propagators: unknown propagator "xray"; accepted values: tracecontext, baggage, b3, b3multi, jaeger, none',
      ],
      [
        'propagators object',
        { propagators: {} as never },
        TypeError,
        'propagators must be a Propagator or a comma list',
      ],
      [
        'exporters name',
        { exporters: 'otlp,kafka' },
        RangeError,
        'exporters must be one of otlp, zipkin, console, none; got "kafka"',
      ],
      [
        'exporters entry',
        { exporters: [{}] as never },
        TypeError,
        'exporters must be SpanExporter objects or names among otlp, zipkin, console, none; got an object',
      ],
      ['otlp', { otlp: 'x' as never }, TypeError, 'otlp must be an object; got "x"'],
      [
        'otlp.endpoint',
        { otlp: { endpoint: 'localhost:4318' } },
        RangeError,
        'otlp.endpoint must be an absolute http:// or https:// URL; got "localhost:4318"',
      ],
      [
        'otlp.tracesEndpoint',
        { otlp: { tracesEndpoint: '/v1/traces' } },
        TypeError,
        'otlp.tracesEndpoint must be an absolute http:// or https:// URL; got "/v1/traces"',
      ],
      [
        'otlp.headers',
        { otlp: { headers: { a: 1 } as never } },
        TypeError,
        'otlp.headers.a must be a string; got 1',
      ],
      [
        'otlp.headers (name)',
        { otlp: { headers: { 'x-api-key ': 'k' } } },
        TypeError,
        'otlp.headers: "x-api-key " is not a valid HTTP header name',
      ],
      [
        'zipkin.headers (value)',
        { exporters: 'zipkin', zipkin: { headers: { authorization: 'token ✓' } } },
        TypeError,
        'zipkin.headers: the value of "authorization" is not a valid HTTP header value',
      ],
      [
        'otlp.timeoutMillis',
        { otlp: { timeoutMillis: 0 } },
        RangeError,
        'otlp.timeoutMillis must be an integer >= 1; got 0',
      ],
      [
        'otlp.compression',
        { otlp: { compression: 'br' as never } },
        RangeError,
        'otlp.compression must be one of gzip, none; got "br"',
      ],
      [
        'otlp.protocol',
        { otlp: { protocol: 'grpc' as never } },
        RangeError,
        'otlp.protocol must be one of http/protobuf, http/json; got "grpc"',
      ],
      [
        'zipkin.endpoint',
        { exporters: 'zipkin', zipkin: { endpoint: 'zipkin' } },
        TypeError,
        'zipkin.endpoint must be an absolute http:// or https:// URL; got "zipkin"',
      ],
      [
        'zipkin.timeoutMillis',
        { exporters: 'zipkin', zipkin: { timeoutMillis: 1.5 } },
        TypeError,
        'zipkin.timeoutMillis must be an integer >= 1; got 1.5',
      ],
      ['batch', { batch: 1 as never }, TypeError, 'batch must be an object; got 1'],
      [
        'batch.maxQueueSize',
        { batch: { maxQueueSize: 0 } },
        RangeError,
        'batch.maxQueueSize must be an integer >= 1; got 0',
      ],
      [
        'batch.maxExportBatchSize',
        { batch: { maxExportBatchSize: '5' as never } },
        TypeError,
        'batch.maxExportBatchSize must be an integer >= 1; got "5"',
      ],
      [
        'batch.scheduledDelayMillis',
        { batch: { scheduledDelayMillis: -1 } },
        RangeError,
        'batch.scheduledDelayMillis must be an integer >= 0; got -1',
      ],
      [
        'batch.exportTimeoutMillis',
        { batch: { exportTimeoutMillis: Number.NaN } },
        TypeError,
        'batch.exportTimeoutMillis must be an integer >= 1; got NaN',
      ],
      [
        'batch.maxConcurrentExports',
        { batch: { maxConcurrentExports: 0 } },
        RangeError,
        'batch.maxConcurrentExports must be an integer >= 1; got 0',
      ],
      [
        'batch sizes',
        { batch: { maxQueueSize: 10, maxExportBatchSize: 20 } },
        RangeError,
        'batch.maxExportBatchSize (OTEL_BSP_MAX_EXPORT_BATCH_SIZE) must be <= batch.maxQueueSize (OTEL_BSP_MAX_QUEUE_SIZE); got 20 > 10',
      ],
      ['spanLimits', { spanLimits: 'none' as never }, TypeError, 'spanLimits must be an object; got "none"'],
      [
        'spanLimits.attributeCountLimit',
        { spanLimits: { attributeCountLimit: -1 } },
        RangeError,
        'spanLimits.attributeCountLimit must be an integer >= 0; got -1',
      ],
      [
        'spanLimits.attributeValueLengthLimit',
        { spanLimits: { attributeValueLengthLimit: 2.5 } },
        TypeError,
        'spanLimits.attributeValueLengthLimit must be an integer >= 0; got 2.5',
      ],
      [
        'spanLimits.eventCountLimit',
        { spanLimits: { eventCountLimit: '1' as never } },
        TypeError,
        'spanLimits.eventCountLimit must be an integer >= 0; got "1"',
      ],
      [
        'spanLimits.linkCountLimit',
        { spanLimits: { linkCountLimit: -3 } },
        RangeError,
        'spanLimits.linkCountLimit must be an integer >= 0; got -3',
      ],
      [
        'spanLimits.eventAttributeCountLimit',
        { spanLimits: { eventAttributeCountLimit: -1 } },
        RangeError,
        'spanLimits.eventAttributeCountLimit must be an integer >= 0; got -1',
      ],
      [
        'spanLimits.linkAttributeCountLimit',
        { spanLimits: { linkAttributeCountLimit: -1 } },
        RangeError,
        'spanLimits.linkAttributeCountLimit must be an integer >= 0; got -1',
      ],
      [
        'processors',
        { processors: {} as never },
        TypeError,
        'processors must be an array of SpanProcessor; got an object',
      ],
      [
        'processors entry',
        { processors: [{}] as never },
        TypeError,
        'processors must be an array of SpanProcessor (with onEnd); got an object',
      ],
      [
        'shutdownOnSignals',
        { shutdownOnSignals: 'yes' as never },
        TypeError,
        'shutdownOnSignals must be a boolean or { timeoutMillis }; got "yes"',
      ],
      [
        'shutdownOnSignals.timeoutMillis',
        { shutdownOnSignals: { timeoutMillis: -1 } },
        RangeError,
        'shutdownOnSignals.timeoutMillis must be an integer >= 0; got -1',
      ],
      [
        'instrumentOutgoing',
        { instrumentOutgoing: 'all' as never },
        TypeError,
        'instrumentOutgoing must be a boolean or an OutgoingOptions object; got "all"',
      ],
    ];
    it.each(cases)('%s', (_label, options, type, message) => {
      expect(() => resolve(options)).toThrow(type);
      expect(() => resolve(options)).toThrow(message);
    });

    // A misspelt key would otherwise be ignored without a word, and the app run with a setting it did not ask for.
    it.each([
      ['a top-level option', { exporter: 'console' }, "unknown option 'exporter'; accepted: serviceName,"],
      [
        'an otlp option',
        { otlp: { endpont: 'http://c:4318' } },
        "unknown otlp option 'endpont'; accepted: endpoint,",
      ],
      [
        'a zipkin option',
        { zipkin: { url: 'http://z:9411' } },
        "unknown zipkin option 'url'; accepted: endpoint,",
      ],
      [
        'an otlp.tls option',
        { otlp: { tls: { certificate: 'x' } } },
        "unknown otlp.tls option 'certificate'",
      ],
      [
        'a batch option',
        { batch: { maxQueue: 10 } },
        "unknown batch option 'maxQueue'; accepted: maxQueueSize,",
      ],
      [
        'a spanLimits option',
        { spanLimits: { attributeLimit: 5 } },
        "unknown spanLimits option 'attributeLimit'",
      ],
      [
        'a shutdownOnSignals option',
        { shutdownOnSignals: { timeout: 1 } },
        "unknown shutdownOnSignals option 'timeout'",
      ],
      [
        'an instrumentOutgoing option',
        { instrumentOutgoing: { propagateTO: [] } },
        "unknown instrumentOutgoing option 'propagateTO'; accepted: traceRootCalls, propagateTo,",
      ],
    ])('rejects %s it does not know, listing the accepted ones', (_label, options, message) => {
      expect(() => resolve(options as never)).toThrow(TypeError);
      expect(() => resolve(options as never)).toThrow(message);
    });

    it('checks the otlp and zipkin options even when another exporter is chosen', () => {
      // Else OTEL_TRACES_EXPORTER choosing that exporter later would make the same code fail at start-up.
      for (const exporters of ['console', 'none'] as const) {
        expect(() => resolve({ exporters, otlp: { timeoutMillis: 0 } })).toThrow('otlp.timeoutMillis');
        expect(() => resolve({ exporters, zipkin: { endpoint: 'not a url' } })).toThrow('zipkin.endpoint');
      }
      expect(() => resolve({ otlp: { timeoutMillis: 0 } }, { OTEL_TRACES_EXPORTER: 'none' })).toThrow(
        RangeError,
      );
    });
  });

  describe('warns of invalid environment values that need context to check, and uses the defaults', () => {
    const warned = (env: NodeJS.ProcessEnv) => {
      const warnings: string[] = [];
      const config = resolveConfig({}, env, (warning) => warnings.push(warning));
      return { config, warnings: warnings.join('\n') };
    };
    const ALL_ONES = 'ffffffffffffffffffffffffffffffff';

    it.each([
      [
        'traceidratio',
        '1.5',
        'OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1 for traceidratio; got "1.5"',
      ],
      [
        'parentbased_traceidratio',
        'half',
        'OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1 for parentbased_traceidratio; got "half"',
      ],
      [
        'ratelimited',
        '-1',
        'OTEL_TRACES_SAMPLER_ARG must be a number of traces per second >= 0 for ratelimited; got "-1"',
      ],
    ])(
      'OTEL_TRACES_SAMPLER=%s with OTEL_TRACES_SAMPLER_ARG=%s: the sampler with its default argument',
      (sampler, arg, message) => {
        const { config, warnings } = warned({ OTEL_TRACES_SAMPLER: sampler, OTEL_TRACES_SAMPLER_ARG: arg });
        expect(warnings).toContain(message);
        // The default ratio (1.0) or rate (100/s) samples the first root span.
        expect(config.sampler.shouldSample(ALL_ONES, undefined, 'x', 0)).toBe(true);
      },
    );

    it('OTEL_PROPAGATORS: leaves out unknown names and keeps the rest; none known at all is the default', () => {
      const some = warned({ OTEL_PROPAGATORS: 'tracecontext,ottrace' });
      expect(some.warnings).toContain('OTEL_PROPAGATORS: unknown propagator "ottrace"');
      expect(some.config.propagator.fields).toEqual(['traceparent', 'tracestate']);
      expect(warned({ OTEL_PROPAGATORS: 'xray' }).config.propagator).toBe(defaultPropagator);
      expect(warned({ OTEL_PROPAGATORS: 'none,xray' }).config.propagator.fields).toEqual([]);
    });

    it('OTEL_BSP_MAX_EXPORT_BATCH_SIZE above the queue: batches of the whole queue', () => {
      const { config, warnings } = warned({
        OTEL_BSP_MAX_QUEUE_SIZE: '100',
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '200',
      });
      expect(warnings).toContain('got 200 > 100');
      expect(config.batch).toEqual({ maxQueueSize: 100, maxExportBatchSize: 100 });
    });
  });
});
