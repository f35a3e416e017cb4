import { type EnvWarn, orIgnored, warnIgnored, warnOfEnv } from './env-warning.js';
import { checkTls, type ExporterTlsOptions, readPemFile } from './exporters/tls-options.js';
import { parseKeyValueList } from './key-value-list.js';
import { checkHeader, checkHttpUrl, checkOneOf, describe } from './option-checks.js';
import type { SpanLimits } from './span-limits.js';

export const EXPORTER_NAMES = ['otlp', 'zipkin', 'console', 'none'] as const;
export type ExporterName = (typeof EXPORTER_NAMES)[number];

export const SAMPLER_NAMES = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
  'ratelimited',
  'parentbased_ratelimited',
] as const;
export type SamplerName = (typeof SAMPLER_NAMES)[number];

export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

export const COMPRESSIONS = ['gzip', 'none'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

/** OTEL_LOG_LEVEL's values (OpenTelemetry SDK environment variables, "General SDK Configuration"). */
const LOG_LEVELS = ['none', 'error', 'warn', 'info', 'debug', 'verbose', 'all'] as const;

/** What the standard environment variables ask for, validated; fields stay undefined when a variable is unset. */
export interface EnvOptions {
  disabled?: boolean | undefined;
  exporters?: ExporterName[] | undefined;
  otlp: {
    /** Full traces URL: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, or `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`. */
    url?: string | undefined;
    headers?: Record<string, string> | undefined;
    timeoutMillis?: number | undefined;
    compression?: Compression | undefined;
    protocol?: OtlpProtocol | undefined;
    /** Read from the files `OTEL_EXPORTER_OTLP_[TRACES_]CERTIFICATE`, `_CLIENT_CERTIFICATE`, `_CLIENT_KEY` name. */
    tls?: ExporterTlsOptions | undefined;
  };
  zipkin: { url?: string | undefined; timeoutMillis?: number | undefined };
  propagators?: string | undefined;
  sampler?: SamplerName | undefined;
  samplerArg?: string | undefined;
  batch: {
    scheduledDelayMillis?: number | undefined;
    exportTimeoutMillis?: number | undefined;
    maxQueueSize?: number | undefined;
    maxExportBatchSize?: number | undefined;
  };
  spanLimits: SpanLimits;
}

/**
 * Reads the OpenTelemetry SDK environment variables tracewire supports. An empty value counts as unset (SDK
 * environment variable spec, "Parsing empty value"); an invalid one is reported to `warn`, naming the variable and
 * what it accepts, and counts as unset too (env-warning.ts).
 */
export function readEnv(env: NodeJS.ProcessEnv = process.env, warn: EnvWarn = warnOfEnv): EnvOptions {
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  /** `parse(value)` of a variable that is set; one that is invalid is warned of and counts as unset. */
  const parsed = <T>(name: string, parse: (value: string) => T, instead?: string): T | undefined => {
    const value = get(name);
    return value === undefined ? undefined : orIgnored(warn, () => parse(value), instead);
  };
  const int = (name: string, min: number, instead?: string) =>
    parsed(name, (v) => parseInteger(v, name, min), instead);
  // OpenTelemetry's "Timeout" reads zero as no limit; here it is refused, as OpenTelemetry JS does: one export to
  // a collector that never answers would hold its slot for good, and every later span would be dropped.
  const timeout = (name: string, instead?: string) =>
    parsed(name, (v) => parseInteger(v, name, 1, '0, no limit, is not supported'), instead);
  const oneOf = <T extends string>(name: string, accepted: readonly T[], instead?: string) =>
    parsed(name, (v) => checkOneOf(v.toLowerCase(), name, accepted), instead);
  const url = (name: string, toTraces: (url: string) => string = (u) => u, instead?: string) =>
    parsed(name, (v) => toTraces(checkHttpUrl(v, name)), instead);
  // A malformed entry or header is left out alone, as OpenTelemetry JS does: one typo must not cost the
  // Authorization header beside it.
  const headerList = (name: string): Record<string, string> | undefined => {
    const value = get(name);
    if (value === undefined) return undefined;
    const leaveOut = (problem: string) => warnIgnored(warn, problem, 'that entry is left out');
    const headers: Record<string, string> = {};
    for (const [key, text] of Object.entries(parseKeyValueList(value, name, leaveOut))) {
      const valid = () => {
        checkHeader(key, text, name);
        return true;
      };
      if (orIgnored(warn, valid, 'that header is left out')) headers[key] = text;
    }
    return Object.keys(headers).length === 0 ? undefined : headers;
  };
  const protocol = (name: string, instead?: string) => parsed(name, (v) => parseProtocol(v, name), instead);
  /** What an invalid signal-specific variable leaves in charge: the generic one. */
  const genericUsed = (generic: string) => `the variable is ignored and ${generic} (or its default) used`;

  const otlpUrl =
    url('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', undefined, genericUsed('OTEL_EXPORTER_OTLP_ENDPOINT')) ??
    url('OTEL_EXPORTER_OTLP_ENDPOINT', (base) => appendTracesPath(base, warn));
  const genericHeaders = headerList('OTEL_EXPORTER_OTLP_HEADERS');
  const tracesHeaders = headerList('OTEL_EXPORTER_OTLP_TRACES_HEADERS');
  const headers =
    genericHeaders === undefined && tracesHeaders === undefined
      ? undefined
      : { ...genericHeaders, ...tracesHeaders };
  const tlsFile = (suffix: string): [string, string | undefined] => {
    const specific = `OTEL_EXPORTER_OTLP_TRACES_${suffix}`;
    const value = get(specific);
    return value !== undefined
      ? [specific, value]
      : [`OTEL_EXPORTER_OTLP_${suffix}`, get(`OTEL_EXPORTER_OTLP_${suffix}`)];
  };
  const [caName, caPath] = tlsFile('CERTIFICATE');
  const [certName, certPath] = tlsFile('CLIENT_CERTIFICATE');
  const [keyName, keyPath] = tlsFile('CLIENT_KEY');
  // The CA and the client certificate are separate settings: one that cannot be used leaves the other in place.
  const ca =
    caPath === undefined
      ? undefined
      : orIgnored(
          warn,
          () =>
            checkTls({ ca: readPemFile(caPath, caName) }, { ca: caName, cert: certName, key: keyName }).ca,
          'the default trusted CAs are used',
        );
  const client =
    certPath === undefined && keyPath === undefined
      ? undefined
      : orIgnored(
          warn,
          () =>
            checkTls(
              { cert: readPemFile(certPath, certName), key: readPemFile(keyPath, keyName) },
              { ca: caName, cert: certName, key: keyName },
            ),
          'no client certificate is sent',
        );
  const tls =
    ca === undefined && client === undefined ? undefined : { ca, cert: client?.cert, key: client?.key };

  // OpenTelemetry: a signal-specific variable wins over the generic one.
  const attributeValueLength =
    int('OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT', 0, genericUsed('OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT')) ??
    int('OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT', 0);
  const attributeCount =
    int('OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT', 0, genericUsed('OTEL_ATTRIBUTE_COUNT_LIMIT')) ??
    int('OTEL_ATTRIBUTE_COUNT_LIMIT', 0);
  // Read where warnings are written (sdk-warn.ts); here only so that a value it does not know is reported.
  oneOf('OTEL_LOG_LEVEL', LOG_LEVELS, 'warnings stay on');

  return {
    disabled: parsed('OTEL_SDK_DISABLED', (v) => parseBoolean(v, 'OTEL_SDK_DISABLED')),
    exporters: parsed('OTEL_TRACES_EXPORTER', (v) =>
      noneWins(v, 'OTEL_TRACES_EXPORTER', 'exporters', warn)
        ? ['none']
        : parseExporterNames(v, 'OTEL_TRACES_EXPORTER', (unknown) =>
            warnIgnored(
              warn,
              `OTEL_TRACES_EXPORTER: unknown exporter ${describe(unknown)}; accepted values: ${EXPORTER_NAMES.join(', ')}`,
              'it is left out',
            ),
          ),
    ),
    otlp: {
      url: otlpUrl,
      headers,
      timeoutMillis:
        timeout('OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', genericUsed('OTEL_EXPORTER_OTLP_TIMEOUT')) ??
        timeout('OTEL_EXPORTER_OTLP_TIMEOUT'),
      compression:
        oneOf(
          'OTEL_EXPORTER_OTLP_TRACES_COMPRESSION',
          COMPRESSIONS,
          genericUsed('OTEL_EXPORTER_OTLP_COMPRESSION'),
        ) ?? oneOf('OTEL_EXPORTER_OTLP_COMPRESSION', COMPRESSIONS),
      protocol:
        protocol('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', genericUsed('OTEL_EXPORTER_OTLP_PROTOCOL')) ??
        protocol('OTEL_EXPORTER_OTLP_PROTOCOL'),
      tls,
    },
    zipkin: {
      url: url('OTEL_EXPORTER_ZIPKIN_ENDPOINT'),
      timeoutMillis: timeout('OTEL_EXPORTER_ZIPKIN_TIMEOUT'),
    },
    propagators: parsed('OTEL_PROPAGATORS', (v) =>
      noneWins(v, 'OTEL_PROPAGATORS', 'propagators', warn) ? 'none' : v,
    ),
    sampler: oneOf('OTEL_TRACES_SAMPLER', SAMPLER_NAMES),
    samplerArg: get('OTEL_TRACES_SAMPLER_ARG'),
    batch: {
      scheduledDelayMillis: int('OTEL_BSP_SCHEDULE_DELAY', 0),
      exportTimeoutMillis: timeout('OTEL_BSP_EXPORT_TIMEOUT'),
      maxQueueSize: int('OTEL_BSP_MAX_QUEUE_SIZE', 1),
      maxExportBatchSize: int('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 1),
    },
    spanLimits: {
      attributeCountLimit: attributeCount,
      attributeValueLengthLimit: attributeValueLength,
      eventCountLimit: int('OTEL_SPAN_EVENT_COUNT_LIMIT', 0),
      linkCountLimit: int('OTEL_SPAN_LINK_COUNT_LIMIT', 0),
      eventAttributeCountLimit: int('OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT', 0),
      linkAttributeCountLimit: int('OTEL_LINK_ATTRIBUTE_COUNT_LIMIT', 0),
    },
  };
}

/**
 * OpenTelemetry OTLP exporter spec: `OTEL_EXPORTER_OTLP_ENDPOINT` is a base URL, and `v1/traces` is appended to its
 * path (not to a query string it may carry), without doubling a trailing slash. `base` is an absolute URL. A base
 * that already ends in `/v1/traces` is the usual slip (the full URL given where the base goes): it is appended to
 * as the spec says, and `warn`, when given, says where spans will go and what takes a full URL.
 */
export function appendTracesPath(base: string, warn?: EnvWarn): string {
  const url = new URL(base);
  if (warn !== undefined && /\/v1\/traces\/?$/.test(url.pathname)) {
    warnIgnored(
      warn,
      'OTEL_EXPORTER_OTLP_ENDPOINT already ends in /v1/traces, and /v1/traces is appended to it (it is a base URL)',
      'spans go to …/v1/traces/v1/traces; OTEL_EXPORTER_OTLP_TRACES_ENDPOINT takes a full URL',
    );
  }
  url.pathname = url.pathname.endsWith('/') ? `${url.pathname}v1/traces` : `${url.pathname}/v1/traces`;
  return url.href;
}

/**
 * A comma list of exporter names (`otlp,console`); `none` stands alone. Used for the env and the code option. An
 * unknown name throws, or, given `skipUnknown`, is passed to it and left out (the environment's way).
 */
export function parseExporterNames(
  value: string | undefined,
  name: string,
  skipUnknown?: (unknown: string) => void,
): ExporterName[] | undefined {
  if (value === undefined) return undefined;
  const names: ExporterName[] = [];
  for (const raw of value.split(',')) {
    const item = raw.trim().toLowerCase();
    if (item === '') continue;
    if (skipUnknown !== undefined && !(EXPORTER_NAMES as readonly string[]).includes(item)) {
      skipUnknown(raw.trim());
      continue;
    }
    const exporter = checkOneOf(item, name, EXPORTER_NAMES);
    if (!names.includes(exporter)) names.push(exporter);
  }
  if (names.includes('none') && names.length > 1) {
    throw new RangeError(`${name}: "none" cannot be combined with other exporters; got ${describe(value)}`);
  }
  return names.length === 0 ? undefined : names;
}

/**
 * `none` listed with other names (`none,otlp`): the spec leaves the combination open. Whoever wrote `none` meant to
 * switch the thing off, so the variable is read as `none`, with a warning (a code option still wins over it).
 */
function noneWins(value: string, variable: string, what: string, warn: EnvWarn): boolean {
  const names = value.split(',').map((name) => name.trim().toLowerCase());
  if (!names.includes('none') || names.every((name) => name === 'none' || name === '')) return false;
  warnIgnored(
    warn,
    `${variable}: "none" cannot be combined with other ${what}; got ${describe(value)}`,
    'it is read as none, unless a code option sets it',
  );
  return true;
}

function parseBoolean(value: string | undefined, name: string): boolean | undefined {
  if (value === undefined) return undefined;
  const lower = value.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  throw new RangeError(`${name} must be true or false; got ${describe(value)}`);
}

function parseInteger(
  value: string | undefined,
  name: string,
  min: number,
  why?: string,
): number | undefined {
  if (value === undefined) return undefined;
  const number = /^[+-]?\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number)) {
    throw new TypeError(`${name} must be an integer >= ${min}; got ${describe(value)}`);
  }
  if (number < min) {
    throw new RangeError(
      `${name} must be an integer >= ${min}${why ? ` (${why})` : ''}; got ${describe(value)}`,
    );
  }
  return number;
}

function parseProtocol(value: string | undefined, name: string): OtlpProtocol | undefined {
  if (value === undefined) return undefined;
  if (value.toLowerCase() === 'grpc') {
    throw new RangeError(
      `${name}: grpc is not supported; use one of ${OTLP_PROTOCOLS.join(', ')}, with the endpoint of the collector's OTLP/HTTP receiver (port 4318, not gRPC's 4317)`,
    );
  }
  return checkOneOf(value.toLowerCase(), name, OTLP_PROTOCOLS);
}
