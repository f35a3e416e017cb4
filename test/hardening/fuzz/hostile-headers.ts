import fc from 'fast-check';

// Generators for the trace headers a hostile or broken caller can send: well-formed values, the same values
// mutated a few characters at a time, oversized repetitions, and arbitrary strings (control characters, CR/LF,
// lone surrogates, non-ASCII). Real Node servers reject CR/LF and NUL in header values before any middleware
// runs; the in-process driver does not, so the adapters see even those.

const HEX = '0123456789abcdef';
const NASTY = [
  '\r\n',
  '\n',
  '\r',
  '\0',
  '\t',
  ' ',
  '\x7f',
  '\x1b',
  'é',
  '\u2028',
  '\ud800',
  '\udfff',
  '😀',
  ',',
  ';',
  '=',
  '%',
  '-',
  ':',
  '"',
  '\\',
];

const hex = (min: number, max = min): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom(...HEX), minLength: min, maxLength: max });

const hexish = (n: number): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 6, arbitrary: hex(n) },
    { weight: 1, arbitrary: fc.constant('0'.repeat(n)) },
    { weight: 1, arbitrary: hex(n).map((s) => s.toUpperCase()) },
    { weight: 2, arbitrary: hex(0, n * 2 + 2) },
    { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...`${HEX}ABCDEFxg-_ `), maxLength: n + 2 }) },
  );

// Any code point or a lone surrogate, built directly (fast-check's 'binary' unit maps the whole code point
// range up front, a second of a run's budget).
const anyChar: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0x80, max: 0x10ffff }).map((c) => String.fromCodePoint(c)),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
);

/** Any code point, including CR/LF, NUL, DEL, lone surrogates and astral characters. */
export const anyText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: anyChar, maxLength: 80 }),
  fc.string({ unit: fc.constantFrom(...NASTY, 'a', '0', 'f'), maxLength: 40 }),
);

const token = fc.string({
  unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789_-*/@'),
  minLength: 1,
  maxLength: 12,
});

export const traceparent: fc.Arbitrary<string> = fc
  .tuple(
    fc.oneof(fc.constant('00'), fc.constant('ff'), hexish(2)),
    hexish(32),
    hexish(16),
    fc.oneof(fc.constantFrom('00', '01', '02', '03', 'ff'), hexish(2)),
    fc.oneof(
      { weight: 8, arbitrary: fc.constant('') },
      { weight: 1, arbitrary: fc.string({ maxLength: 20 }).map((s) => `-${s}`) },
    ),
  )
  .map(([v, t, s, f, tail]) => `${v}-${t}-${s}-${f}${tail}`);

/** `k0=v,k1=v,...` around a limit: many members are cheap to build and exercise the member caps. */
const manyMembers = (around: number, value: string): fc.Arbitrary<string> =>
  fc
    .tuple(fc.integer({ min: around - 3, max: around + 3 }), fc.nat(around + 3))
    .map(([n, dup]) => Array.from({ length: n }, (_, i) => `k${i === dup ? 0 : i}=${value}`).join(','));

const tracestateList: fc.Arbitrary<string> = fc
  .array(
    fc.tuple(
      fc.oneof({ weight: 5, arbitrary: token }, { weight: 1, arbitrary: anyText }),
      fc.oneof(
        { weight: 5, arbitrary: fc.string({ unit: fc.constantFrom(...'abcXYZ019 !~+-_'), maxLength: 20 }) },
        { weight: 1, arbitrary: fc.integer({ min: 200, max: 300 }).map((n) => 'v'.repeat(n)) },
        { weight: 1, arbitrary: anyText },
      ),
      fc.constantFrom(',', ', ', ' ,\t', ',,'),
    ),
    { maxLength: 40, size: 'small' },
  )
  .map((members) => members.map(([k, v, sep], i) => `${i === 0 ? '' : sep}${k}=${v}`).join(''));

export const tracestate: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: tracestateList },
  { weight: 1, arbitrary: manyMembers(32, 'v') },
);

const baggageValue = fc.oneof(
  { weight: 5, arbitrary: fc.string({ unit: fc.constantFrom(...'abcXYZ019-_.~!*'), maxLength: 20 }) },
  {
    weight: 2,
    arbitrary: fc
      .string({ unit: anyChar, maxLength: 20 })
      .map((s) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, 'x'))),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('%', '%zz', '%E0%80', '%ED%A0%80', '%C0%AF', '%F4%90%80%80', '%2', '%%41'),
  },
  // Long values by repetition: cheap to generate, and only the length matters to the limits.
  { weight: 1, arbitrary: fc.integer({ min: 500, max: 9000 }).map((n) => 'x'.repeat(n)) },
  { weight: 20, arbitrary: fc.constant('v') },
  { weight: 1, arbitrary: anyText },
);

const baggageList: fc.Arbitrary<string> = fc
  .array(
    fc.tuple(
      fc.oneof({ weight: 5, arbitrary: token }, { weight: 1, arbitrary: anyText }),
      baggageValue,
      fc.oneof(
        { weight: 6, arbitrary: fc.constant('') },
        { weight: 1, arbitrary: fc.constantFrom(';p1', '; k = v', ';;', ';=', ';k=v;p', ';k="q"') },
        { weight: 1, arbitrary: anyText.map((s) => `;${s}`) },
      ),
    ),
    { maxLength: 200, size: 'small' },
  )
  .map((members) => members.map(([k, v, p]) => `${k}=${v}${p}`).join(','));

export const baggage: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: baggageList },
  { weight: 1, arbitrary: manyMembers(180, 'v') },
  { weight: 1, arbitrary: fc.integer({ min: 30, max: 60 }).chain((n) => manyMembers(180, 'x'.repeat(n))) },
);

export const b3Single: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('0', '1', 'd', ''),
  fc
    .tuple(
      fc.oneof(hexish(32), hexish(16)),
      hexish(16),
      fc.oneof(fc.constant(''), fc.constantFrom('-0', '-1', '-d', '-true', '-x')),
      fc.oneof(
        fc.constant(''),
        hexish(16).map((s) => `-${s}`),
      ),
    )
    .map(([t, s, f, p]) => `${t}-${s}${f}${p}`),
);

export const b3Sampled: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('0', '1', 'true', 'false', 'd', ''),
  anyText,
);

export const uberTraceId: fc.Arbitrary<string> = fc
  .tuple(
    fc.oneof(hexish(32), hexish(16), hex(1, 5)),
    fc.oneof(hexish(16), hex(1, 5)),
    fc.oneof(fc.constant('0'), hexish(16)),
    fc.oneof(fc.constantFrom('0', '1', '01', '2', '3', 'ff', '100'), hexish(2)),
    fc.constantFrom(':', '%3A', '%3a', '::', '-'),
  )
  .map(([t, s, p, f, sep]) => [t, s, p, f].join(sep));

const uberctxKey = fc.oneof({ weight: 6, arbitrary: token }, { weight: 1, arbitrary: anyText });

/** Up to 4 random character edits: insert, delete, replace, duplicate a slice, or cut the end. */
export function mutated(base: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const edit = fc.record({
    kind: fc.constantFrom('insert', 'delete', 'replace', 'duplicate', 'cut'),
    at: fc.nat(),
    text: fc.oneof(fc.constantFrom(...NASTY), fc.constantFrom(...HEX), fc.string({ maxLength: 3 })),
  });
  return fc.tuple(base, fc.array(edit, { minLength: 1, maxLength: 4 })).map(([value, edits]) => {
    let s = value;
    for (const { kind, at, text } of edits) {
      const i = s.length === 0 ? 0 : at % (s.length + 1);
      if (kind === 'insert') s = s.slice(0, i) + text + s.slice(i);
      else if (kind === 'delete') s = s.slice(0, i) + s.slice(i + 1);
      else if (kind === 'replace') s = s.slice(0, i) + text + s.slice(i + text.length);
      else if (kind === 'duplicate') s = s.slice(0, i) + s.slice(i) + s.slice(i);
      else s = s.slice(0, i);
    }
    return s;
  });
}

/** The value repeated up to ~20,000 characters (past Node's default 16 KiB limit for the whole header section). */
export function oversized(base: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc
    .tuple(base, fc.integer({ min: 2, max: 2000 }), fc.constantFrom(',', '', ' ', ';'))
    .map(([value, times, sep]) => {
      const unit = value.length === 0 ? 'x' : value;
      return Array.from({ length: Math.min(times, Math.ceil(20_000 / unit.length)) }, () => unit).join(sep);
    });
}

function hostile(base: fc.Arbitrary<string>): fc.Arbitrary<string | string[]> {
  return fc.oneof(
    { weight: 40, arbitrary: base },
    { weight: 30, arbitrary: mutated(base) },
    { weight: 1, arbitrary: oversized(base) },
    { weight: 8, arbitrary: anyText },
    // Node joins most repeated headers itself; proxies and other frameworks' carriers may still hand over arrays.
    { weight: 3, arbitrary: fc.array(base, { minLength: 0, maxLength: 3 }) },
  );
}

export type HostileHeaders = Record<string, string | string[]>;

/** A request's headers: any subset of the trace headers of every format, each one hostile. */
export const hostileHeaders: fc.Arbitrary<HostileHeaders> = fc
  .tuple(
    fc.record(
      {
        traceparent: hostile(traceparent),
        tracestate: hostile(tracestate),
        baggage: hostile(baggage),
        b3: hostile(b3Single),
        'x-b3-traceid': hostile(fc.oneof(hexish(32), hexish(16))),
        'x-b3-spanid': hostile(hexish(16)),
        'x-b3-parentspanid': hostile(hexish(16)),
        'x-b3-sampled': hostile(b3Sampled),
        'x-b3-flags': hostile(fc.constantFrom('1', '0', 'd')),
        'uber-trace-id': hostile(uberTraceId),
      },
      { requiredKeys: [] },
    ),
    fc.dictionary(uberctxKey, hostile(baggageValue), { maxKeys: 6 }),
  )
  .map(([headers, uberctx]) => {
    const out: HostileHeaders = { ...headers } as HostileHeaders;
    for (const [key, value] of Object.entries(uberctx)) out[`uberctx-${key}`.toLowerCase()] = value;
    return out;
  });
