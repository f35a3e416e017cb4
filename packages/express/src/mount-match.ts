// Matching a router's mount layers against a path again, the way the routers did, without changing the layers: the
// mount readers (mount-template.ts, enclosing-mounts.ts) follow a request's way down from the app with it.

import type { MountLayer } from './router-stack.js';

export type Params = Record<string, unknown>;

export type MatchingLayer = MountLayer & {
  /** router 2 (Express 5): `{ path, params, pattern }`, `pattern` (2.3+) being the alternative that matched. */
  match?: unknown;
  matchers?: unknown;
  /** Express 4 (path-to-regexp 0.1); its `match` stores the result on the layer, so the regexp is used directly. */
  regexp?: unknown;
};

/** What a mount layer matched at the start of a path. */
export interface MountMatch {
  /** The part of the path it consumed. */
  readonly path: string;
  readonly params: Params;
  /** router 2: the path it was registered with (the alternative that matched, from 2.3); undefined for Express 4. */
  readonly pattern: unknown;
}

/** `text` percent-decoded, or as it is when its percent-encoding is not valid. */
export function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export function matchMountLayer(layer: MatchingLayer, path: string): MountMatch | undefined {
  if (layer.matchers !== undefined && typeof layer.match === 'function') {
    const found = (
      layer.match as (path: string) => { params?: unknown; path?: unknown; pattern?: unknown } | false
    ).call(layer, path);
    if (!found || typeof found.path !== 'string') return undefined;
    // router before 2.3 does not say which alternative matched: only a single pattern is known then.
    const pattern = 'pattern' in found ? found.pattern : layer.rawPath;
    return { path: found.path, params: (found.params ?? {}) as Params, pattern };
  }
  const regexp = layer.regexp;
  if (!(regexp instanceof RegExp)) return undefined;
  if ((regexp as RegExp & { fast_slash?: boolean }).fast_slash === true) {
    return { path: '', params: {}, pattern: undefined };
  }
  const found = regexp.exec(path);
  if (found === null) return undefined;
  const params: Params = {};
  const keys = Array.isArray(layer.keys) ? (layer.keys as { name?: unknown }[]) : [];
  for (let i = 0; i < keys.length; i++) {
    const value = found[i + 1];
    const name = keys[i]?.name;
    if (value !== undefined && (typeof name === 'string' || typeof name === 'number'))
      params[name] = safeDecode(value);
  }
  return { path: found[0], params, pattern: undefined };
}

/** Each layer consumes its part of `baseUrl` in turn, as the routers did; undefined unless all of it is used. */
export function matchMountChain(chain: readonly MatchingLayer[], baseUrl: string): MountMatch[] | undefined {
  const matches: MountMatch[] = [];
  let rest = baseUrl;
  for (const layer of chain) {
    const matched = matchMountLayer(layer, rest);
    if (matched === undefined) return undefined;
    matches.push(matched);
    rest = rest.slice(matched.path.length);
    if (rest.length > 0 && rest.charCodeAt(0) !== 47 /* / */) return undefined;
  }
  return rest.length === 0 || rest === '/' ? matches : undefined;
}

/** Whether a match named any parameter. */
export function hasParams(match: MountMatch): boolean {
  for (const _ in match.params) return true;
  return false;
}
