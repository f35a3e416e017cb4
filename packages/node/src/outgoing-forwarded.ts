import type { ClientRequest } from 'node:http';
import { defaultGetter, isSpanContextValid } from '@tracewire/core';
import { getActiveContext } from './context.js';
import type { OutgoingState } from './outgoing-span.js';

/**
 * A call that already carries trace headers either continues the active trace or belongs to another one. A proxy
 * forwards the incoming request's headers (http-proxy-middleware, @fastify/http-proxy, express-http-proxy), and
 * code may inject by hand: both carry the active trace, but name the caller's span (or the active one) as the
 * parent, so the next service skipped this hop and the hop went unrecorded. Such a call is traced like any other
 * and its trace headers are replaced by its client span's, as are those of a caller whose trace was not continued
 * (`incomingContext: 'link'`). Headers of another trace, set on purpose, are left as they are, and the call
 * untraced.
 */
export function carriesActiveTrace(state: OutgoingState, headers: object): boolean {
  const context = getActiveContext();
  const active = context?.span?.spanContext();
  if (active === undefined || !isSpanContextValid(active)) return false;
  // defaultGetter: the names of headers set in code may be in any case.
  const carried = state.tracer.propagator.extract(headers, defaultGetter).spanContext?.traceId;
  // Under `incomingContext: 'link'` the caller's trace was not continued; a proxy forwarding it must not either.
  return carried !== undefined && (carried === active.traceId || carried === context?.callerTraceId);
}

/** The headers of a flat `[name, value, ...]` list (Node's raw headers, undici's) under lowercase names. */
export function lowercasePairs(pairs: readonly unknown[]): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    const name = pairs[i];
    if (typeof name === 'string') record[name.toLowerCase()] = pairs[i + 1];
  }
  return record;
}

/** A flat `[name, value, ...]` list without the headers the client span's own replace. */
export function withoutReplacedPairs(state: OutgoingState, pairs: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    const name = pairs[i]!;
    if (!isReplacedHeader(state, name)) kept.push(name, pairs[i + 1]!);
  }
  return kept;
}

/** Whether `name`, in any case, is a header the client span's own replaces. */
export function isReplacedHeader(state: OutgoingState, name: string): boolean {
  return state.replacedHeaders.has(name.toLowerCase());
}

type SetHeader = (
  this: ClientRequest,
  name: string,
  value: number | string | readonly string[],
) => ClientRequest;

/**
 * A `setHeader` for one traced request that ignores trace headers of the active trace written after it was made.
 * Libraries that keep their own header list write it onto the request once `http.request` returned it: superagent
 * sets each of its headers that way, and on a redirect carries the previous hop's `traceparent` over, so the
 * client span's own was replaced and the next service named another span as its parent.
 */
export function keepingClientSpanHeaders(state: OutgoingState): SetHeader {
  return function setHeaderKeepingTrace(this: ClientRequest, name, value) {
    // Once the headers are sent Node's own method throws, as it does without tracing.
    if (!this.headersSent && isActiveTraceHeader(state, name, value)) return this;
    // Looked up at each call: a spy or patch put on the prototype after tracing started still sees every call.
    const setHeader = Reflect.get(Object.getPrototypeOf(this) as object, 'setHeader', this) as SetHeader;
    return setHeader.call(this, name, value);
  };
}

/** Whether a header written onto a traced call after it was made is a trace header of the active trace. */
export function isActiveTraceHeader(state: OutgoingState, name: unknown, value: unknown): boolean {
  if (typeof name !== 'string' || !isReplacedHeader(state, name)) return false;
  try {
    return carriesActiveTrace(state, { [name.toLowerCase()]: value });
  } catch {
    state.tracer.stats.instrumentationErrors++;
    return false;
  }
}
