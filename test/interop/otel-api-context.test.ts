import { EventEmitter } from 'node:events';
import * as api from '@opentelemetry/api';
import {
  configure,
  getActiveBaggage,
  getActiveSpan,
  InMemoryExporter,
  registerOpenTelemetryApi,
  SimpleSpanProcessor,
} from '@tracewire/node';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';

// The API's context manager and propagator as code uses them, with tracewire behind both: what the API's
// documentation and OpenTelemetry's AsyncLocalStorage context manager promise must hold here too.

const exporter = new InMemoryExporter();
const tracer = configure({
  serviceName: 'otel-api-context',
  propagators: 'tracecontext,baggage',
  processors: [new SimpleSpanProcessor(exporter)],
  shutdownOnSignals: false,
  instrumentOutgoing: false,
});
const registration = registerOpenTelemetryApi(api);
const library = api.trace.getTracer('context-lib');
const TENANT = api.createContextKey('tenant');

afterAll(async () => {
  registration.unregister();
  await tracer.shutdown();
});
beforeEach(() => exporter.reset());

const withTenant = (tenant: string): api.Context => api.context.active().setValue(TENANT, tenant);
const tenant = (): unknown => api.context.active().getValue(TENANT);

describe('the API context manager', () => {
  it('calls fn with thisArg and the arguments given to context.with, and bind keeps the caller’s this', () => {
    const receiver = { name: 'receiver' };
    const seen = api.context.with(
      withTenant('a'),
      function (this: typeof receiver, x: number, y: number) {
        return [this.name, x + y, tenant()];
      },
      receiver,
      2,
      3,
    );
    expect(seen).toEqual(['receiver', 5, 'a']);

    const bound = api.context.bind(withTenant('b'), function (this: typeof receiver, x: number) {
      return [this.name, x, tenant()];
    });
    expect(api.context.with(withTenant('elsewhere'), () => bound.call(receiver, 7))).toEqual([
      'receiver',
      7,
      'b',
    ]);
  });

  it('runs the listeners of an emitter bound with context.bind in that context, whoever emits', () => {
    const emitter = api.context.bind(withTenant('bound'), new EventEmitter());
    const seen: unknown[] = [];
    const onData = (n: number) => seen.push(['on', n, tenant()]);
    emitter.on('data', onData);
    emitter.once('data', (n: number) => seen.push(['once', n, tenant()]));
    emitter.prependListener('other', () => seen.push(['other', tenant()]));
    api.context.with(withTenant('emitter'), () => {
      emitter.emit('data', 1);
      emitter.emit('data', 2);
      emitter.emit('other');
    });
    expect(seen).toEqual([
      ['on', 1, 'bound'],
      ['once', 1, 'bound'],
      ['on', 2, 'bound'],
      ['other', 'bound'],
    ]);
    // Listeners are removed by the function the app added, one at a time or all at once.
    emitter.off('data', onData);
    emitter.emit('data', 3);
    expect(emitter.listenerCount('data')).toBe(0);
    emitter.removeAllListeners();
    expect(emitter.listenerCount('other')).toBe(0);
    expect(seen).toHaveLength(4);
  });

  it('removes a once-listener of a bound emitter by the function the app added, before it ever ran', () => {
    const emitter = api.context.bind(withTenant('bound'), new EventEmitter());
    const ran: string[] = [];
    // The pattern of many libraries: wait once for 'close', stop waiting when the work ends first.
    for (let i = 0; i < 3; i++) {
      const onClose = () => ran.push(`once ${i}`);
      emitter.once('close', onClose);
      emitter.removeListener('close', onClose);
      const onEnd = () => ran.push(`prepended ${i}`);
      emitter.prependOnceListener('end', onEnd);
      emitter.off('end', onEnd);
    }
    expect(emitter.listenerCount('close')).toBe(0);
    expect(emitter.listenerCount('end')).toBe(0);
    emitter.emit('close');
    emitter.emit('end');
    expect(ran).toEqual([]);
    // A once-listener left in place still runs once, in the bound context.
    emitter.once('close', () => ran.push(`kept in ${tenant()}`));
    api.context.with(withTenant('emitter'), () => emitter.emit('close'));
    emitter.emit('close');
    expect(ran).toEqual(['kept in bound']);
  });

  it('restores the outer context after a nested with, and returns the same object while nothing changes', () => {
    const outer = withTenant('outer');
    api.context.with(outer, () => {
      expect(api.context.active()).toBe(outer);
      api.context.with(withTenant('inner'), () => expect(tenant()).toBe('inner'));
      expect(api.context.active()).toBe(outer);
    });
    tracer.startActiveSpan('native', (span) => {
      // A context tracewire entered is shown to the API as one object, not a new one per call.
      expect(api.context.active()).toBe(api.context.active());
      span.end();
    });
    expect(api.context.active()).toBe(api.ROOT_CONTEXT);
  });

  it('keeps a value set in an API context through await, timers, setImmediate and promise callbacks', async () => {
    const seen = await api.context.with(withTenant('acme'), async () => {
      await new Promise((r) => setImmediate(r));
      const afterImmediate = tenant();
      const fromTimer = await new Promise((r) => setTimeout(() => r(tenant()), 1));
      const fromThen = await Promise.resolve().then(tenant);
      return [afterImmediate, fromTimer, fromThen];
    });
    expect(seen).toEqual(['acme', 'acme', 'acme']);
  });

  it("keeps the API's values inside tracewire's own startActiveSpan, with tracewire's span active there", () => {
    const outer = withTenant('acme');
    api.context.with(outer, () => {
      tracer.startActiveSpan('native', (span) => {
        expect(tenant()).toBe('acme');
        expect(api.trace.getActiveSpan()?.spanContext().spanId).toBe(span.spanContext().spanId);
        library.startSpan('api child').end();
        span.end();
      });
      expect(api.context.active()).toBe(outer);
    });
    const [child, native] = exporter.getFinishedSpans();
    expect(child?.parentSpanId).toBe(native?.spanContext().spanId);
  });

  it("keeps tracewire's span active inside an API context.with that only adds a value", () => {
    tracer.startActiveSpan('native', (span) => {
      api.context.with(withTenant('acme'), () => {
        expect(getActiveSpan()).toBe(span);
        expect(api.trace.getActiveSpan()?.spanContext().spanId).toBe(span.spanContext().spanId);
        expect(tenant()).toBe('acme');
      });
      span.end();
    });
  });

  it('keeps the span and the good entries of an API context whose baggage holds an entry that is not one', () => {
    const errorsBefore = tracer.stats.instrumentationErrors;
    const span = library.startSpan('with odd baggage');
    const odd = api.propagation.createBaggage({ good: { value: 'yes' }, bad: null as never });
    const context = api.propagation.setBaggage(api.trace.setSpan(api.ROOT_CONTEXT, span), odd);
    api.context.with(context, () => {
      expect(getActiveSpan()?.spanContext().spanId).toBe(span.spanContext().spanId);
      expect(getActiveBaggage()?.get('good')?.value).toBe('yes');
    });
    span.end();
    expect(tracer.stats.instrumentationErrors - errorsBefore).toBe(1);
  });
});

describe('the API propagator', () => {
  const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

  it('reads and writes plain objects through the default getter and setter, with baggage metadata both ways', () => {
    const extracted = api.propagation.extract(
      api.ROOT_CONTEXT,
      { traceparent: TRACEPARENT, baggage: 'tenant=acme;ttl=60,plan=pro' },
      api.defaultTextMapGetter,
    );
    const entries = api.propagation.getBaggage(extracted)?.getAllEntries();
    expect(entries?.map(([k, e]) => [k, e.value, e.metadata?.toString()])).toEqual([
      ['tenant', 'acme', 'ttl=60'],
      ['plan', 'pro', undefined],
    ]);

    const baggage = api.propagation.createBaggage({
      region: { value: 'eu', metadata: api.baggageEntryMetadataFromString('source=edge') },
    });
    const carrier: Record<string, string> = {};
    api.propagation.inject(api.propagation.setBaggage(extracted, baggage), carrier, api.defaultTextMapSetter);
    expect(carrier).toEqual({ traceparent: TRACEPARENT, baggage: 'region=eu;source=edge' });
    expect(api.propagation.fields()).toEqual([...tracer.propagator.fields]);
  });

  it('gives back a context the API would not make, unchanged and counted, instead of throwing from extract', () => {
    const errorsBefore = tracer.stats.instrumentationErrors;
    const odd = {} as api.Context;
    expect(api.propagation.extract(odd, { traceparent: TRACEPARENT, baggage: 'a=1' })).toBe(odd);
    expect(tracer.stats.instrumentationErrors - errorsBefore).toBe(1);
  });
});
