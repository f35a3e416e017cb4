import type { SpanBatch } from '../span-batch.js';
import type { InstrumentationScope, ReadableSpan, Resource } from '../span-data.js';
import { scopeKey } from './otlp-grouping.js';
import { writeResourceField, writeScopeField, writeSpanField } from './otlp-proto.js';
import type { ProtoWriter } from './proto-writer.js';

/** The encoded spans of one resource and scope, in the order they ended. */
interface ScopeRun {
  readonly resource: Resource;
  readonly scope: InstrumentationScope;
  readonly scopeKey: string;
  readonly spans: ProtoWriter;
}

/**
 * A batch of spans encoded in OTLP protobuf as each ends, while its fields are still in the cache. OTLP nests spans
 * under their resource and scope, and spans of several scopes arrive interleaved, so each resource and scope
 * collects its own run of encoded `Span` fields; `writeRequest` puts the runs under their headers.
 */
export class OtlpProtoBatch implements SpanBatch {
  length = 0;
  private readonly runs: ScopeRun[] = [];
  private last: ScopeRun | undefined;

  constructor(private readonly takeWriter: () => ProtoWriter) {}

  add(span: ReadableSpan): void {
    let run = this.last;
    // A tracer's spans share their resource and scope objects: most spans need no search.
    if (run === undefined || run.resource !== span.resource || run.scope !== span.scope) {
      run = this.runFor(span);
      this.last = run;
    }
    const writer = run.spans;
    const before = writer.position;
    try {
      writeSpanField(writer, span);
    } catch (error) {
      writer.rewind(before);
      throw error;
    }
    this.length++;
  }

  /** Writes the whole `ExportTraceServiceRequest` into `out`, which is reset first. */
  writeRequest(out: ProtoWriter): void {
    out.reset();
    const runs = this.runs;
    for (let i = 0; i < runs.length; i++) {
      const resource = runs[i]!.resource;
      // Each resource once, where it first appears; a run left empty (its one span failed to encode) adds nothing.
      if (runs.findIndex((run) => run.resource === resource && run.spans.position > 0) !== i) continue;
      const resourceSpans = out.open(1);
      writeResourceField(out, resource);
      for (let j = i; j < runs.length; j++) {
        const run = runs[j]!;
        if (run.resource !== resource || run.spans.position === 0) continue;
        const scopeSpans = out.open(2);
        writeScopeField(out, run.scope);
        out.raw(run.spans.written());
        out.close(scopeSpans);
      }
      out.close(resourceSpans);
    }
  }

  /** The writers this batch holds, for the next batches to reuse once its request is written. */
  writers(): ProtoWriter[] {
    return this.runs.map((run) => run.spans);
  }

  private runFor(span: ReadableSpan): ScopeRun {
    const { resource, scope } = span;
    const key = scopeKey(scope);
    // Resources are one by identity, as in encodeOtlpProto's grouping.
    for (const run of this.runs) if (run.resource === resource && run.scopeKey === key) return run;
    const spans = this.takeWriter();
    spans.reset();
    const run: ScopeRun = { resource, scope, scopeKey: key, spans };
    this.runs.push(run);
    return run;
  }
}
