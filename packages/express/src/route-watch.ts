import type { IncomingMessage } from 'node:http';
import { ServerTracing } from '@tracewire/node';
import { type Params, safeDecode } from './mount-match.js';
import { mountsWithParameters } from './mount-parameters.js';
import { registeredMountTemplate } from './mount-template.js';

type RouteLike = { path?: unknown };

const kRoute = Symbol('tracewire.express.route');
const kParams = Symbol('tracewire.express.params');
const kParamsSeen = Symbol('tracewire.express.paramsSeen');

type ExpressRequest = IncomingMessage & {
  app?: unknown;
  baseUrl?: string;
  route?: RouteLike;
  params?: Params;
  [kRoute]?: RouteLike;
  [kParams]?: Params;
  /** Every `params` object assigned so far, oldest first: mount paths are rebuilt from them. */
  [kParamsSeen]?: Params[];
};

// Express 4 and 5 (router 2) both assign `req.route` just before a route's handlers run, while `req.baseUrl` is
// still the enclosing router's mount path; by the time the response finishes, a router that passed on (next(err))
// has already restored `baseUrl`. Accessors on this one request read the template at that moment, without
// patching Express.
const routeProperty: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: ExpressRequest) {
    return this[kRoute];
  },
  set(this: ExpressRequest, route: RouteLike | undefined) {
    const previous = this[kRoute];
    this[kRoute] = route;
    // Route#dispatch assigns the same route again once the route's own params are in.
    if (route == null || route === previous) return;
    ServerTracing.current(this)?.setRoute(routeTemplate(this, route));
  },
};

// `baseUrl` holds the matched text of mount paths (`/orgs/7/teams/3`), not their patterns. Each matched mount
// layer assigns its params (`{ teamId: '3' }`) just before it narrows `baseUrl`, so their values map back to names.
// Only kept here; read when a route under a mount is matched.
const paramsProperty: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: ExpressRequest) {
    return this[kParams];
  },
  set(this: ExpressRequest, params: Params | undefined) {
    if (params === this[kParams]) return;
    this[kParams] = params;
    if (params == null) return;
    const seen = this[kParamsSeen];
    if (seen === undefined) this[kParamsSeen] = [params];
    else seen.push(params);
  },
};

const ROUTE_AND_PARAMS: PropertyDescriptorMap = { route: routeProperty, params: paramsProperty };

// express-ws registers `app.ws('/rooms/:room')` as the GET route `/rooms/:room/.websocket` and rewrites the
// handshake's URL to reach it: the span is named by the route the app wrote.
const EXPRESS_WS_SUFFIX = '/.websocket';

function routeTemplate(req: ExpressRequest, route: RouteLike): string {
  const path = route.path;
  let template =
    typeof path === 'string' ? path : Array.isArray(path) ? path.map(String).join(',') : String(path);
  if (template.endsWith(EXPRESS_WS_SUFFIX) && req.headers.upgrade !== undefined) {
    template = template.slice(0, -EXPRESS_WS_SUFFIX.length) || '/';
  }
  const baseUrl = req.baseUrl ?? '';
  if (baseUrl.length === 0 || baseUrl === '/') return template;
  const base = registeredMountTemplate(req.app, baseUrl, route) ?? mountTemplate(baseUrl, req[kParamsSeen]);
  if (base === '' || base === '/') return template;
  return template === '/' ? base : base + template;
}

/**
 * The fallback where the app's routers cannot be read (mount-template.ts): `baseUrl` with each segment holding a
 * param's value put back as the param. A param whose value spans path segments: Express 5's named wildcards (`*rest`, an array of segments) and Express
 * 4's `*` or a regular expression's group (a string with slashes). Shown as one `*name` or `:name`.
 */
type Run = { segments: string[]; label: string };

function mountTemplate(baseUrl: string, seen: Params[] | undefined): string {
  if (seen === undefined || baseUrl.length === 0) return baseUrl;
  // Param value -> the name it was first matched under.
  const names = new Map<string, string>();
  let runs: Run[] | undefined;
  for (const params of seen) {
    for (const key in params) {
      const value = params[key];
      let run: Run | undefined;
      if (typeof value === 'string') {
        // With a slash it may also be one segment that had it encoded (`a%2Fb`).
        if (value.length > 0 && !names.has(value)) names.set(value, key);
        if (value.includes('/')) run = { segments: value.split('/'), label: `:${key}` };
      } else if (Array.isArray(value) && value.length > 0) {
        run = { segments: value.map(String), label: `*${key}` };
      }
      if (run === undefined) continue;
      if (runs === undefined) runs = [run];
      else runs.push(run);
    }
  }
  const segments = baseUrl.split('/');
  for (let i = 1; i < segments.length; i++) {
    const run = runs === undefined ? undefined : runAt(runs, segments, i);
    if (run !== undefined) {
      segments.splice(i, run.segments.length, run.label);
      continue;
    }
    const name = names.get(safeDecode(segments[i]!));
    if (name !== undefined) segments[i] = `:${name}`;
  }
  return segments.join('/');
}

function runAt(runs: Run[], segments: string[], start: number): Run | undefined {
  for (const run of runs) {
    const length = run.segments.length;
    if (start + length > segments.length) continue;
    let i = 0;
    while (i < length && safeDecode(segments[start + i]!) === run.segments[i]) i++;
    if (i === length) return run;
  }
  return undefined;
}

/**
 * V8 before 13 (Node 20, 22) gives every Express request a hidden class of its own: router's `req.next = next`
 * stores a new closure per request, and those versions part the shape there. One shared dictionary shape is then
 * cheaper for everything Express and Node read from the request afterwards (~10 µs per request in bench/). From
 * V8 13 (Node 24) Express's requests keep one fast shape, which a dictionary would lose (~20 µs per request).
 */
export const REQUEST_SHAPES_SHARED = Number.parseInt(process.versions.v8 ?? '', 10) >= 13;

/**
 * Makes `req.route` (and, when mount paths need it, `req.params`) report to the request's trace as Express assigns
 * them. `route` is new on the request, so its accessor alone keeps a fast object fast; `params` is already set by
 * the time any middleware runs, and redefining it turns the request into a dictionary. `keepShape` false (V8 < 13,
 * see above) takes the dictionary on purpose. `mountParams`: the params of the mount layers matched before the
 * trace started (enclosing-mounts.ts), oldest first.
 */
export function watchRoute(
  req: IncomingMessage,
  keepShape = REQUEST_SHAPES_SHARED,
  mountParams?: Params[],
): void {
  const r = req as ExpressRequest;
  const { route, params } = r;
  if (!keepShape || mountParams !== undefined || mountsWithParameters(r.app)) {
    Object.defineProperties(r, ROUTE_AND_PARAMS);
    r[kParams] = params;
    if (mountParams !== undefined) {
      if (params != null) mountParams.push(params);
      r[kParamsSeen] = mountParams;
    } else if (params != null) r[kParamsSeen] = [params];
  } else {
    Object.defineProperty(r, 'route', routeProperty);
  }
  r[kRoute] = route;
}

/** Whether `watchRoute` already watches this request (an outer app's middleware did). */
export function isRouteWatched(req: IncomingMessage): boolean {
  return Object.getOwnPropertyDescriptor(req, 'route')?.get === routeProperty.get;
}

/**
 * The template of the mount a request was answered in when no route answered it: a handler mounted with
 * `app.use('/graphql', …)` (Apollo, tRPC, `express.static`, a sub-app's middleware) names the span `POST /graphql`
 * rather than `POST`. Express leaves `baseUrl` at the answering mount (a mount that passes the request on restores
 * it), so a request no mount answered (the final 404) has none. Read when the span ends.
 */
export function mountRouteOf(req: IncomingMessage): string | undefined {
  const r = req as ExpressRequest;
  if (r[kRoute] != null) return undefined;
  const baseUrl = r.baseUrl;
  if (typeof baseUrl !== 'string' || baseUrl.length <= 1) return undefined;
  return registeredMountTemplate(r.app, baseUrl) ?? mountTemplate(baseUrl, r[kParamsSeen]);
}

/** For a request `watchRoute` already watches in full: the params of the mounts matched before it, oldest first. */
export function addMountParams(req: IncomingMessage, mountParams: Params[]): void {
  const r = req as ExpressRequest;
  const seen = r[kParamsSeen];
  if (seen !== undefined) mountParams.push(...seen);
  r[kParamsSeen] = mountParams;
}
