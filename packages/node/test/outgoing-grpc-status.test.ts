import { describe, expect, it } from 'vitest';
import { grpcCallOf, statusFromReset } from '../src/outgoing-grpc.js';

// gRPC over HTTP/2, "Errors": the status of a call whose stream was reset before any grpc-status arrived.
describe('statusFromReset', () => {
  const call = (timeout?: string) => grpcCallOf('application/grpc', '/pkg.Svc/Method', timeout)!;

  it.each([
    [8, 1, 'CANCEL: CANCELLED'],
    [7, 14, 'REFUSED_STREAM: UNAVAILABLE'],
    [11, 8, 'ENHANCE_YOUR_CALM: RESOURCE_EXHAUSTED'],
    [12, 7, 'INADEQUATE_SECURITY: PERMISSION_DENIED'],
    [2, 13, 'INTERNAL_ERROR: INTERNAL'],
  ])('maps RST_STREAM %i to status %i (%s)', (rstCode, status) => {
    const c = call();
    statusFromReset(c, rstCode);
    expect(c.status).toBe(status);
  });

  it('reads a CANCEL once the grpc-timeout ran out as DEADLINE_EXCEEDED', () => {
    const c = call('100m');
    statusFromReset(c, 8, Date.now() + 200);
    expect(c.status).toBe(4);
    const early = call('10S');
    statusFromReset(early, 8);
    expect(early.status).toBe(1);
  });

  it('leaves a status the answer carried, and a stream closed without an error code', () => {
    const answered = call();
    answered.status = 5;
    statusFromReset(answered, 8);
    expect(answered.status).toBe(5);
    const clean = call();
    statusFromReset(clean, 0);
    expect(clean.status).toBe(-1);
    expect(call('soon').deadlineAt).toBeUndefined();
  });
});
