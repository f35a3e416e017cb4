import type { InstrumentationScope, ReadableSpan, Resource } from '../span-data.js';

export interface ScopeGroup {
  scope: InstrumentationScope;
  spans: ReadableSpan[];
}

export interface ResourceGroup {
  resource: Resource;
  scopes: ScopeGroup[];
}

/** Scopes are one scope by name and version (two tracers of one library share theirs); no version is ''. */
export function scopeKey(scope: InstrumentationScope): string {
  return `${scope.name}@${scope.version ?? ''}`;
}

/** OTLP nests spans as resourceSpans → scopeSpans → spans; a tracer shares one resource object, so identity groups. */
export function groupByResourceAndScope(
  spans: readonly ReadableSpan[],
  from = 0,
  to = spans.length,
): ResourceGroup[] {
  const byResource = new Map<Resource, Map<string, ScopeGroup>>();
  // Spans of one tracer share their resource and scope objects: a run of them needs no lookup at all.
  let lastResource: Resource | undefined;
  let lastScope: InstrumentationScope | undefined;
  let lastGroup: ScopeGroup | undefined;
  for (let i = from; i < to; i++) {
    const span = spans[i]!;
    if (span.resource === lastResource && span.scope === lastScope && lastGroup !== undefined) {
      lastGroup.spans.push(span);
      continue;
    }
    let scopes = byResource.get(span.resource);
    if (scopes === undefined) {
      scopes = new Map();
      byResource.set(span.resource, scopes);
    }
    const key = scopeKey(span.scope);
    let group = scopes.get(key);
    if (group === undefined) {
      group = { scope: span.scope, spans: [] };
      scopes.set(key, group);
    }
    group.spans.push(span);
    lastResource = span.resource;
    lastScope = span.scope;
    lastGroup = group;
  }
  const groups: ResourceGroup[] = [];
  for (const [resource, scopes] of byResource) groups.push({ resource, scopes: [...scopes.values()] });
  return groups;
}

// trace.proto SpanFlags: bit 8 says whether the parent's remoteness is known, bit 9 that it is remote.
const HAS_IS_REMOTE = 0x100;
const IS_REMOTE = 0x200;

/** The span's `flags`: W3C trace flags in the low byte plus OTLP's is-remote bits for the parent. */
export function spanFlags(
  traceFlags: number,
  hasParent: boolean,
  parentIsRemote: boolean | undefined,
): number {
  const flags = traceFlags & 0xff;
  if (!hasParent) return flags | HAS_IS_REMOTE;
  if (parentIsRemote === undefined) return flags;
  return parentIsRemote ? flags | HAS_IS_REMOTE | IS_REMOTE : flags | HAS_IS_REMOTE;
}

/** A link's `flags`: the linked context's trace flags plus whether it came from another process. */
export function linkFlags(traceFlags: number, isRemote: boolean | undefined): number {
  return (traceFlags & 0xff) | HAS_IS_REMOTE | (isRemote ? IS_REMOTE : 0);
}

/** int64 AnyValue holds integers that fit; anything else (fractions, NaN, ±Infinity, beyond 2^63) is a double. */
export function isInt64(value: number): boolean {
  return Number.isInteger(value) && value < 2 ** 63 && value >= -(2 ** 63);
}
