// `req.baseUrl` is the text of the URL the mount layers matched, as the client wrote it: `/USERS` for a mount at
// `/users` (Express matches case-insensitively), `/api/v2` for `/api/v:version`, `/rx7` for a RegExp mount. A route
// name built from it has one spelling per client. The names come instead from the patterns the app registered: the
// mount layers that consume `baseUrl` are found again in the app's routers, and their patterns joined, as
// OpenTelemetry's Express instrumentation names them.

import {
  hasParams,
  type MatchingLayer as Layer,
  type MountMatch,
  matchMountChain,
  matchMountLayer,
} from './mount-match.js';
import { appStack, appsFromOutermost, MAX_MOUNT_DEPTH, mountsApp } from './router-stack.js';

/** A mount layer's share of `baseUrl`: how much of it the layer consumed, and the pattern that did. */
type Matched = { length: number; template: string; parameters: boolean };

/**
 * Mount layers a route was last reached through, outermost first: most requests take the same way again. Null for
 * a route no way was found to: its app's routers cannot be read (a wrapper hides a stack), and searching them again
 * on every request would find no more.
 */
const chains = new WeakMap<object, Layer[] | null>();
/** Express 4 layers' patterns, read back from their regexps (null: a regexp this cannot read). */
const express4Templates = new WeakMap<object, string | null>();
/** Complete ways through the mounts looked at for a request no route answered, before taking the best. */
const MAX_CANDIDATES = 8;

/**
 * The mount part of a route name, from the patterns of the mount layers that consume `baseUrl`: those leading to
 * `route`, or, with no route (a request a mounted handler answered), the way with the fewest parameters (a literal
 * `/static` over a `/:tenant` that passed the request on). Undefined when the app's routers cannot be read (an
 * unknown shape, a wrapper hiding a router's stack): the caller then falls back on `baseUrl` itself.
 */
export function registeredMountTemplate(app: unknown, baseUrl: string, route?: object): string | undefined {
  try {
    if (route !== undefined) {
      const chain = chains.get(route);
      if (chain === null) return undefined;
      const known = chain === undefined ? undefined : matchChain(chain, baseUrl);
      if (known !== undefined) return known;
    }
    if (typeof app !== 'function' && (typeof app !== 'object' || app === null)) return undefined;
    const apps = appsFromOutermost(app);
    const stack = appStack(apps[0]);
    if (stack === undefined) return undefined;
    const search: Search = { apps, route, found: [], path: [] };
    walk(search, stack, 0, baseUrl, 0);
    let best: Found | undefined;
    for (const found of search.found)
      if (best === undefined || found.parameters < best.parameters) best = found;
    if (route !== undefined) chains.set(route, best === undefined ? null : best.layers);
    return best?.template;
  } catch {
    return undefined;
  }
}

type Found = { layers: Layer[]; template: string; parameters: number };
type Search = {
  apps: object[];
  route: object | undefined;
  found: Found[];
  /** The mount layers on the way down, with what each matched. */
  path: { layer: Layer; matched: Matched }[];
};

function walk(search: Search, stack: unknown[], appIndex: number, rest: string, depth: number): void {
  const route = search.route;
  if (rest.length === 0 || rest === '/') {
    if (route === undefined ? search.path.length > 0 : holdsRoute(stack, route)) {
      record(search);
      return;
    }
  }
  if (depth >= MAX_MOUNT_DEPTH) return;
  for (const entry of stack) {
    if (search.found.length >= (route === undefined ? MAX_CANDIDATES : 1)) return;
    if (typeof entry !== 'object' || entry === null) continue;
    const layer = entry as Layer;
    if (layer.route !== undefined || layer.handle == null) continue;
    const inner = innerStack(layer, search.apps, appIndex);
    // Only a router or an app leads to a route; a handler at `/` consumes nothing and names nothing.
    if (inner === undefined && route !== undefined) continue;
    const matched = matchLayer(layer, rest);
    if (matched === undefined) continue;
    const after = rest.slice(matched.length);
    if (after.length > 0 && after.charCodeAt(0) !== 47 /* / */) continue;
    if (inner === undefined && (matched.length === 0 || (after.length > 0 && after !== '/'))) continue;
    search.path.push({ layer, matched });
    if (inner === undefined) record(search);
    else walk(search, inner.stack, inner.appIndex, after, depth + 1);
    search.path.pop();
  }
}

function record(search: Search): void {
  let template = '';
  let parameters = 0;
  for (const { matched } of search.path) {
    template += matched.template;
    if (matched.parameters) parameters++;
  }
  search.found.push({ layers: search.path.map((step) => step.layer), template, parameters });
}

function holdsRoute(stack: unknown[], route: object): boolean {
  for (const entry of stack) {
    if (typeof entry === 'object' && entry !== null && (entry as Layer).route === route) return true;
  }
  return false;
}

/** A router's stack, or a mounted sub-app's (the next app down, when the layer mounts it). */
function innerStack(
  layer: Layer,
  apps: object[],
  appIndex: number,
): { stack: unknown[]; appIndex: number } | undefined {
  const handle = layer.handle as { name?: unknown; stack?: unknown };
  if (Array.isArray(handle.stack)) return { stack: handle.stack, appIndex };
  if (handle.name !== 'mounted_app' || appIndex + 1 >= apps.length) return undefined;
  const app = apps[appIndex + 1]!;
  if (!mountsApp(layer, app)) return undefined;
  const stack = appStack(app);
  return stack === undefined ? undefined : { stack, appIndex: appIndex + 1 };
}

/** The joined patterns of the layers that consume all of `baseUrl` in turn; undefined unless they do. */
function matchChain(chain: Layer[], baseUrl: string): string | undefined {
  const matches = matchMountChain(chain, baseUrl);
  if (matches === undefined) return undefined;
  let template = '';
  for (let i = 0; i < matches.length; i++) {
    const part = mountPart(chain[i]!, matches[i]!);
    if (part === undefined) return undefined;
    template += part.template;
  }
  return template;
}

function matchLayer(layer: Layer, path: string): Matched | undefined {
  const match = matchMountLayer(layer, path);
  if (match === undefined) return undefined;
  const part = mountPart(layer, match);
  return part === undefined ? undefined : { length: match.path.length, ...part };
}

/** The pattern a layer matched with, as a template part, and whether it has parameters. */
function mountPart(layer: Layer, match: MountMatch): { template: string; parameters: boolean } | undefined {
  // router 2 says which pattern matched; Express 4 keeps only its regexp, and its parameter names as `keys`.
  if (layer.matchers !== undefined && typeof layer.match === 'function') {
    const template = patternTemplate(match.pattern);
    return template === undefined ? undefined : { template, parameters: hasParams(match) };
  }
  const regexp = layer.regexp as RegExp;
  if ((regexp as RegExp & { fast_slash?: boolean }).fast_slash === true) {
    return { template: '', parameters: false };
  }
  const template = express4Template(layer, regexp);
  const parameters = Array.isArray(layer.keys) && layer.keys.length > 0;
  return template === undefined ? undefined : { template, parameters };
}

/** router 2's pattern as a template part: a path without its trailing slash (`/` is none), a RegExp as written. */
function patternTemplate(pattern: unknown): string | undefined {
  if (pattern instanceof RegExp) return String(pattern);
  if (typeof pattern !== 'string') return undefined;
  return pattern.endsWith('/') ? pattern.slice(0, -1) : pattern;
}

/** The end path-to-regexp 0.1 gives a mount's regexp (`end: false`), not strict and strict. */
const EXPRESS4_ENDS = ['\\/?(?=\\/|$)', '(?:\\/(?=$))?(?=\\/|$)'];
/** Characters that are regexp syntax, not a path's literal text, outside an escape. */
const SYNTAX = '.*+?[]{}|^$()';

/**
 * An Express 4 mount's path, read back from the regexp path-to-regexp 0.1 made of it (`^\/orgs(?:\/([^/]+?))` is
 * `/orgs/:orgId`), with the layer's key names. A RegExp the app mounted itself is shown as written, unless it is
 * case-insensitive, which is how path-to-regexp's own look: those it cannot read give undefined.
 */
function express4Template(layer: Layer, regexp: RegExp): string | undefined {
  let template = express4Templates.get(layer);
  if (template === undefined) {
    template = readExpress4Regexp(
      regexp,
      Array.isArray(layer.keys) ? (layer.keys as { name?: unknown }[]) : [],
    );
    if (template === null && !regexp.flags.includes('i')) template = String(regexp);
    express4Templates.set(layer, template);
  }
  return template ?? undefined;
}

function readExpress4Regexp(regexp: RegExp, keys: { name?: unknown }[]): string | null {
  const source = regexp.source;
  const end = EXPRESS4_ENDS.find((suffix) => source.endsWith(suffix));
  if (source.charCodeAt(0) !== 94 /* ^ */ || end === undefined) return null;
  const reader = { source, at: 1, keys, key: 0, text: '' };
  return readSequence(reader, source.length - end.length) && reader.key === keys.length ? reader.text : null;
}

type Reader = { source: string; at: number; keys: { name?: unknown }[]; key: number; text: string };

/** Literal text and groups up to `end`: a capturing group is a key (`:name`, or `*` for `*`), `?` after one optional. */
function readSequence(r: Reader, end: number): boolean {
  while (r.at < end) {
    const c = r.source[r.at]!;
    if (c === '\\') {
      r.text += r.source[r.at + 1] ?? '';
      r.at += 2;
    } else if (c === '(') {
      const close = closingParen(r.source, r.at);
      if (close === -1 || close >= end) return false;
      if (r.source.startsWith('(?:', r.at)) {
        r.at += 3;
        if (!readSequence(r, close)) return false;
      } else if (r.source[r.at + 1] === '?') {
        return false;
      } else {
        const name = r.keys[r.key++]?.name;
        if (name === undefined) return false;
        r.text += typeof name === 'number' ? '*' : `:${String(name)}`;
      }
      r.at = close + 1;
      if (r.source[r.at] === '?') {
        r.text += '?';
        r.at++;
      }
    } else if (SYNTAX.includes(c)) {
      return false;
    } else {
      r.text += c;
      r.at++;
    }
  }
  return true;
}

/** The index of the `)` closing the group opened at `open`, minding escapes and character classes; -1 if none. */
function closingParen(source: string, open: number): number {
  let depth = 0;
  let inClass = false;
  for (let i = open; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  return -1;
}
