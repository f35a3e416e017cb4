import { isValidSpanId, isValidTraceId, type SpanContext } from '@tracewire/core';
import type { Attributes, SpanLink } from '../span-data.js';
import type { OtelSpanContext } from './api-types.js';
import { countBridgeError, toSpanContext } from './convert.js';

const ZERO_TRACE_ID = '00000000000000000000000000000000';
const ZERO_SPAN_ID = '0000000000000000';

/**
 * A link as the API gives one (`startSpan` options, `addLink`), as tracewire records it; undefined for one to
 * leave out. Exporters write a link's ids as they are, and an OTLP/JSON receiver rejects a whole batch over one id
 * that is not a hex string: only valid ids are kept, and, as the OpenTelemetry spec ("Link") asks, the all-zero
 * ids of an invalid context (`INVALID_SPAN_CONTEXT`) that comes with attributes or a trace state. Never throws.
 */
export function toLink(link: unknown): SpanLink | undefined {
  const context = (link as { context?: unknown } | null)?.context;
  if (typeof context !== 'object' || context === null) return undefined;
  try {
    const converted = toSpanContext(context as OtelSpanContext);
    const attributes = (link as { attributes?: unknown }).attributes;
    const hasAttributes =
      typeof attributes === 'object' && attributes !== null && Object.keys(attributes).length > 0;
    if (!(isValidTraceId(converted.traceId) && isValidSpanId(converted.spanId))) {
      const described = hasAttributes || (converted.traceState?.size ?? 0) > 0;
      if (!described || !isIdOrZero(converted)) return undefined;
    }
    const flags = converted.traceFlags;
    const linked: SpanContext =
      Number.isInteger(flags) && flags >= 0 && flags <= 0xff ? converted : { ...converted, traceFlags: 0 };
    return hasAttributes ? { context: linked, attributes: attributes as Attributes } : { context: linked };
  } catch {
    // A trace state whose `serialize` throws, a throwing getter: the link is left out, the span goes on.
    countBridgeError();
    return undefined;
  }
}

function isIdOrZero(context: SpanContext): boolean {
  const { traceId, spanId } = context;
  return (
    (traceId === ZERO_TRACE_ID || isValidTraceId(traceId)) &&
    (spanId === ZERO_SPAN_ID || isValidSpanId(spanId))
  );
}
