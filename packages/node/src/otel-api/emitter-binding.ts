import { EventEmitter } from 'node:events';

type Listener = (...args: unknown[]) => unknown;
type Method = (this: EventEmitter, ...args: unknown[]) => unknown;

// Per bound emitter, per event: the listener the app passed → the one registered in its place.
const kBoundListeners = Symbol('tracewire.otelBoundListeners');
type Bound = EventEmitter & { [kBoundListeners]?: Map<string | symbol, WeakMap<Listener, Listener>> };

const ADD_METHODS = ['addListener', 'on', 'once', 'prependListener', 'prependOnceListener'] as const;
const REMOVE_METHODS = ['removeListener', 'off'] as const;

/**
 * Set while one of the patched methods adds a listener. Node's `once` adds its own wrapper through `this.on`: wrapped
 * again there, the registered function would no longer carry `.listener` pointing at ours, and `removeListener` by
 * the app's function would find nothing to remove.
 */
let adding = false;

/**
 * The API's `context.bind(context, emitter)`: every listener added to `emitter` from now on runs in `context`,
 * whoever emits (OpenTelemetry's context managers do the same, by patching the emitter's own methods). The app
 * still removes a listener by the function it added. An emitter is bound once; later binds leave it as it is.
 */
export function bindEmitter<T extends EventEmitter>(
  emitter: T,
  bindListener: (listener: Listener) => Listener,
): T {
  const bound = emitter as Bound;
  if (bound[kBoundListeners] !== undefined) return emitter;
  const map = new Map<string | symbol, WeakMap<Listener, Listener>>();
  bound[kBoundListeners] = map;
  for (const name of ADD_METHODS) {
    const original = emitter[name] as unknown as Method;
    replaceMethod(
      emitter,
      name,
      function addBound(this: EventEmitter, event: string | symbol, listener: Listener) {
        if (adding || typeof listener !== 'function') return original.call(this, event, listener);
        let listeners = map.get(event);
        if (listeners === undefined) {
          listeners = new WeakMap();
          map.set(event, listeners);
        }
        const wrapped = bindListener(listener);
        listeners.set(listener, wrapped);
        adding = true;
        try {
          return original.call(this, event, wrapped);
        } finally {
          adding = false;
        }
      },
    );
  }
  for (const name of REMOVE_METHODS) {
    const original = emitter[name] as unknown as Method;
    replaceMethod(
      emitter,
      name,
      function removeBound(this: EventEmitter, event: string | symbol, listener: Listener) {
        return original.call(this, event, map.get(event)?.get(listener) ?? listener);
      },
    );
  }
  const removeAll = emitter.removeAllListeners as unknown as Method;
  replaceMethod(
    emitter,
    'removeAllListeners',
    function removeAllBound(this: EventEmitter, ...args: unknown[]) {
      if (args.length === 0) map.clear();
      else map.delete(args[0] as string | symbol);
      return removeAll.apply(this, args);
    },
  );
  return emitter;
}

/** An own property of this emitter alone, shadowing EventEmitter.prototype's method as the app could. */
function replaceMethod(emitter: EventEmitter, name: string, method: (...args: never[]) => unknown): void {
  Object.defineProperty(emitter, name, { configurable: true, writable: true, value: method });
}

export function isEventEmitter(value: unknown): value is EventEmitter {
  return value instanceof EventEmitter;
}
