import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Propagator, propagatorsFromNames } from '@tracewire/core';
import { type EnvWarn, warnIgnored, warnOfEnv } from './env-warning.js';
import { compileHeaderList, type HeaderCapture } from './header-capture.js';
import { knownHttpMethods } from './http-methods.js';
import { checkKnownKeys, commaList, optionKeys } from './option-checks.js';
import type { Span } from './span.js';
import type { Tracer } from './tracer.js';
import { createUrlRedactor, type UrlRedactionOptions, type UrlRedactor } from './url-redaction.js';

/** What `ignore` accepts: paths (`*` within a segment, `**` across segments), RegExps, or a predicate. */
export type IgnoreOption = readonly (string | RegExp)[] | ((req: IncomingMessage) => boolean);

/**
 * How far to trust the trace context a request arrives with (W3C Trace Context §8.1 "Privacy"/§8.2 "Security":
 * a public edge may restart traces). `continue` follows it; `ignore-sampling` keeps the trace id and parent but
 * makes its own sampling decision; `link` starts a new trace with a link to the incoming one.
 */
export type IncomingContextPolicy = 'continue' | 'ignore-sampling' | 'link';

const INCOMING_CONTEXT_POLICIES: readonly IncomingContextPolicy[] = ['continue', 'ignore-sampling', 'link'];

/** Options shared by `@tracewire/express`, `@tracewire/koa` and `@tracewire/fastify`; validated at registration. */
export interface ServerTracingOptions {
  /**
   * Requests to leave untraced (health checks). An ignored request records nothing but still passes the
   * caller's trace context on to the calls it makes. Matched against the path without the query string.
   * `TRACEWIRE_IGNORE_PATHS` (comma list) adds to it. Default: nothing ignored.
   */
  ignore?: IgnoreOption;
  /** Called once the span has started, to add attributes from the request. */
  requestHook?: (span: Span, req: IncomingMessage) => void;
  /** Called just before the span ends, to add attributes from the response. */
  responseHook?: (span: Span, req: IncomingMessage, res: ServerResponse) => void;
  /**
   * Header names to record as `http.request.header.<name>` / `http.response.header.<name>`. Nothing by default.
   * Credential headers (`authorization`, `cookie`, `set-cookie`, `proxy-authorization`, `x-api-key`, `api-key`,
   * `x-auth-token`, `x-access-token`, `x-amz-security-token`, `x-csrf-token`, `x-xsrf-token`) are dropped from these
   * lists unless `allowSensitive` is true. `TRACEWIRE_CAPTURE_REQUEST_HEADERS` / `..._RESPONSE_HEADERS` add to them.
   * At most 32 names per list (RangeError): each one is an attribute on every span.
   */
  captureHeaders?: { request?: readonly string[]; response?: readonly string[]; allowSensitive?: boolean };
  /** Overrides the span name; return `undefined` to keep `METHOD /route`. Called when the span ends. */
  spanName?: (req: IncomingMessage) => string | undefined;
  /** Which response statuses mark the span as an error. Default: `status >= 500` (server side semconv). */
  isError?: (status: number) => boolean;
  /** Send the W3C Trace Context Level 2 `traceresponse` header (not while tracing is disabled). Default false. */
  traceResponse?: boolean;
  /** Default: the global tracer (`getTracer()`), looked up per request so a later `configure()` applies. */
  tracer?: Tracer;
  /** Default: the tracer's propagator. A string is read like `OTEL_PROPAGATORS` (`'tracecontext,b3'`). */
  propagator?: Propagator | string;
  /**
   * Trust in the incoming trace context: `'continue'` (default) joins the caller's trace and follows its sampling
   * decision; `'ignore-sampling'` keeps the trace id and parent but lets this service's sampler decide; `'link'`
   * starts a new trace and links the server span to the caller's span context. `TRACEWIRE_INCOMING_CONTEXT` sets
   * it when the option is absent. Incoming baggage is passed on in every mode.
   */
  incomingContext?: IncomingContextPolicy;
  /**
   * Which `url.query` values are replaced by `REDACTED`, by the same rules as outgoing calls: `'sensitive'`
   * (default: keys that look like credentials), `'all'`, or `'none'`.
   */
  redactQuery?: UrlRedactionOptions['redactQuery'];
  /** More query keys (strings, case-insensitive, or RegExps) to treat as sensitive. */
  sensitiveQueryKeys?: UrlRedactionOptions['sensitiveQueryKeys'];
}

export interface ResolvedServerOptions {
  readonly ignorePatterns: readonly RegExp[];
  readonly ignorePredicate: ((req: IncomingMessage) => boolean) | undefined;
  readonly requestHook: ServerTracingOptions['requestHook'];
  readonly responseHook: ServerTracingOptions['responseHook'];
  readonly requestHeaders: readonly HeaderCapture[];
  readonly responseHeaders: readonly HeaderCapture[];
  readonly spanName: ServerTracingOptions['spanName'];
  readonly isError: (status: number) => boolean;
  readonly traceResponse: boolean;
  readonly tracer: Tracer | undefined;
  readonly propagator: Propagator | undefined;
  readonly incomingContext: IncomingContextPolicy;
  readonly redactor: UrlRedactor;
  /** `OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS`, else the semantic conventions' list. */
  readonly knownMethods: ReadonlySet<string>;
}

const KNOWN_KEYS = optionKeys<ServerTracingOptions>({
  ignore: true,
  requestHook: true,
  responseHook: true,
  captureHeaders: true,
  spanName: true,
  isError: true,
  traceResponse: true,
  tracer: true,
  propagator: true,
  incomingContext: true,
  redactQuery: true,
  sensitiveQueryKeys: true,
});
const CAPTURE_KEYS = optionKeys<NonNullable<ServerTracingOptions['captureHeaders']>>({
  request: true,
  response: true,
  allowSensitive: true,
});

const defaultIsError = (status: number): boolean => status >= 500;

/** Validates once per app; every error names the option and what it accepts. */
export function resolveServerOptions(
  options: ServerTracingOptions | undefined,
  env: NodeJS.ProcessEnv = process.env,
  warn: EnvWarn = warnOfEnv,
): ResolvedServerOptions {
  const o = options ?? {};
  if (typeof o !== 'object' || o === null) {
    throw new TypeError(`tracing options must be an object; got ${typeof o}`);
  }
  checkKnownKeys(o, 'tracing option', KNOWN_KEYS);
  const ignorePatterns: RegExp[] = envEntries(env, 'TRACEWIRE_IGNORE_PATHS', globToRegExp, warn);
  let ignorePredicate: ((req: IncomingMessage) => boolean) | undefined;
  if (typeof o.ignore === 'function') ignorePredicate = o.ignore;
  else if (Array.isArray(o.ignore)) {
    for (const entry of o.ignore as unknown[]) {
      if (typeof entry === 'string') ignorePatterns.push(globToRegExp(entry));
      else if (entry instanceof RegExp) ignorePatterns.push(entry);
      else throw new TypeError(`ignore entries must be path strings, globs or RegExps; got ${typeof entry}`);
    }
  } else if (o.ignore !== undefined) {
    throw new TypeError('ignore must be an array of paths/globs/RegExps or a function (req) => boolean');
  }
  for (const name of ['requestHook', 'responseHook', 'spanName', 'isError'] as const) {
    if (o[name] !== undefined && typeof o[name] !== 'function') {
      throw new TypeError(`${name} must be a function; got ${typeof o[name]}`);
    }
  }
  if (o.traceResponse !== undefined && typeof o.traceResponse !== 'boolean') {
    throw new TypeError(`traceResponse must be a boolean; got ${typeof o.traceResponse}`);
  }
  if (o.tracer !== undefined && (o.tracer === null || typeof o.tracer.startSpan !== 'function')) {
    throw new TypeError('tracer must be a Tracer (from configure() or getTracer())');
  }
  const capture = o.captureHeaders ?? {};
  if (typeof capture !== 'object' || capture === null) {
    throw new TypeError('captureHeaders must be an object { request?: string[], response?: string[] }');
  }
  checkKnownKeys(capture, 'captureHeaders key', CAPTURE_KEYS);
  for (const key of ['request', 'response'] as const) {
    if (capture[key] !== undefined && !Array.isArray(capture[key])) {
      throw new TypeError(`captureHeaders.${key} must be an array of header names`);
    }
  }
  const allowSensitive = capture.allowSensitive === true;
  const captured = (key: 'request' | 'response', variable: string, prefix: string): HeaderCapture[] => {
    const option = `captureHeaders.${key}`;
    const fromCode = capture[key] ?? [];
    const codeOnly = compileHeaderList(option, fromCode, prefix, allowSensitive);
    const fromEnv = envEntries(
      env,
      variable,
      (name) => compileHeaderList(variable, [name], prefix, true)[0]!.header,
      warn,
    );
    if (fromEnv.length === 0) return codeOnly;
    try {
      return compileHeaderList(option, [...fromCode, ...fromEnv], prefix, allowSensitive);
    } catch (error) {
      // Past the cap with the variable's names: the code's list, valid alone, is kept.
      warnIgnored(warn, `${variable}: ${(error as Error).message}`, 'the variable is ignored');
      return codeOnly;
    }
  };
  return {
    ignorePatterns,
    ignorePredicate,
    requestHook: o.requestHook,
    responseHook: o.responseHook,
    requestHeaders: captured('request', 'TRACEWIRE_CAPTURE_REQUEST_HEADERS', 'http.request.header.'),
    responseHeaders: captured('response', 'TRACEWIRE_CAPTURE_RESPONSE_HEADERS', 'http.response.header.'),
    spanName: o.spanName,
    isError: o.isError ?? defaultIsError,
    traceResponse: o.traceResponse === true,
    tracer: o.tracer,
    propagator: resolvePropagator(o.propagator),
    incomingContext: resolveIncomingContext(o.incomingContext, env.TRACEWIRE_INCOMING_CONTEXT),
    redactor: createUrlRedactor({ redactQuery: o.redactQuery, sensitiveQueryKeys: o.sensitiveQueryKeys }),
    knownMethods: knownHttpMethods(env),
  };
}

/**
 * What `compile` makes of each entry of a `TRACEWIRE_*` comma list: an entry it rejects is warned of and left out,
 * as an invalid `OTEL_*` value is (OpenTelemetry SDK environment spec), so an operator's typo never stops the
 * service. `compile` is the one that judges the same entries given in code.
 */
function envEntries<T>(
  env: NodeJS.ProcessEnv,
  variable: string,
  compile: (entry: string) => T,
  warn: EnvWarn,
): T[] {
  const kept: T[] = [];
  for (const entry of commaList(env[variable])) {
    try {
      kept.push(compile(entry));
    } catch (error) {
      const problem = (error as Error).message;
      warnIgnored(
        warn,
        problem.startsWith(variable) ? problem : `${variable}: ${problem}`,
        'that entry is left out',
      );
    }
  }
  return kept;
}

function resolveIncomingContext(value: unknown, envValue: string | undefined): IncomingContextPolicy {
  if (value !== undefined) {
    if (!INCOMING_CONTEXT_POLICIES.includes(value as IncomingContextPolicy)) {
      throw new RangeError(
        `incomingContext must be one of ${INCOMING_CONTEXT_POLICIES.join(', ')}; got ${JSON.stringify(value)}`,
      );
    }
    return value as IncomingContextPolicy;
  }
  const fromEnv = envValue?.trim().toLowerCase();
  if (fromEnv === undefined || fromEnv === '') return 'continue';
  if (!INCOMING_CONTEXT_POLICIES.includes(fromEnv as IncomingContextPolicy)) {
    throw new RangeError(
      `TRACEWIRE_INCOMING_CONTEXT must be one of ${INCOMING_CONTEXT_POLICIES.join(', ')}; got '${envValue}'`,
    );
  }
  return fromEnv as IncomingContextPolicy;
}

function resolvePropagator(value: Propagator | string | undefined): Propagator | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return propagatorsFromNames(value, 'propagator');
  if (value === null || typeof value.extract !== 'function' || typeof value.inject !== 'function') {
    throw new TypeError("propagator must be a Propagator or a name list like 'tracecontext,baggage,b3'");
  }
  return value;
}

/** `/health` matches exactly; `*` matches within one path segment, `**` across segments. */
export function globToRegExp(glob: string): RegExp {
  if (glob.length === 0 || glob.charCodeAt(0) !== 47 /* / */) {
    throw new RangeError(`ignore paths must start with '/'; got '${glob}'`);
  }
  let source = '^';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        source += '.*';
        i++;
      } else source += '[^/]*';
    } else source += /[\\^$.|?+()[\]{}]/.test(c) ? `\\${c}` : c;
  }
  return new RegExp(`${source}$`);
}
