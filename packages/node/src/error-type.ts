/**
 * The type of a thrown value, as `exception.type` on the exception event and `error.type` on the span both report
 * it, so the two always agree. An error's own `name` says most (`TypeError`, `AbortError`, a `ValidationError`
 * set on a plain Error); when it only says `Error`, a subclass that did not set its own name is still known by its
 * constructor (`class MappedError extends Error {}`). Undefined when neither says anything.
 */
export function errorTypeOf(error: object): string | undefined {
  const name = (error as { name?: unknown }).name;
  if (typeof name === 'string' && name.length > 0 && name !== 'Error') return name;
  const ctor = (error as { constructor?: { name?: unknown } }).constructor?.name;
  if (typeof ctor === 'string' && ctor.length > 0 && ctor !== 'Object') return ctor;
  return typeof name === 'string' && name.length > 0 ? name : undefined;
}
