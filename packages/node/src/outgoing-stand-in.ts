import type { ClientRequest, IncomingMessage } from 'node:http';
import { type ClientCall, endClientCall, RESPONSE_ABORTED, recordResponseStatus } from './outgoing-span.js';

type StandIn = ClientRequest & {
  [kStandInCall]?: ClientCall;
  [kOwnEmit]?: (this: unknown, ...args: unknown[]) => boolean;
};
type WatchedResponse = IncomingMessage & { [kStandInCall]?: ClientCall };

const kStandInCall = Symbol('tracewire.standInCall');
const kOwnEmit = Symbol('tracewire.standInEmit');

/**
 * Whether Node's ClientRequest constructor never ran on `request`: a mocking library's stand-in (nock 13 builds
 * its requests on `OutgoingMessage` alone and answers them itself). Node publishes nothing on its HTTP channels for
 * such a request, and nock 13 emits no `close` after the response. Every constructor since Node 12.16 sets
 * `reusedSocket` on the request itself.
 */
export function isStandInRequest(request: ClientRequest): boolean {
  return !Object.hasOwn(request, 'reusedSocket');
}

/**
 * Follows a stand-in request through its own events: its response's status and end, or its error. The request's
 * `emit` is watched rather than listened to, so that the app sees the same events as without tracing (an `error`
 * listener would swallow the crash an unhandled error is, a `response` listener would change who reads the body).
 */
export function watchStandIn(request: ClientRequest, call: ClientCall): void {
  const standIn = request as StandIn;
  standIn[kStandInCall] = call;
  standIn[kOwnEmit] = standIn.emit as StandIn[typeof kOwnEmit];
  standIn.emit = emitWatched as ClientRequest['emit'];
}

function emitWatched(this: StandIn, event: string | symbol, value?: unknown): boolean {
  if (event === 'response' || event === 'error') noteEvent(this, event, value);
  // biome-ignore lint/complexity/noArguments: every argument the caller passed goes on unchanged.
  return Reflect.apply(this[kOwnEmit] as (...args: unknown[]) => boolean, this, arguments);
}

function noteEvent(request: StandIn, event: 'response' | 'error', value: unknown): void {
  const call = request[kStandInCall];
  if (call === undefined || call.ended) return;
  try {
    if (event === 'error') {
      endClientCall(call, value ?? new Error('request failed'));
      return;
    }
    const response = value as WatchedResponse | undefined;
    if (typeof response?.statusCode !== 'number') return;
    recordResponseStatus(call, response.statusCode);
    response[kStandInCall] = call;
    response.once('end', onResponseEnd);
    response.once('close', onResponseClose);
  } catch {
    call.stats.instrumentationErrors++;
  }
}

function onResponseEnd(this: WatchedResponse): void {
  const call = this[kStandInCall];
  if (call !== undefined) endClientCall(call);
}

function onResponseClose(this: WatchedResponse): void {
  const call = this[kStandInCall];
  if (call === undefined || call.ended) return;
  endClientCall(call, this.complete ? undefined : RESPONSE_ABORTED);
}
