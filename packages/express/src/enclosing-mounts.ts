// `tracing()` placed inside a router or sub-app starts the trace after the mount layers above it have matched. A
// router without `mergeParams` (and every app's own router) has by then replaced `req.params` with its own layer's,
// so the values in `req.baseUrl` (`/orgs/acme/teams/blue`) have no names to map back to, and the span would be
// named by the raw path. The patterns of those mount layers are still in the app: found once per middleware, and
// matched again against `req.baseUrl` per request, only for this placement.

import { hasParams, type MatchingLayer, matchMountChain, type Params } from './mount-match.js';
import {
  appStack,
  appsFromOutermost,
  isTracingLayer,
  layerHasParameters,
  MAX_MOUNT_DEPTH,
  mountsApp,
} from './router-stack.js';

type Located = {
  /** The request's app and the length of its top-level stack when the chains were found. */
  app: object;
  size: number;
  /** Mount layers from the outermost app down to the router holding the middleware, one list per place. */
  chains: MatchingLayer[][];
};

const located = new WeakMap<object, Located>();

/**
 * The params of the mount layers between the outermost app and the router or sub-app where `middleware` is
 * registered, matched against `baseUrl`, oldest first; undefined when none of them has parameters or none matches.
 */
export function enclosingMountParams(
  app: unknown,
  baseUrl: string,
  middleware: object,
): Params[] | undefined {
  if (typeof app !== 'function' && (typeof app !== 'object' || app === null)) return undefined;
  try {
    const place = locate(app, middleware);
    for (const chain of place.chains) {
      const params = matchChain(chain, baseUrl);
      if (params !== undefined) return params.length > 0 ? params : undefined;
    }
  } catch {
    // An app shape this does not know: the span keeps the mount path as Express matched it.
  }
  return undefined;
}

function locate(app: object, middleware: object): Located {
  const size = appStack(app)?.length ?? 0;
  const cached = located.get(middleware);
  if (cached !== undefined && cached.app === app && cached.size === size) return cached;
  const apps = appsFromOutermost(app);
  const chains: MatchingLayer[][] = [];
  const outermost = appStack(apps[0]!);
  if (outermost !== undefined) walk(outermost, apps, 0, [], middleware, chains, new Set());
  const place = { app, size, chains: chains.filter((chain) => chain.some(layerHasParameters)) };
  located.set(middleware, place);
  return place;
}

function walk(
  stack: unknown[],
  apps: object[],
  appIndex: number,
  chain: MatchingLayer[],
  middleware: object,
  chains: MatchingLayer[][],
  /** The stacks on the way here: a router mounted in two places is walked in both, a cycle only once. */
  seen: Set<unknown[]>,
): void {
  if (chain.length > MAX_MOUNT_DEPTH || seen.has(stack)) return;
  seen.add(stack);
  for (const entry of stack) {
    if (typeof entry !== 'object' || entry === null) continue;
    const layer = entry as MatchingLayer;
    if (layer.route !== undefined) continue;
    const handle = layer.handle as ({ name?: unknown; stack?: unknown } & object) | undefined;
    if (handle == null) continue;
    if (isTracingLayer(layer, middleware)) {
      if (appIndex === apps.length - 1) chains.push(chain);
    } else if (Array.isArray(handle.stack)) {
      walk(handle.stack, apps, appIndex, [...chain, layer], middleware, chains, seen);
    } else if (
      handle.name === 'mounted_app' &&
      appIndex + 1 < apps.length &&
      mountsApp(layer, apps[appIndex + 1]!)
    ) {
      const inner = appStack(apps[appIndex + 1]!);
      if (inner !== undefined) walk(inner, apps, appIndex + 1, [...chain, layer], middleware, chains, seen);
    }
  }
  seen.delete(stack);
}

/** The params of the layers that consume all of `baseUrl` in turn, those that named any; undefined unless they do. */
function matchChain(chain: MatchingLayer[], baseUrl: string): Params[] | undefined {
  return matchMountChain(chain, baseUrl)
    ?.filter(hasParams)
    .map((match) => match.params);
}
