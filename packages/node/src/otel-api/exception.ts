import type { Attributes } from '../span-data.js';

/**
 * The `exception` event's attributes for `Span.recordException`, read as OpenTelemetry's SDK reads the API's
 * `Exception` (sdk-trace `Span.recordException`), so code that traced through the SDK records the same event: a
 * string is the message; an object's `code` (a Node system error's `ECONNRESET`, an HTTP status) is its type
 * before its `name`. Undefined when there is neither a type nor a message: the SDK records no event then.
 * tracewire's own `recordException` reads the type the same way but takes string codes only, and adds a subclass's
 * name (error-type.ts).
 */
export function exceptionAttributes(exception: unknown): Attributes | undefined {
  if (typeof exception === 'string') {
    return exception.length > 0 ? { 'exception.message': exception } : undefined;
  }
  if (exception === null || typeof exception !== 'object') return undefined;
  const attributes: Attributes = {};
  try {
    const { code, name, message, stack } = exception as Record<string, unknown>;
    if ((typeof code === 'string' && code.length > 0) || (typeof code === 'number' && code !== 0)) {
      attributes['exception.type'] = String(code);
    } else if (typeof name === 'string' && name.length > 0) attributes['exception.type'] = name;
    if (typeof message === 'string' && message.length > 0) attributes['exception.message'] = message;
    if (typeof stack === 'string' && stack.length > 0) attributes['exception.stacktrace'] = stack;
  } catch {
    // A throwing getter on the caller's object: record what was read before it.
  }
  const recorded = 'exception.type' in attributes || 'exception.message' in attributes;
  return recorded ? attributes : undefined;
}
