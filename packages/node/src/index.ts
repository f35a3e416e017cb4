export {
  getActiveBaggage,
  getActiveContext,
  getActiveSpan,
  isTracingSuppressed,
  runInContext,
  suppressTracing,
  type TraceContext,
  withSpan,
} from './context.js';
export { type IgnoreOption, type ServerTracingOptions } from './server-options.js';
export { createServerTracing, RequestTrace, ServerTracing } from './server-span.js';
export type { Span } from './span.js';
export * from './span-data.js';
export { TracerStats } from './stats.js';
