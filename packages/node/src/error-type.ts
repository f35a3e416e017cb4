/**
 * The type of a thrown value, as `exception.type` on the exception event and `error.type` on the span both report
 * it, so the two always agree, read as OpenTelemetry's SDK reads it (sdk-trace `Span.recordException`), so that
 * queries written for its data keep matching: an error's string `code` first (a Node system error's `ECONNREFUSED`,
 * Fastify's `FST_ERR_VALIDATION`), then its own `name` (`TypeError`, `AbortError`, a `ValidationError` set on a
 * plain Error); when that only says `Error`, a subclass that did not set its own name is still known by its
 * constructor (`class MappedError extends Error {}`). Undefined when none says anything.
 */
export function errorTypeOf(error: object): string | undefined {
  // A string code only: DOMException's numeric legacy codes (20 for AbortError) say less than its name.
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && code.length > 0) return code;
  const name = (error as { name?: unknown }).name;
  if (typeof name === 'string' && name.length > 0 && name !== 'Error') return name;
  const ctor = (error as { constructor?: { name?: unknown } }).constructor?.name;
  if (typeof ctor === 'string' && ctor.length > 0 && ctor !== 'Object') return ctor;
  return typeof name === 'string' && name.length > 0 ? name : undefined;
}

/** `error.type` for anything thrown: `errorTypeOf`, else `_OTHER`, also when reading the error throws. */
export function errorTypeOrOther(error: unknown): string {
  try {
    return (error !== null && typeof error === 'object' ? errorTypeOf(error) : undefined) ?? '_OTHER';
  } catch {
    return '_OTHER';
  }
}

/**
 * Errors that mean the client went away (the socket's ECONNRESET, a write after it closed, `pipeline`'s premature
 * close, Node's HTTP parser meeting the end of the connection inside a request, i.e. an upload the client gave up
 * on): a response cut off by them is the client's abort, which the span reports as `aborted`, not the app's error.
 */
const CLIENT_GONE = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
  'HPE_INVALID_EOF_STATE',
]);

export function isClientGoneError(error: unknown): boolean {
  const code = error !== null && typeof error === 'object' ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && CLIENT_GONE.has(code);
}
