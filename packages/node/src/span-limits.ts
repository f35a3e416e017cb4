/** Caps on what one span may hold; past a cap, new entries are dropped and counted (OpenTelemetry "Span Limits"). */
export interface SpanLimits {
  /** Attributes per span. Default 128 (`OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`, `OTEL_ATTRIBUTE_COUNT_LIMIT`). */
  attributeCountLimit?: number;
  /** Longest string attribute value kept; longer ones are truncated. Default unlimited. */
  attributeValueLengthLimit?: number;
  /** Events per span. Default 128 (`OTEL_SPAN_EVENT_COUNT_LIMIT`). */
  eventCountLimit?: number;
  /** Links per span. Default 128 (`OTEL_SPAN_LINK_COUNT_LIMIT`). */
  linkCountLimit?: number;
  /** Attributes per event. Default 128 (`OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT`). */
  eventAttributeCountLimit?: number;
  /** Attributes per link. Default 128 (`OTEL_LINK_ATTRIBUTE_COUNT_LIMIT`). */
  linkAttributeCountLimit?: number;
}

export type ResolvedSpanLimits = Required<SpanLimits>;

export const DEFAULT_SPAN_LIMITS: Readonly<ResolvedSpanLimits> = Object.freeze({
  attributeCountLimit: 128,
  attributeValueLengthLimit: Number.POSITIVE_INFINITY,
  eventCountLimit: 128,
  linkCountLimit: 128,
  eventAttributeCountLimit: 128,
  linkAttributeCountLimit: 128,
});
