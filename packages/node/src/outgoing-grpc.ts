import type { Span } from './span.js';
import { type Attributes, SpanStatusCode } from './span-data.js';

/**
 * gRPC runs over HTTP/2 (`@grpc/grpc-js` opens its calls with `ClientHttp2Session#request`), so its calls reach
 * the HTTP/2 layer. They are recorded as the RPC semantic conventions describe them, in the form tracing backends'
 * RPC views read today (as OpenTelemetry's gRPC instrumentation writes it): named `package.Service/Method`, with
 * `rpc.system`, `rpc.service`, `rpc.method` and `rpc.grpc.status_code`, the status read from `grpc-status`.
 */
export interface GrpcCall {
  readonly service: string;
  readonly method: string;
  /** `grpc-status` once an answer carried it; -1 before. */
  status: number;
  /** `grpc-message`, percent-decoded. */
  message: string | undefined;
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
export function grpcCallOf(contentType: unknown, path: string): GrpcCall | undefined {
  if (typeof contentType !== 'string' || !contentType.toLowerCase().startsWith('application/grpc')) {
    return undefined;
  }
  const next = contentType.charCodeAt(16);
  // `application/grpc-web` is another protocol (browsers through a proxy); only `grpc`, `grpc+…`, `grpc;…`.
  if (!Number.isNaN(next) && next !== 43 /* + */ && next !== 59 /* ; */) return undefined;
  const slash = path.indexOf('/', 1);
  if (path.charCodeAt(0) !== 47 || slash <= 1 || slash === path.length - 1) return undefined;
  if (path.indexOf('/', slash + 1) !== -1) return undefined;
  return { service: path.slice(1, slash), method: path.slice(slash + 1), status: -1, message: undefined };
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
