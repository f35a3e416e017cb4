export type { ResolvedViewerOptions, ViewerOptions } from './options.js';
export type { OtlpRequest } from './receivers/otlp-model.js';
export { decodeOtlpProto } from './receivers/otlp-proto-decode.js';
export type {
  AttributeMap,
  AttributeValue,
  SpanEventRecord,
  SpanKindName,
  SpanLinkRecord,
  SpanRecord,
} from './span-record.js';
export type {
  Dependency,
  Operation,
  TracePage,
  TraceQuery,
  TraceSummary,
} from './store/trace-query.js';
export { type TraceDetail, TraceStore } from './store/trace-store.js';
export { startViewer, type Viewer } from './viewer.js';
