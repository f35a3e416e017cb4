// Koa makes every request's context from its app's context prototype (`app.context`, which Koa offers for
// extension; mounted apps share the parent's `ctx`). What the adapter adds there is installed once per app, the
// first time one of its requests is traced, rather than on every request.

const extended = new WeakSet<object>();
/** Nearly every request of a process comes through one app: its prototype skips the WeakSet. */
let lastPrototype: object | null = null;

/** Calls `extend` with the context prototype of `ctx`'s app (and `ctx`), once per app. */
export function extendAppContextOnce<C extends object>(
  ctx: C,
  extend: (prototype: object, ctx: C) => void,
): void {
  const prototype = Object.getPrototypeOf(ctx) as object | null;
  if (prototype === lastPrototype || prototype === null) return;
  lastPrototype = prototype;
  if (extended.has(prototype)) return;
  extended.add(prototype);
  extend(prototype, ctx);
}
