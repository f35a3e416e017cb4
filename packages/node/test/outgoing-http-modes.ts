import diagnosticsChannel from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { withSpan } from '../src/context.js';
import { type HttpInstrumentationMode, installHttp, nodeHasCreatedChannel } from '../src/outgoing-http.js';
import { type OutgoingOptions, resolveOutgoingOptions } from '../src/outgoing-options.js';
import { createOutgoingState } from '../src/outgoing-span.js';
import { type ReadableSpan, SpanKind } from '../src/span-data.js';
import { Tracer } from '../src/tracer.js';

/** Both ways `node:http` calls are reached, whichever Node runs the tests. */
export const httpModes: HttpInstrumentationMode[] = ['wrap', 'channel'];

export interface ModeHarness {
  readonly spans: ReadableSpan[];
  /** Runs `send` inside an active sampled span and, where Node does not, announces the request on the channel. */
  send(send: () => ClientRequest): ClientRequest;
  uninstall(): void;
}

/** `node:http` instrumented in `mode` alone, with ended spans collected. */
export function installHttpMode(mode: HttpInstrumentationMode, options?: OutgoingOptions): ModeHarness {
  const spans: ReadableSpan[] = [];
  const tracer = new Tracer({
    processors: [{ onEnd: (s) => void spans.push(s), forceFlush: async () => {}, shutdown: async () => {} }],
  });
  const uninstall = installHttp(createOutgoingState(tracer, resolveOutgoingOptions(options)), mode);
  return {
    spans,
    uninstall,
    send(send) {
      return withSpan(tracer.startSpan('parent', { kind: SpanKind.SERVER }), () => {
        const request = send();
        // Node before 22.12/23.2 does not publish `created`: publish what newer Node does, from the same place.
        if (mode === 'channel' && !nodeHasCreatedChannel()) {
          diagnosticsChannel.channel('http.client.request.created').publish({ request });
        }
        return request;
      });
    },
  };
}
