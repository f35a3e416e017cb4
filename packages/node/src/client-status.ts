import type { Span } from './span.js';
import { SpanStatusCode } from './span-data.js';

/**
 * The HTTP semantic conventions' client-side rule for an answer: a 4xx or 5xx is an error whose `error.type` is the
 * status code; anything below leaves the status as it is.
 */
export function recordAnswerStatus(span: Span, statusCode: number): void {
  if (statusCode < 400) return;
  span.setAttribute('error.type', String(statusCode));
  span.setStatus({ code: SpanStatusCode.ERROR });
}
