// Whether an app mounts anything under a path with parameters (`app.use('/orgs/:orgId', teams)`). Only then does a
// route's template need the names behind the values in `req.baseUrl`, and so a watch on every `req.params`
// assignment. That watch turns the request object into a dictionary (it redefines a property Express has already
// set), which costs ~20 µs per request on Node 24; apps without such mounts skip it there (route-watch.ts).

import { appStack, layerHasParameters, MAX_MOUNT_DEPTH, type MountLayer } from './router-stack.js';

type RouterLike = { stack?: unknown };

const known = new WeakMap<object, { size: number; answer: boolean }>();

/**
 * True when some router reachable from `app` has a mount layer with parameters, or when that cannot be told
 * (an unknown router shape, a mounted sub-app, which Express hides in a closure): the safe answer. Cached per app
 * and looked at again when its top-level stack grows.
 */
export function mountsWithParameters(app: unknown): boolean {
  const stack = appStack(app);
  if (stack === undefined) return true;
  const cached = known.get(stack);
  if (cached !== undefined && cached.size === stack.length) return cached.answer;
  const answer = stackMountsWithParameters(stack, 0, new WeakSet());
  known.set(stack, { size: stack.length, answer });
  return answer;
}

function stackMountsWithParameters(stack: unknown[], depth: number, seen: WeakSet<object>): boolean {
  if (depth > MAX_MOUNT_DEPTH || seen.has(stack)) return depth > MAX_MOUNT_DEPTH;
  seen.add(stack);
  for (const entry of stack) {
    if (typeof entry !== 'object' || entry === null) return true;
    const layer = entry as MountLayer;
    // A route's own parameters are in its template already.
    if (layer.route !== undefined) continue;
    if (layerHasParameters(layer)) return true;
    if (typeof layer.handle !== 'function') return true;
    const handle = layer.handle as { name?: unknown } & RouterLike;
    if (Array.isArray(handle.stack)) {
      if (stackMountsWithParameters(handle.stack, depth + 1, seen)) return true;
    } else if (handle.name === 'mounted_app') {
      return true;
    }
  }
  return false;
}
