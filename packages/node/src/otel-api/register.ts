import type { OpenTelemetryApi } from './api-types.js';
import { BridgedContextManager } from './context-manager.js';
import { BridgedPropagator } from './propagator.js';
import { BridgedTracerProvider } from './tracer.js';

export interface OpenTelemetryApiRegistration {
  /** Gives the API back its no-op globals. */
  unregister(): void;
}

/**
 * Makes tracewire the tracer provider, context manager and propagator behind `@opentelemetry/api`, so spans that
 * code and libraries start through the API are tracewire spans: children of the request's server span, parents
 * of its outgoing calls, exported with the rest. Pass the app's own copy of the API module:
 * `registerOpenTelemetryApi(await import('@opentelemetry/api'))`. Throws when the API already has a global
 * tracer provider, context manager or propagator (an OpenTelemetry SDK started in the same process).
 */
export function registerOpenTelemetryApi(api: OpenTelemetryApi): OpenTelemetryApiRegistration {
  checkApi(api);
  const unregister = () => {
    api.trace.disable();
    api.context.disable();
    api.propagation.disable();
  };
  const registered = [
    api.context.setGlobalContextManager(new BridgedContextManager(api)),
    api.trace.setGlobalTracerProvider(new BridgedTracerProvider(api)),
    api.propagation.setGlobalPropagator(new BridgedPropagator(api)),
  ];
  if (registered.includes(false)) {
    // The API keeps the first global of each kind: give back the ones taken here, leave the others' SDK as it was.
    if (registered[0]) api.context.disable();
    if (registered[1]) api.trace.disable();
    if (registered[2]) api.propagation.disable();
    throw new Error(
      'registerOpenTelemetryApi: @opentelemetry/api already has a global tracer provider, context manager or ' +
        'propagator (an OpenTelemetry SDK started in this process?). Start only one of the two.',
    );
  }
  return { unregister };
}

function checkApi(api: OpenTelemetryApi): void {
  const ok =
    api !== null &&
    typeof api === 'object' &&
    typeof api.trace?.setGlobalTracerProvider === 'function' &&
    typeof api.context?.setGlobalContextManager === 'function' &&
    typeof api.propagation?.setGlobalPropagator === 'function' &&
    api.ROOT_CONTEXT !== undefined;
  if (!ok) {
    throw new TypeError(
      "registerOpenTelemetryApi: pass the @opentelemetry/api module (import * as api from '@opentelemetry/api')",
    );
  }
}
