import { getActiveContext, type TraceContext } from './context.js';

/**
 * undici follows a redirect (`maxRedirections`, `interceptors.redirect`) or retries (`interceptors.retry`,
 * `RetryAgent`) by dispatching the next hop itself, with the same handler, from inside the socket's callback that
 * read the previous answer. The context active there is that of whoever opened the pooled connection, so the hop
 * of one trace was recorded in, and sent the headers of, another. A hop is therefore traced in the context its first
 * request was made in, remembered per handler.
 */
const firstHopContexts = new WeakMap<object, TraceContext>();
const NO_CONTEXT: TraceContext = Object.freeze({ span: undefined, baggage: undefined, suppressed: false });

// undici keeps a request's handler under a private `Symbol('handler')`; each copy of undici (Node's bundled one for
// `fetch`, the npm package) has its own, so it is looked up once per Request class.
const handlerSymbols = new WeakMap<object, symbol | null>();

/**
 * The context a request's first hop was created in, when `request` is a later hop of it; undefined for a first
 * request, whose context is then remembered.
 */
export function firstHopContext(request: object): TraceContext | undefined {
  const handler = handlerOf(request);
  if (handler === undefined) return undefined;
  const first = firstHopContexts.get(handler);
  if (first !== undefined) return first;
  firstHopContexts.set(handler, getActiveContext() ?? NO_CONTEXT);
  return undefined;
}

function handlerOf(request: object): object | undefined {
  const type = request.constructor as object | undefined;
  if (type === undefined) return undefined;
  let symbol = handlerSymbols.get(type);
  if (symbol === undefined) {
    symbol = Object.getOwnPropertySymbols(request).find((s) => s.description === 'handler') ?? null;
    handlerSymbols.set(type, symbol);
  }
  if (symbol === null) return undefined;
  const handler = (request as Record<symbol, unknown>)[symbol];
  return typeof handler === 'object' && handler !== null ? handler : undefined;
}
