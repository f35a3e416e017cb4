import { AsyncLocalStorage } from 'node:async_hooks';

// Each package ships an ES module and a CommonJS build, and an app that `import`s one and `require`s another loads
// two copies of this package. What must be one per process lives on `globalThis` under a registered symbol, so both
// copies use the same: the active context and the global tracer. (What belongs to Node's built-in modules, the
// outgoing-call installation, is kept with them instead: builtin-shared.ts.)

/** Shared slots; the tracer is kept untyped here so this file depends on nothing of the package. */
interface ProcessShared {
  readonly storage: AsyncLocalStorage<unknown>;
  tracer: unknown;
  /** Why configuring from the environment failed, rethrown to later callers. */
  lazyFailure: unknown;
}

const KEY = Symbol.for('tracewire.node.processShared.v1');
const holder = globalThis as { [KEY]?: ProcessShared };

function sharedSlots(): ProcessShared {
  const existing = holder[KEY];
  if (existing !== undefined) return existing;
  const created: ProcessShared = {
    storage: new AsyncLocalStorage<unknown>(),
    tracer: undefined,
    lazyFailure: undefined,
  };
  holder[KEY] = created;
  return created;
}

export const processShared: ProcessShared = sharedSlots();
