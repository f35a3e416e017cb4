import { defaultPropagator, type Propagator, propagatorsFromNames } from '@tracewire/core';
import {
  appendTracesPath,
  COMPRESSIONS,
  type Compression,
  type EnvOptions,
  type ExporterName,
  OTLP_PROTOCOLS,
  type OtlpProtocol,
  parseExporterNames,
  readEnv,
  SAMPLER_NAMES,
  type SamplerName,
} from './env.js';
import { type EnvWarn, warnIgnored, warnOfEnv } from './env-warning.js';
import { checkTls, type ExporterTlsOptions } from './exporters/tls-options.js';
import {
  checkBoolean,
  checkHeaders,
  checkHttpUrl,
  checkInteger,
  checkKnownKeys,
  checkOneOf,
  checkString,
  checkStringRecord,
  commaList,
  describe,
  optionKeys,
} from './option-checks.js';
import type { OutgoingOptions } from './outgoing-options.js';
import { detectResource } from './resource.js';
import { alwaysOff, alwaysOn, type Sampler } from './sampler.js';
import { parentBased } from './sampler-parent-based.js';
import { rateLimited } from './sampler-rate-limited.js';
import { traceIdRatio } from './sampler-trace-id-ratio.js';
import type { Attributes, Resource, SpanExporter } from './span-data.js';
import type { SpanLimits } from './span-limits.js';
import type { SpanProcessor } from './span-processor.js';

export interface OtlpOptions {
  /** Base URL; `/v1/traces` is appended. Default `http://localhost:4318` (`OTEL_EXPORTER_OTLP_ENDPOINT`). */
  endpoint?: string;
  /** Full traces URL, used as is; wins over `endpoint` (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`). */
  tracesEndpoint?: string;
  /** Merged over `OTEL_EXPORTER_OTLP_HEADERS`. */
  headers?: Record<string, string>;
  /**
   * Budget for one export, retries included. Default 10000 (`OTEL_EXPORTER_OTLP_TIMEOUT`); at most
   * `batch.exportTimeoutMillis`.
   */
  timeoutMillis?: number;
  /** Default `none` (`OTEL_EXPORTER_OTLP_COMPRESSION`). */
  compression?: Compression;
  /** Default `http/protobuf` (`OTEL_EXPORTER_OTLP_PROTOCOL`). */
  protocol?: OtlpProtocol;
  /**
   * For an https:// endpoint: a CA to trust, and a client certificate and key for mutual TLS, as PEM text. Each
   * field wins over the file its variable names (`OTEL_EXPORTER_OTLP_CERTIFICATE`, `_CLIENT_CERTIFICATE`,
   * `_CLIENT_KEY`).
   */
  tls?: ExporterTlsOptions;
}

export interface ZipkinOptions {
  /** Default `http://localhost:9411/api/v2/spans` (`OTEL_EXPORTER_ZIPKIN_ENDPOINT`). */
  endpoint?: string;
  headers?: Record<string, string>;
  /**
   * Budget for one export, retries included. Default 10000 (`OTEL_EXPORTER_ZIPKIN_TIMEOUT`); at most
   * `batch.exportTimeoutMillis`.
   */
  timeoutMillis?: number;
  /** For an https:// endpoint: a CA to trust, and a client certificate and key for mutual TLS, as PEM text. */
  tls?: ExporterTlsOptions;
}

export interface BatchOptions {
  /** Default 2048 (`OTEL_BSP_MAX_QUEUE_SIZE`). */
  maxQueueSize?: number;
  /** Default 512, or `maxQueueSize` when that is smaller; at most `maxQueueSize` (`OTEL_BSP_MAX_EXPORT_BATCH_SIZE`). */
  maxExportBatchSize?: number;
  /** Default 1000 (`OTEL_BSP_SCHEDULE_DELAY`). */
  scheduledDelayMillis?: number;
  /**
   * How long one export may run, and the deadline of `forceFlush()`. Default 30000 (`OTEL_BSP_EXPORT_TIMEOUT`). It
   * caps `otlp.timeoutMillis` and `zipkin.timeoutMillis`, so an export that outlives it is cancelled, its request
   * aborted, before the next one starts: the collector never sees more than `maxConcurrentExports` at once.
   */
  exportTimeoutMillis?: number;
  /** Default 1. */
  maxConcurrentExports?: number;
}

export interface ShutdownOptions {
  /** How long a signal may wait for the flush before the process goes on exiting. Default 5000. */
  timeoutMillis?: number;
}

export type ExporterOption =
  | SpanExporter
  | ExporterName
  | string
  | ReadonlyArray<SpanExporter | ExporterName>;

/** Everything `configure()` accepts. Each field wins over its environment variable. */
export interface TracewireOptions {
  /** `service.name`. Default `OTEL_SERVICE_NAME`, else the app's package.json name, else `unknown_service:node`. */
  serviceName?: string;
  /** `service.version`. Default: the app's package.json version. */
  serviceVersion?: string;
  /** Merged over `OTEL_RESOURCE_ATTRIBUTES`. */
  resourceAttributes?: Attributes;
  /** Record nothing but keep propagating (`OTEL_SDK_DISABLED`). Default false. */
  disabled?: boolean;
  /** A Sampler or an `OTEL_TRACES_SAMPLER` name. Default `parentbased_always_on`. */
  sampler?: Sampler | SamplerName;
  /** A Propagator or an `OTEL_PROPAGATORS` list. Default: read W3C, B3, Jaeger; write W3C trace context + baggage. */
  propagators?: Propagator | string;
  /** Exporters or `OTEL_TRACES_EXPORTER` names. Default `otlp`, or none when `processors` is given. */
  exporters?: ExporterOption;
  otlp?: OtlpOptions;
  zipkin?: ZipkinOptions;
  batch?: BatchOptions;
  spanLimits?: SpanLimits;
  /** Extra processors, e.g. `new SimpleSpanProcessor(new InMemoryExporter())` in tests. */
  processors?: SpanProcessor[];
  /**
   * Flush on `beforeExit`, SIGTERM and SIGINT, and deliver synchronously at `process.exit()` and at a crash (the
   * crashing request's span with its exception), each within `timeoutMillis` (default 5000). Default true.
   */
  shutdownOnSignals?: boolean | ShutdownOptions;
  /** Trace and propagate outgoing fetch/http calls. Default true. */
  instrumentOutgoing?: boolean | OutgoingOptions;
  /**
   * Baggage keys recorded as span attributes of the same name, on every span started under that baggage (server
   * spans under the caller's). Default none; `TRACEWIRE_BAGGAGE_ATTRIBUTES` (a comma list) when not given.
   */
  baggageAttributes?: string[];
}

const OPTION_KEYS = optionKeys<TracewireOptions>({
  serviceName: true,
  serviceVersion: true,
  resourceAttributes: true,
  disabled: true,
  sampler: true,
  propagators: true,
  exporters: true,
  otlp: true,
  zipkin: true,
  batch: true,
  spanLimits: true,
  processors: true,
  shutdownOnSignals: true,
  instrumentOutgoing: true,
  baggageAttributes: true,
});
const OTLP_KEYS = optionKeys<OtlpOptions>({
  endpoint: true,
  tracesEndpoint: true,
  headers: true,
  timeoutMillis: true,
  compression: true,
  protocol: true,
  tls: true,
});
const ZIPKIN_KEYS = optionKeys<ZipkinOptions>({
  endpoint: true,
  headers: true,
  timeoutMillis: true,
  tls: true,
});
const BATCH_KEYS = optionKeys<BatchOptions>({
  maxQueueSize: true,
  maxExportBatchSize: true,
  scheduledDelayMillis: true,
  exportTimeoutMillis: true,
  maxConcurrentExports: true,
});
const TLS_KEYS = optionKeys<ExporterTlsOptions>({ ca: true, cert: true, key: true });
const SHUTDOWN_KEYS = optionKeys<ShutdownOptions>({ timeoutMillis: true });
const OUTGOING_KEYS = optionKeys<OutgoingOptions>({
  traceRootCalls: true,
  propagateTo: true,
  doNotPropagateTo: true,
  redactQuery: true,
  sensitiveQueryKeys: true,
});

export type ExporterSpec =
  | {
      kind: 'otlp';
      options: {
        url?: string | undefined;
        headers?: Record<string, string> | undefined;
        timeoutMillis?: number | undefined;
        compression?: Compression | undefined;
        protocol?: OtlpProtocol | undefined;
        tls?: ExporterTlsOptions | undefined;
      };
    }
  | {
      kind: 'zipkin';
      options: {
        url?: string | undefined;
        headers?: Record<string, string> | undefined;
        timeoutMillis?: number | undefined;
        tls?: ExporterTlsOptions | undefined;
      };
    }
  | { kind: 'console' }
  | { kind: 'custom'; exporter: SpanExporter };

/** `TracewireOptions` merged over the environment and validated; what `configure()` builds a tracer from. */
export interface ResolvedConfig {
  disabled: boolean;
  resource: Resource;
  propagator: Propagator;
  sampler: Sampler;
  spanLimits: SpanLimits;
  exporters: ExporterSpec[];
  batch: BatchOptions;
  processors: SpanProcessor[];
  shutdownOnSignals: Required<ShutdownOptions> | false;
  instrumentOutgoing: OutgoingOptions | false;
  baggageAttributes: string[];
}

const DEFAULT_SHUTDOWN_TIMEOUT_MILLIS = 5000;
const DEFAULT_MAX_QUEUE_SIZE = 2048;
const DEFAULT_RATE_LIMIT_PER_SECOND = 100;

/**
 * Validates `options` and merges them over the environment. Throws a TypeError/RangeError naming the option or the
 * variable and the accepted values.
 */
export function resolveConfig(
  options: TracewireOptions = {},
  env: NodeJS.ProcessEnv = process.env,
  warn: EnvWarn = warnOfEnv,
): ResolvedConfig {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`tracewire options must be an object; got ${describe(options)}`);
  }
  checkKnownKeys(options, 'option', OPTION_KEYS);
  const fromEnv = readEnv(env, warn);
  const disabled = optional(options.disabled, 'disabled', checkBoolean) ?? fromEnv.disabled ?? false;
  const processors = resolveProcessors(options.processors);
  const resource = detectResource({
    serviceName: optional(options.serviceName, 'serviceName', checkString),
    serviceVersion: optional(options.serviceVersion, 'serviceVersion', checkString),
    resourceAttributes: optional(options.resourceAttributes, 'resourceAttributes', checkObject<Attributes>),
    env,
    warn,
  });
  const exporters = resolveExporters(options, fromEnv, processors.length > 0);
  return {
    disabled,
    resource,
    propagator: resolvePropagator(options.propagators, fromEnv.propagators, warn),
    sampler: resolveSampler(options.sampler, fromEnv, warn),
    spanLimits: resolveSpanLimits(options.spanLimits, fromEnv.spanLimits),
    exporters: disabled ? [] : exporters,
    batch: resolveBatch(options.batch, fromEnv.batch, warn),
    processors: disabled ? [] : processors,
    shutdownOnSignals: disabled ? false : resolveShutdown(options.shutdownOnSignals),
    instrumentOutgoing: resolveOutgoing(options.instrumentOutgoing),
    baggageAttributes: resolveBaggageAttributes(options.baggageAttributes, env.TRACEWIRE_BAGGAGE_ATTRIBUTES),
  };
}

function resolveBaggageAttributes(code: unknown, fromEnv: string | undefined): string[] {
  if (code === undefined) return commaList(fromEnv);
  if (!Array.isArray(code)) {
    throw new TypeError(`baggageAttributes must be an array of baggage keys; got ${describe(code)}`);
  }
  return code.map((key, i) => checkString(key, `baggageAttributes[${i}]`));
}

function resolvePropagator(
  code: Propagator | string | undefined,
  fromEnv: string | undefined,
  warn: EnvWarn,
): Propagator {
  if (code !== undefined) {
    if (typeof code === 'string') {
      return propagatorsFromNames(code, 'propagators');
    }
    if (code === null || typeof code.inject !== 'function' || typeof code.extract !== 'function') {
      throw new TypeError(
        `propagators must be a Propagator or a comma list of tracecontext, baggage, b3, b3multi, jaeger, none; got ${describe(code)}`,
      );
    }
    return code;
  }
  if (fromEnv === undefined) return defaultPropagator;
  return propagatorsFromNames(fromEnv, 'OTEL_PROPAGATORS', (unknown) =>
    warnIgnored(
      warn,
      `OTEL_PROPAGATORS: unknown propagator ${describe(unknown)}; accepted values: tracecontext, baggage, b3, b3multi, jaeger, none`,
      'it is left out',
    ),
  );
}

function resolveSampler(
  code: Sampler | SamplerName | undefined,
  fromEnv: EnvOptions,
  warn: EnvWarn,
): Sampler {
  if (code !== undefined && typeof code !== 'string') {
    if (code === null || typeof code.shouldSample !== 'function') {
      throw new TypeError(
        `sampler must be a Sampler or one of ${SAMPLER_NAMES.join(', ')}; got ${describe(code)}`,
      );
    }
    return code;
  }
  const name =
    code === undefined
      ? (fromEnv.sampler ?? 'parentbased_always_on')
      : checkOneOf(code, 'sampler', SAMPLER_NAMES);
  const arg = fromEnv.samplerArg;
  switch (name) {
    case 'always_on':
      return alwaysOn;
    case 'always_off':
      return alwaysOff;
    case 'parentbased_always_on':
      return parentBased({ root: alwaysOn });
    case 'parentbased_always_off':
      return parentBased({ root: alwaysOff });
    case 'traceidratio':
      return traceIdRatio(ratioArg(arg, name, warn));
    case 'parentbased_traceidratio':
      return parentBased({ root: traceIdRatio(ratioArg(arg, name, warn)) });
    case 'ratelimited':
      return rateLimited(rateArg(arg, name, warn));
    case 'parentbased_ratelimited':
      return parentBased({ root: rateLimited(rateArg(arg, name, warn)) });
  }
}

/** OpenTelemetry: traceidratio's argument is a probability in [0, 1], default 1.0; anything else is warned of. */
function ratioArg(arg: string | undefined, sampler: string, warn: EnvWarn): number {
  if (arg === undefined) return 1;
  const ratio = Number(arg);
  if (ratio >= 0 && ratio <= 1) return ratio;
  warnIgnored(
    warn,
    `OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1 for ${sampler}; got ${describe(arg)}`,
  );
  return 1;
}

function rateArg(arg: string | undefined, sampler: string, warn: EnvWarn): number {
  if (arg === undefined) return DEFAULT_RATE_LIMIT_PER_SECOND;
  const rate = Number(arg);
  if (Number.isFinite(rate) && rate >= 0) return rate;
  warnIgnored(
    warn,
    `OTEL_TRACES_SAMPLER_ARG must be a number of traces per second >= 0 for ${sampler}; got ${describe(arg)}`,
  );
  return DEFAULT_RATE_LIMIT_PER_SECOND;
}

const SPAN_LIMIT_KEYS = [
  'attributeCountLimit',
  'attributeValueLengthLimit',
  'eventCountLimit',
  'linkCountLimit',
  'eventAttributeCountLimit',
  'linkAttributeCountLimit',
] as const;

function resolveSpanLimits(code: SpanLimits | undefined, fromEnv: SpanLimits): SpanLimits {
  optionalObject(code, 'spanLimits', SPAN_LIMIT_KEYS);
  const limits: SpanLimits = {};
  for (const key of SPAN_LIMIT_KEYS) {
    const value = optional(code?.[key], `spanLimits.${key}`, (v, n) => checkInteger(v, n, 0)) ?? fromEnv[key];
    if (value !== undefined) limits[key] = value;
  }
  return limits;
}

function resolveBatch(
  code: BatchOptions | undefined,
  fromEnv: EnvOptions['batch'],
  warn: EnvWarn,
): BatchOptions {
  optionalObject(code, 'batch', BATCH_KEYS);
  const int = (key: keyof BatchOptions, min: number) =>
    optional(code?.[key], `batch.${key}`, (v, n) => checkInteger(v, n, min));
  const batch: BatchOptions = {};
  const codeQueueSize = int('maxQueueSize', 1);
  const codeBatchSize = int('maxExportBatchSize', 1);
  const maxQueueSize = codeQueueSize ?? fromEnv.maxQueueSize;
  let maxExportBatchSize = codeBatchSize ?? fromEnv.maxExportBatchSize;
  // Only a batch size that was asked for can conflict: the default one shrinks to a smaller queue. Asked for in
  // code on both sides, it is the code's error; with either from the environment, it is warned of and shrunk.
  const queue = maxQueueSize ?? DEFAULT_MAX_QUEUE_SIZE;
  if (maxExportBatchSize !== undefined && maxExportBatchSize > queue) {
    const problem = `batch.maxExportBatchSize (OTEL_BSP_MAX_EXPORT_BATCH_SIZE) must be <= batch.maxQueueSize (OTEL_BSP_MAX_QUEUE_SIZE); got ${maxExportBatchSize} > ${queue}`;
    if (codeBatchSize !== undefined && codeQueueSize !== undefined) throw new RangeError(problem);
    warnIgnored(warn, problem, 'batches take the whole queue instead');
    maxExportBatchSize = queue;
  }
  const scheduledDelayMillis = int('scheduledDelayMillis', 0) ?? fromEnv.scheduledDelayMillis;
  const exportTimeoutMillis = int('exportTimeoutMillis', 1) ?? fromEnv.exportTimeoutMillis;
  const maxConcurrentExports = int('maxConcurrentExports', 1);
  if (maxQueueSize !== undefined) batch.maxQueueSize = maxQueueSize;
  if (maxExportBatchSize !== undefined) batch.maxExportBatchSize = maxExportBatchSize;
  if (scheduledDelayMillis !== undefined) batch.scheduledDelayMillis = scheduledDelayMillis;
  if (exportTimeoutMillis !== undefined) batch.exportTimeoutMillis = exportTimeoutMillis;
  if (maxConcurrentExports !== undefined) batch.maxConcurrentExports = maxConcurrentExports;
  return batch;
}

function resolveExporters(
  options: TracewireOptions,
  fromEnv: EnvOptions,
  hasProcessors: boolean,
): ExporterSpec[] {
  const code = options.exporters;
  let entries: ReadonlyArray<SpanExporter | ExporterName>;
  if (code === undefined) entries = fromEnv.exporters ?? (hasProcessors ? [] : ['otlp']);
  else if (typeof code === 'string') entries = parseExporterNames(code, 'exporters') ?? [];
  else if (Array.isArray(code)) entries = code;
  else entries = [code as SpanExporter];

  // Resolved whether or not their exporter is chosen: OTEL_TRACES_EXPORTER may choose it later, and an invalid option
  // in code must fail at start-up whatever the environment says.
  const otlp = resolveOtlp(options.otlp, fromEnv.otlp);
  const zipkin = resolveZipkin(options.zipkin, fromEnv.zipkin);
  const specs: ExporterSpec[] = [];
  for (const entry of entries) {
    if (typeof entry === 'string') {
      const name = checkOneOf(entry, 'exporters', ['otlp', 'zipkin', 'console', 'none'] as const);
      if (name === 'otlp') specs.push({ kind: 'otlp', options: otlp });
      else if (name === 'zipkin') specs.push({ kind: 'zipkin', options: zipkin });
      else if (name === 'console') specs.push({ kind: 'console' });
    } else if (entry !== null && typeof entry === 'object' && typeof entry.export === 'function') {
      specs.push({ kind: 'custom', exporter: entry });
    } else {
      throw new TypeError(
        `exporters must be SpanExporter objects or names among otlp, zipkin, console, none; got ${describe(entry)}`,
      );
    }
  }
  return specs;
}

function resolveOtlp(
  code: OtlpOptions | undefined,
  fromEnv: EnvOptions['otlp'],
): Extract<ExporterSpec, { kind: 'otlp' }>['options'] {
  optionalObject(code, 'otlp', OTLP_KEYS);
  const tracesEndpoint = optional(code?.tracesEndpoint, 'otlp.tracesEndpoint', checkHttpUrl);
  const endpoint = optional(code?.endpoint, 'otlp.endpoint', checkHttpUrl);
  const headers = optional(code?.headers, 'otlp.headers', checkHeaderRecord);
  return {
    url: tracesEndpoint ?? (endpoint === undefined ? fromEnv.url : appendTracesPath(endpoint)),
    headers: headers === undefined ? fromEnv.headers : { ...fromEnv.headers, ...headers },
    timeoutMillis:
      optional(code?.timeoutMillis, 'otlp.timeoutMillis', (v, n) => checkInteger(v, n, 1)) ??
      fromEnv.timeoutMillis,
    compression:
      optional(code?.compression, 'otlp.compression', (v, n) => checkOneOf(v, n, COMPRESSIONS)) ??
      fromEnv.compression,
    protocol:
      optional(code?.protocol, 'otlp.protocol', (v, n) => checkOneOf(v, n, OTLP_PROTOCOLS)) ??
      fromEnv.protocol,
    tls: resolveTls(code?.tls, 'otlp.tls', fromEnv.tls),
  };
}

/** Code fields win one by one over what the environment's files held; the pair and PEM checks run on the result. */
function resolveTls(
  code: ExporterTlsOptions | undefined,
  name: string,
  fromEnv?: ExporterTlsOptions,
): ExporterTlsOptions | undefined {
  optionalObject(code, name, TLS_KEYS);
  if (code === undefined) return fromEnv;
  const merged: ExporterTlsOptions = { ...fromEnv };
  for (const field of ['ca', 'cert', 'key'] as const) {
    if (code[field] !== undefined) merged[field] = code[field];
  }
  return checkTls(merged, { ca: `${name}.ca`, cert: `${name}.cert`, key: `${name}.key` });
}

function resolveZipkin(
  code: ZipkinOptions | undefined,
  fromEnv: EnvOptions['zipkin'],
): Extract<ExporterSpec, { kind: 'zipkin' }>['options'] {
  optionalObject(code, 'zipkin', ZIPKIN_KEYS);
  return {
    url: optional(code?.endpoint, 'zipkin.endpoint', checkHttpUrl) ?? fromEnv.url,
    headers: optional(code?.headers, 'zipkin.headers', checkHeaderRecord),
    timeoutMillis:
      optional(code?.timeoutMillis, 'zipkin.timeoutMillis', (v, n) => checkInteger(v, n, 1)) ??
      fromEnv.timeoutMillis,
    tls: resolveTls(code?.tls, 'zipkin.tls'),
  };
}

function resolveProcessors(code: SpanProcessor[] | undefined): SpanProcessor[] {
  if (code === undefined) return [];
  if (!Array.isArray(code))
    throw new TypeError(`processors must be an array of SpanProcessor; got ${describe(code)}`);
  for (const processor of code) {
    if (processor === null || typeof processor !== 'object' || typeof processor.onEnd !== 'function') {
      throw new TypeError(
        `processors must be an array of SpanProcessor (with onEnd); got ${describe(processor)}`,
      );
    }
  }
  return [...code];
}

function resolveShutdown(code: boolean | ShutdownOptions | undefined): Required<ShutdownOptions> | false {
  if (code === undefined || code === true) return { timeoutMillis: DEFAULT_SHUTDOWN_TIMEOUT_MILLIS };
  if (code === false) return false;
  if (code === null || typeof code !== 'object') {
    throw new TypeError(`shutdownOnSignals must be a boolean or { timeoutMillis }; got ${describe(code)}`);
  }
  checkKnownKeys(code, 'shutdownOnSignals option', SHUTDOWN_KEYS);
  return {
    timeoutMillis:
      optional(code.timeoutMillis, 'shutdownOnSignals.timeoutMillis', (v, n) => checkInteger(v, n, 0)) ??
      DEFAULT_SHUTDOWN_TIMEOUT_MILLIS,
  };
}

function resolveOutgoing(code: boolean | OutgoingOptions | undefined): OutgoingOptions | false {
  if (code === undefined || code === true) return {};
  if (code === false) return false;
  if (code === null || typeof code !== 'object') {
    throw new TypeError(
      `instrumentOutgoing must be a boolean or an OutgoingOptions object; got ${describe(code)}`,
    );
  }
  checkKnownKeys(code, 'instrumentOutgoing option', OUTGOING_KEYS);
  return code;
}

function optional<T>(
  value: unknown,
  name: string,
  check: (value: unknown, name: string) => T,
): T | undefined {
  return value === undefined ? undefined : check(value, name);
}

function checkHeaderRecord(value: unknown, name: string): Record<string, string> {
  return checkHeaders(checkStringRecord(value, name), name);
}

/** An options object (`otlp`, `batch`, ...) when given: an object whose keys are all among `keys`. */
function optionalObject(value: unknown, name: string, keys: readonly string[]): object | undefined {
  if (value === undefined) return undefined;
  const options = checkObject<object>(value, name);
  checkKnownKeys(options, `${name} option`, keys);
  return options;
}

function checkObject<T>(value: unknown, name: string): T {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`${name} must be an object; got ${describe(value)}`);
  }
  return value as T;
}
