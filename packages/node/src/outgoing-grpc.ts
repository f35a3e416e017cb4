import type { Span } from './span.js';
import { type Attributes, SpanStatusCode } from './span-data.js';

/**
 * gRPC runs over HTTP/2 (`@grpc/grpc-js` opens its calls with `ClientHttp2Session#request`), so its calls reach
 * the HTTP/2 layer. They are recorded as the RPC semantic conventions describe them: named `package.Service/Method`
 * (OpenTelemetry's gRPC instrumentation writes `grpc.package.Service/Method`), with the attributes tracing
 * backends' RPC views read today, as that instrumentation writes them: `rpc.system`, `rpc.service`, `rpc.method`
 * and `rpc.grpc.status_code`, the status read from `grpc-status`.
 */
export interface GrpcCall {
  readonly service: string;
  readonly method: string;
  /** `grpc-status` once an answer carried it; -1 before. */
  status: number;
  /** `grpc-message`, percent-decoded. */
  message: string | undefined;
  /** When the call's `grpc-timeout` runs out (epoch ms), if it sent one. */
  readonly deadlineAt: number | undefined;
}

// Index = the status code, as the gRPC spec numbers them.
const STATUS_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

/**
 * The call's service and method when the request is gRPC: `content-type` `application/grpc` (or `+proto`,
 * `+json`, ...) and a `:path` of `/package.Service/Method`. Undefined for any other HTTP/2 request.
 */
export function grpcCallOf(contentType: unknown, path: string, timeout?: unknown): GrpcCall | undefined {
  if (typeof contentType !== 'string' || !contentType.toLowerCase().startsWith('application/grpc')) {
    return undefined;
  }
  const next = contentType.charCodeAt(16);
  // `application/grpc-web` is another protocol (browsers through a proxy); only `grpc`, `grpc+…`, `grpc;…`.
  if (!Number.isNaN(next) && next !== 43 /* + */ && next !== 59 /* ; */) return undefined;
  const slash = path.indexOf('/', 1);
  if (path.charCodeAt(0) !== 47 || slash <= 1 || slash === path.length - 1) return undefined;
  if (path.indexOf('/', slash + 1) !== -1) return undefined;
  return {
    service: path.slice(1, slash),
    method: path.slice(slash + 1),
    status: -1,
    message: undefined,
    deadlineAt: deadlineOf(timeout),
  };
}

// gRPC over HTTP/2: `grpc-timeout` is up to 8 digits and a unit.
const TIMEOUT_UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };

function deadlineOf(timeout: unknown): number | undefined {
  if (typeof timeout !== 'string') return undefined;
  const match = /^(\d{1,8})([HMSmun])$/.exec(timeout);
  return match === null ? undefined : Date.now() + Number(match[1]) * TIMEOUT_UNIT_MS[match[2]!]!;
}

/**
 * The status of a call whose stream was reset before any `grpc-status` came (gRPC over HTTP/2, "Errors"): the
 * client cancelling (`call.cancel()`, or its deadline passing: grpc-js then resets with CANCEL too) or the server's
 * transport refusing. Without it the span said `aborted` where the app saw CANCELLED or DEADLINE_EXCEEDED.
 */
export function statusFromReset(call: GrpcCall, rstCode: number, nowMs = Date.now()): void {
  if (call.status >= 0 || rstCode === 0) return;
  if (rstCode === 8 /* CANCEL */) {
    // Timers fire at or after their time; a millisecond's slack for the timeout's rounding.
    call.status = call.deadlineAt !== undefined && nowMs >= call.deadlineAt - 1 ? 4 : 1;
  } else if (rstCode === 7 /* REFUSED_STREAM */) call.status = 14;
  else if (rstCode === 11 /* ENHANCE_YOUR_CALM */) call.status = 8;
  else if (rstCode === 12 /* INADEQUATE_SECURITY */) call.status = 7;
  else call.status = 13;
  call.message = `stream reset with HTTP/2 error code ${rstCode}`;
}

export function grpcSpanName(call: GrpcCall): string {
  return `${call.service}/${call.method}`;
}

export function recordGrpcMethod(call: GrpcCall, attributes: Attributes): void {
  attributes['rpc.system'] = 'grpc';
  attributes['rpc.service'] = call.service;
  attributes['rpc.method'] = call.method;
}

/**
 * Reads `grpc-status` / `grpc-message` from a header block: the trailers, or the response headers of a
 * "Trailers-Only" answer (an error before any message), which carry no trailers at all.
 */
export function readGrpcStatus(call: GrpcCall, headers: Record<string, unknown> | undefined): void {
  const status = headers?.['grpc-status'];
  if (status === undefined) return;
  const code = Number(status);
  if (!Number.isInteger(code) || code < 0) return;
  call.status = code;
  const message = headers?.['grpc-message'];
  if (typeof message === 'string' && message.length > 0) call.message = decodeMessage(message);
}

/**
 * Sets the status of a client gRPC call's span, which is an error unless `grpc-status` is OK. Returns false when
 * the call failed below gRPC (a transport error, an HTTP status other than 200 such as a proxy's 502, a stream
 * closed before any answer): the HTTP rules say those.
 */
export function finishGrpcSpan(span: Span, call: GrpcCall, httpStatus: number, error: unknown): boolean {
  if (call.status < 0) {
    if (error !== undefined || httpStatus !== 200) return false;
    span.setAttribute('error.type', '_OTHER');
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'the call ended without a grpc-status' });
    return true;
  }
  span.setAttribute('rpc.grpc.status_code', call.status);
  if (call.status !== 0) {
    span.setAttribute('error.type', STATUS_NAMES[call.status] ?? String(call.status));
    span.setStatus({ code: SpanStatusCode.ERROR, message: call.message ?? '' });
  }
  if (error !== undefined) span.recordException(error);
  return true;
}

function decodeMessage(message: string): string {
  try {
    return decodeURIComponent(message);
  } catch {
    return message;
  }
}
