// What the adapter reads of Express's routers, the same in Express 4 (its own router, path-to-regexp 0.1) and
// Express 5 (router 2, path-to-regexp 8). Mount layers are walked to learn what their paths can hold; nothing here
// changes them.

/** A layer of a router's stack, as far as mounts go. */
export type MountLayer = {
  route?: unknown;
  handle?: unknown;
  /** Express 4: the layer's parameter names. */
  keys?: unknown;
  /** Express 5: the path the layer was registered with. */
  rawPath?: unknown;
};

/** How deep the walks go: routers nest, and a router mounted inside itself must not loop. */
export const MAX_MOUNT_DEPTH = 32;

/** path-to-regexp 8 parameters (`:id`, `:"id"`) and named wildcards (`*rest`). */
const PARAMETER = /[:*]/;

/**
 * Whether a layer holds the tracing middleware: itself, or a wrapper around it. Libraries that make async handlers
 * safe put one around every function: express-promise-router one that keeps the function's name,
 * express-async-errors (Express 4, a `handle` accessor on every layer) an anonymous one; the layer keeps the name it
 * was made with in both.
 */
export function isTracingLayer(layer: { handle?: unknown; name?: unknown }, middleware: unknown): boolean {
  const handle = layer.handle;
  if (handle === middleware) return true;
  if (typeof middleware !== 'function' || middleware.name.length === 0) return false;
  return layer.name === middleware.name || (typeof handle === 'function' && handle.name === middleware.name);
}

/** The stack of an app's own router; undefined for a shape this does not know. */
export function appStack(app: unknown): unknown[] | undefined {
  if (typeof app !== 'function' && (typeof app !== 'object' || app === null)) return undefined;
  try {
    // Express 4 keeps its router at `_router` (and throws from the `router` getter); Express 5 at `router`.
    const router = ((app as { _router?: { stack?: unknown } })._router ??
      (app as { router?: { stack?: unknown } }).router) as { stack?: unknown } | undefined;
    return Array.isArray(router?.stack) ? router.stack : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a mount layer's path has parameters; a RegExp's groups count, and so does a shape this does not know. */
export function layerHasParameters(layer: MountLayer): boolean {
  if (Array.isArray(layer.keys)) return layer.keys.length > 0;
  const path = layer.rawPath;
  if (typeof path === 'string') return PARAMETER.test(path);
  if (Array.isArray(path)) return path.some((p) => typeof p !== 'string' || PARAMETER.test(p));
  return true;
}

type AppLike = { parent?: unknown; mountpath?: unknown };

/**
 * The apps from the outermost down to `app` (the request's): a mounted app is hidden in Express's `mounted_app`
 * closure, so a walk over the routers takes its stack from this list when it passes one.
 */
export function appsFromOutermost(app: object): object[] {
  const apps: object[] = [app];
  for (
    let parent = (app as AppLike).parent;
    apps.length < MAX_MOUNT_DEPTH;
    parent = (parent as AppLike).parent
  ) {
    if (typeof parent !== 'function' && (typeof parent !== 'object' || parent === null)) break;
    apps.unshift(parent);
  }
  return apps;
}

/** router 2 keeps the mount path, so a layer of another sub-app is told apart; Express 4 keeps only its regexp. */
export function mountsApp(layer: MountLayer, app: object): boolean {
  const mountpath = (app as AppLike).mountpath;
  const raw = layer.rawPath;
  if (raw === undefined) return true;
  if (Array.isArray(raw) && Array.isArray(mountpath)) return raw.length === mountpath.flat(Infinity).length;
  return raw === mountpath;
}
