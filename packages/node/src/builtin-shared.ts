import diagnosticsChannel from 'node:diagnostics_channel';

// What touches Node's built-in modules must be one per process. `process-shared.ts` keeps state on `globalThis`,
// which both builds of this package share; Jest, though, gives each test file a `globalThis` and a module registry
// of its own (this package is loaded again per file) while `node:http` and its diagnostics channels are the
// worker's: an installation per test file piled up, each wrapping `http.request` again and subscribing again
// (10 files: 10 layers). So what belongs to the built-ins hangs on one of them, the `node:diagnostics_channel`
// module object, which every registry and both builds get from Node.

/** Runs a call that reached a wrapper no longer installed (someone wrapped on top of it) through the live one. */
export type CallThrough = (
  target: string,
  original: (this: unknown, ...args: unknown[]) => unknown,
  self: unknown,
  args: unknown[],
) => unknown;

interface BuiltinShared {
  /** Undoes the live outgoing-call installation, whichever registry or build of this package made it. */
  uninstallOutgoing: (() => void) | undefined;
  /** The live installation's tracing of a call, for wrappers left in place after they were uninstalled. */
  callThrough: CallThrough | undefined;
  /** Each released wrapper (left in place, passing calls on) and the function it wraps. */
  readonly releasedWrappers: WeakMap<object, object>;
  /** `ClientHttp2Session.prototype`, found once per process (null: not found); Node does not export it. */
  http2SessionPrototype: { request: unknown } | null | undefined;
  /** When an outage of each collector URL was last reported (epoch ms), so that tracers do not each say it again. */
  readonly outagesReported: Map<string, number>;
}

const KEY = Symbol.for('tracewire.node.builtinShared.v1');
const holder = diagnosticsChannel as unknown as { [KEY]?: BuiltinShared };

function sharedSlots(): BuiltinShared {
  const existing = holder[KEY];
  if (existing !== undefined) return existing;
  const created: BuiltinShared = {
    uninstallOutgoing: undefined,
    callThrough: undefined,
    releasedWrappers: new WeakMap(),
    http2SessionPrototype: undefined,
    outagesReported: new Map(),
  };
  try {
    Object.defineProperty(holder, KEY, { value: created });
  } catch {
    // A module object someone froze: one per module registry then, as on `globalThis`.
  }
  return created;
}

export const builtinShared: BuiltinShared = sharedSlots();
