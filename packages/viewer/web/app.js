// The tracewire viewer page: a trace list, a trace's waterfall and a service map over the viewer's JSON API.
// Plain DOM, no framework; every piece of text from a span goes in through textContent, never innerHTML.

const app = document.getElementById('app');

// ---------------------------------------------------------------------------------------------------------------
// Small helpers

/** Creates an element: h('div', { class: 'x', onclick }, child, 'text', ...). */
function h(tag, attributes = {}, ...children) {
  const svg = tag.startsWith('svg:');
  const element = svg
    ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4))
    : document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) element.addEventListener(key.slice(2), value);
    else if (key === 'style' && typeof value === 'object') {
      for (const [property, v] of Object.entries(value)) {
        if (property.startsWith('--')) element.style.setProperty(property, v);
        else element.style[property] = v;
      }
    } else element.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

async function api(path) {
  const response = await fetch(path);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error ?? `HTTP ${response.status}`);
  return body;
}

function formatDuration(us) {
  if (us < 1000) return `${Math.round(us)}µs`;
  if (us < 1_000_000) return `${(us / 1000).toFixed(us < 10_000 ? 2 : 1)}ms`;
  return `${(us / 1_000_000).toFixed(2)}s`;
}

function formatTime(us) {
  const date = new Date(us / 1000);
  const ms = String(date.getMilliseconds()).padStart(3, '0');
  return `${date.toLocaleTimeString(undefined, { hour12: false })}.${ms}`;
}

function formatAgo(us) {
  const seconds = Math.max(0, (Date.now() - us / 1000) / 1000);
  if (seconds < 5) return 'just now';
  if (seconds < 60) return `${Math.floor(seconds)}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ago`;
  return new Date(us / 1000).toLocaleDateString();
}

// One colour per service from a palette that reads on light and dark backgrounds: by the service's place in the
// sorted list of known services (so a handful of services never share a colour), else by a hash of its name.
const PALETTE = [
  '#3b82f6',
  '#10b981',
  '#f59e0b',
  '#8b5cf6',
  '#ec4899',
  '#14b8a6',
  '#f97316',
  '#6366f1',
  '#0ea5e9',
  '#d946ef',
];
let knownServices = [];
function serviceColor(name) {
  const index = knownServices.indexOf(name);
  if (index !== -1) return PALETTE[index % PALETTE.length];
  let hash = 0;
  for (let i = 0; i < name.length; i++) hash = (hash * 31 + name.charCodeAt(i)) >>> 0;
  return PALETTE[hash % PALETTE.length];
}

function serviceChip(name, count) {
  return h(
    'span',
    { class: 'chip', style: { '--service': serviceColor(name) } },
    h('i', { class: 'dot' }),
    name,
    count === undefined ? null : h('b', {}, count),
  );
}

function formatValue(value) {
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

function message(text, kind = 'empty') {
  return h('div', { class: `message ${kind}` }, text);
}

// ---------------------------------------------------------------------------------------------------------------
// Routing: #/ (trace list, filters in the hash's query), #/trace/<id>, #/map

function route() {
  const hash = location.hash.slice(1) || '/';
  const [path, query = ''] = hash.split('?');
  for (const link of document.querySelectorAll('nav a')) {
    const tab = link.dataset.tab;
    link.classList.toggle('active', tab === 'map' ? path === '/map' : path !== '/map');
  }
  if (path.startsWith('/trace/')) return showTrace(decodeURIComponent(path.slice('/trace/'.length)));
  if (path === '/map') return showMap();
  return showList(new URLSearchParams(query));
}

async function refreshServices() {
  try {
    knownServices = (await api('/api/services')).services;
  } catch {
    // Colours fall back to the name hash.
  }
}

window.addEventListener('hashchange', () => void refreshServices().then(route));

// The header's span count, polled; when it grows while the list is shown, the Refresh button says so.
let lastSpanCount;
async function showStatus() {
  try {
    const status = await api('/api/status');
    const el = document.getElementById('status');
    if (lastSpanCount !== undefined && status.spanCount > lastSpanCount) {
      document.getElementById('refresh')?.classList.add('fresh');
    }
    lastSpanCount = status.spanCount;
    el.replaceChildren(
      h('span', { title: 'spans stored' }, `${status.spanCount.toLocaleString()} spans`),
      h('span', { title: `POST ${status.receivers.otlp}/v1/traces` }, `OTLP ${status.receivers.otlp}`),
      h('span', { title: `POST ${status.receivers.zipkin}` }, `Zipkin ${status.receivers.zipkin}`),
    );
  } catch {
    // The header is informative only.
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Trace list

const RANGES = [
  ['', 'Any time'],
  ['15m', 'Last 15 minutes'],
  ['1h', 'Last hour'],
  ['6h', 'Last 6 hours'],
  ['24h', 'Last 24 hours'],
  ['7d', 'Last 7 days'],
];
const RANGE_MS = { '15m': 900_000, '1h': 3_600_000, '6h': 21_600_000, '24h': 86_400_000, '7d': 604_800_000 };

async function showList(params) {
  const filters = {
    service: params.get('service') ?? '',
    name: params.get('name') ?? '',
    minDurationMs: params.get('minDurationMs') ?? '',
    errorsOnly: params.get('errorsOnly') === 'true',
    range: params.get('range') ?? '',
  };
  const apply = (changes) => {
    const next = { ...filters, ...changes };
    if (changes.service !== undefined) next.name = '';
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(next)) if (value) query.set(key, String(value));
    const hash = `#/?${query}`;
    if (location.hash === hash) void route();
    else location.hash = hash;
  };

  const serviceSelect = h(
    'select',
    { id: 'filter-service', onchange: (e) => apply({ service: e.target.value }) },
    h('option', { value: '' }, 'All services'),
  );
  const nameSelect = h(
    'select',
    { id: 'filter-name', onchange: (e) => apply({ name: e.target.value }) },
    h('option', { value: '' }, 'All operations'),
  );
  const durationInput = h('input', {
    id: 'filter-min-duration',
    type: 'number',
    min: 0,
    step: 'any',
    placeholder: 'any',
    value: filters.minDurationMs,
    onchange: (e) => apply({ minDurationMs: e.target.value }),
  });
  const errorsBox = h('input', {
    id: 'filter-errors',
    type: 'checkbox',
    checked: filters.errorsOnly,
    onchange: (e) => apply({ errorsOnly: e.target.checked }),
  });
  const rangeSelect = h(
    'select',
    { id: 'filter-range', onchange: (e) => apply({ range: e.target.value }) },
    RANGES.map(([value, label]) => h('option', { value, selected: value === filters.range }, label)),
  );
  const list = h('div', { class: 'trace-list', id: 'trace-list' }, message('Loading traces…'));
  const more = h('div', { class: 'more' });

  app.replaceChildren(
    h(
      'section',
      { class: 'filters' },
      h('label', {}, h('span', {}, 'Service'), serviceSelect),
      h('label', {}, h('span', {}, 'Operation'), nameSelect),
      h('label', {}, h('span', {}, 'Min duration (ms)'), durationInput),
      h('label', {}, h('span', {}, 'Time'), rangeSelect),
      h('label', { class: 'check' }, errorsBox, h('span', {}, 'Errors only')),
      h(
        'button',
        {
          type: 'button',
          class: 'ghost',
          id: 'refresh',
          title: 'Reload the list',
          onclick: () => void route(),
        },
        'Refresh',
      ),
    ),
    list,
    more,
  );

  void api('/api/services').then(({ services }) => {
    for (const service of services)
      serviceSelect.append(h('option', { value: service, selected: service === filters.service }, service));
  });
  void api(`/api/operations${filters.service ? `?service=${encodeURIComponent(filters.service)}` : ''}`).then(
    ({ operations }) => {
      for (const op of operations)
        nameSelect.append(h('option', { value: op.name, selected: op.name === filters.name }, op.name));
      if (filters.name && !operations.some((op) => op.name === filters.name)) {
        nameSelect.append(h('option', { value: filters.name, selected: true }, filters.name));
      }
    },
  );

  const query = new URLSearchParams({ limit: '50' });
  if (filters.service) query.set('service', filters.service);
  if (filters.name) query.set('name', filters.name);
  if (filters.minDurationMs) query.set('minDurationMs', filters.minDurationMs);
  if (filters.errorsOnly) query.set('errorsOnly', 'true');
  if (RANGE_MS[filters.range]) query.set('from', String(Date.now() - RANGE_MS[filters.range]));

  let first = true;
  const load = async (cursor) => {
    if (cursor) query.set('cursor', cursor);
    let page;
    try {
      page = await api(`/api/traces?${query}`);
    } catch (error) {
      list.replaceChildren(message(`Could not load traces: ${error.message}`, 'error'));
      return;
    }
    if (first) {
      first = false;
      list.replaceChildren(listHeader());
      if (page.traces.length === 0) {
        list.append(
          message(
            filters.service || filters.name || filters.minDurationMs || filters.errorsOnly || filters.range
              ? 'No traces match these filters.'
              : 'No traces yet. Point a service at the OTLP or Zipkin receiver shown above, send it a request, then refresh.',
          ),
        );
      }
    }
    const longest = Math.max(1, ...page.traces.map((t) => t.durationUs));
    for (const trace of page.traces) list.append(traceRow(trace, longest));
    more.replaceChildren();
    if (page.nextCursor) {
      more.append(
        h(
          'button',
          { type: 'button', class: 'ghost', onclick: () => void load(page.nextCursor) },
          'Load older traces',
        ),
      );
    }
  };
  await load();
}

function listHeader() {
  return h(
    'div',
    { class: 'trace-row head' },
    h('span', {}, 'Trace'),
    h('span', {}, 'Services'),
    h('span', {}, 'Duration'),
    h('span', { class: 'when' }, 'Started'),
  );
}

function traceRow(trace, longest) {
  const color = serviceColor(trace.rootService);
  const accent = trace.errorCount > 0 ? 'var(--error)' : color;
  return h(
    'a',
    {
      class: `trace-row${trace.errorCount > 0 ? ' has-error' : ''}`,
      href: `#/trace/${trace.traceId}`,
      'data-trace-id': trace.traceId,
    },
    h(
      'span',
      { class: 'root' },
      h('i', { class: 'bar-accent', style: { background: accent } }),
      h(
        'span',
        { class: 'root-text' },
        h(
          'span',
          { class: 'root-name' },
          h('b', { style: { color } }, trace.rootService),
          ' ',
          trace.rootName || '(unnamed)',
        ),
        h(
          'span',
          { class: 'sub' },
          `${trace.spanCount} span${trace.spanCount === 1 ? '' : 's'}`,
          ' · ',
          h('code', {}, trace.traceId.slice(0, 12)),
          trace.errorCount > 0
            ? h(
                'span',
                { class: 'error-badge' },
                `${trace.errorCount} error${trace.errorCount === 1 ? '' : 's'}`,
              )
            : null,
        ),
      ),
    ),
    h(
      'span',
      { class: 'services' },
      Object.entries(trace.services).map(([name, count]) => serviceChip(name, count)),
    ),
    h(
      'span',
      { class: 'duration' },
      h(
        'span',
        { class: 'duration-track' },
        h('span', {
          class: 'duration-fill',
          style: { width: `${Math.max(2, (trace.durationUs / longest) * 100)}%`, background: accent },
        }),
      ),
      h('span', { class: 'duration-text' }, formatDuration(trace.durationUs)),
    ),
    h(
      'span',
      { class: 'when', title: new Date(trace.startUs / 1000).toISOString() },
      h('span', {}, formatAgo(trace.startUs)),
      h('span', { class: 'sub' }, formatTime(trace.startUs)),
    ),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Trace waterfall

/**
 * Depth-first rows: children under their parent by start time; spans whose parent never arrived are roots. Spans
 * that name each other (or themselves) as parent, which no walk from a root reaches, are shown as roots too.
 */
function buildRows(spans) {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const children = new Map();
  const roots = [];
  for (const span of spans) {
    if (span.parentSpanId && span.parentSpanId !== span.spanId && byId.has(span.parentSpanId)) {
      if (!children.has(span.parentSpanId)) children.set(span.parentSpanId, []);
      children.get(span.parentSpanId).push(span);
    } else roots.push(span);
  }
  const rows = [];
  const seen = new Set();
  // A stack rather than recursion, as in the node package's console waterfall: a chain thousands of spans deep
  // must not overflow the page's call stack.
  const visit = (root) => {
    const stack = [[root, 0]];
    while (stack.length > 0) {
      const [span, depth] = stack.pop();
      if (seen.has(span)) continue;
      seen.add(span);
      const kids = (children.get(span.spanId) ?? []).sort((a, b) => a.startUs - b.startUs);
      rows.push({ span, depth, childCount: kids.length, orphan: depth === 0 && Boolean(span.parentSpanId) });
      for (let i = kids.length - 1; i >= 0; i--) stack.push([kids[i], depth + 1]);
    }
  };
  const byStart = (a, b) => a.startUs - b.startUs;
  for (const root of roots.sort(byStart)) visit(root);
  for (const span of [...spans].sort(byStart)) if (!seen.has(span)) visit(span);
  return rows;
}

function ticks(total) {
  return [0, 0.25, 0.5, 0.75, 1].map((f) => ({ f, label: f === 0 ? '0' : formatDuration(total * f) }));
}

async function showTrace(traceId) {
  app.replaceChildren(message('Loading trace…'));
  let trace;
  try {
    trace = await api(`/api/traces/${encodeURIComponent(traceId)}`);
  } catch (error) {
    app.replaceChildren(
      h('a', { class: 'back', href: '#/' }, '← All traces'),
      message(error.message, 'error'),
    );
    return;
  }
  const rows = buildRows(trace.spans);
  const total = Math.max(1, trace.durationUs);
  const services = [...new Set(trace.spans.map((s) => s.service))];
  const errors = trace.spans.filter((s) => s.statusCode === 2).length;
  const root = rows[0]?.span;
  const collapsed = new Set();
  const details = h('aside', { class: 'details', id: 'span-details', hidden: true });
  const body = h('div', { class: 'waterfall-body' });
  let selected;

  const render = () => {
    const hiddenBelow = [];
    const out = [];
    for (const row of rows) {
      while (hiddenBelow.length > 0 && hiddenBelow[hiddenBelow.length - 1] >= row.depth) hiddenBelow.pop();
      if (hiddenBelow.length > 0) continue;
      out.push(spanRow(row));
      if (collapsed.has(row.span.spanId)) hiddenBelow.push(row.depth);
    }
    body.replaceChildren(...out);
  };

  const select = (span) => {
    selected = span.spanId;
    for (const el of body.querySelectorAll('.span-row'))
      el.classList.toggle('selected', el.dataset.spanId === selected);
    details.hidden = false;
    details.replaceChildren(
      ...spanDetails(span, trace, () => {
        selected = undefined;
        details.hidden = true;
        for (const el of body.querySelectorAll('.span-row.selected')) el.classList.remove('selected');
      }),
    );
  };

  const spanRow = ({ span, depth, childCount, orphan }) => {
    const color = serviceColor(span.service);
    const left = ((span.startUs - trace.startUs) / total) * 100;
    const width = Math.max(0.25, (span.durationUs / total) * 100);
    const isError = span.statusCode === 2;
    const toggle =
      childCount > 0
        ? h(
            'button',
            {
              type: 'button',
              class: `toggle${collapsed.has(span.spanId) ? ' closed' : ''}`,
              'aria-label': collapsed.has(span.spanId) ? 'expand' : 'collapse',
              onclick: (event) => {
                event.stopPropagation();
                if (collapsed.has(span.spanId)) collapsed.delete(span.spanId);
                else collapsed.add(span.spanId);
                render();
              },
            },
            '▾',
          )
        : h('span', { class: 'toggle-space' });
    return h(
      'div',
      {
        class: `span-row${isError ? ' error' : ''}${span.spanId === selected ? ' selected' : ''}`,
        'data-span-id': span.spanId,
        'data-service': span.service,
        tabindex: 0,
        role: 'button',
        onclick: () => select(span),
        onkeydown: (event) => {
          if (event.key === 'Enter' || event.key === ' ') {
            event.preventDefault();
            select(span);
          }
        },
      },
      h(
        'div',
        { class: 'span-label', style: { paddingLeft: `${depth * 16 + 6}px` } },
        toggle,
        h('i', { class: 'service-mark', style: { background: color } }),
        h('span', { class: 'span-service', style: { color } }, span.service),
        h('span', { class: 'span-name', title: span.name }, span.name),
        span.kind !== 'internal' && span.kind !== 'unspecified'
          ? h('span', { class: 'span-kind' }, span.kind)
          : null,
        isError ? h('span', { class: 'error-icon', title: span.statusMessage || 'error' }, '!') : null,
        orphan
          ? h(
              'span',
              {
                class: 'orphan',
                title: `Its parent span ${span.parentSpanId} is not in this trace: a caller that does not report here, or not received yet`,
              },
              '⤴',
            )
          : null,
      ),
      h(
        'div',
        { class: 'span-timeline' },
        ...[0.25, 0.5, 0.75].map((f) => h('i', { class: 'gridline', style: { left: `${f * 100}%` } })),
        h(
          'div',
          { class: 'span-bar', style: { left: `${left}%`, width: `${width}%`, backgroundColor: color } },
          ...span.events.map((e) =>
            h('i', {
              class: 'event-mark',
              title: e.name,
              style: {
                left: `${span.durationUs > 0 ? ((e.timeUs - span.startUs) / span.durationUs) * 100 : 0}%`,
              },
            }),
          ),
        ),
        durationLabel(span.durationUs, left, width),
      ),
    );
  };

  app.replaceChildren(
    h('a', { class: 'back', href: '#/' }, '← All traces'),
    h(
      'section',
      { class: 'trace-header' },
      h(
        'h1',
        {},
        root ? h('span', { style: { color: serviceColor(root.service) } }, root.service) : null,
        ' ',
        root?.name ?? traceId,
      ),
      h(
        'dl',
        { class: 'trace-facts' },
        fact('Trace ID', h('code', {}, trace.traceId)),
        fact('Started', new Date(trace.startUs / 1000).toLocaleString()),
        fact('Duration', formatDuration(trace.durationUs)),
        fact('Spans', String(trace.spans.length)),
        fact('Errors', errors > 0 ? h('span', { class: 'error-text' }, String(errors)) : '0'),
      ),
      h(
        'div',
        { class: 'services' },
        services.map((s) => serviceChip(s, trace.spans.filter((x) => x.service === s).length)),
      ),
    ),
    h(
      'div',
      { class: 'trace-layout' },
      h(
        'section',
        { class: 'waterfall', id: 'waterfall' },
        h(
          'div',
          { class: 'waterfall-head' },
          h('div', { class: 'span-label' }, 'Service · operation'),
          h(
            'div',
            { class: 'span-timeline axis' },
            ticks(total).map(({ f, label }) =>
              h('span', { class: 'tick', style: f === 1 ? { right: '0' } : { left: `${f * 100}%` } }, label),
            ),
          ),
        ),
        body,
      ),
      details,
    ),
  );
  render();
}

/** Right of the bar; left of it when the bar ends near the edge; inside it when the bar fills the row. */
function durationLabel(us, left, width) {
  const text = formatDuration(us);
  if (left + width <= 82)
    return h('span', { class: 'span-duration', style: { left: `${left + width}%` } }, text);
  if (left >= 14) return h('span', { class: 'span-duration', style: { right: `${100 - left}%` } }, text);
  return h(
    'span',
    { class: 'span-duration inside', style: { right: `${Math.max(0, 100 - left - width)}%` } },
    text,
  );
}

function fact(label, value) {
  return h('div', {}, h('dt', {}, label), h('dd', {}, value));
}

/** An attribute key that may wrap after its dots and underscores, never inside a word. */
function breakable(key) {
  return key.split(/(?<=[._/])/).flatMap((part, i) => (i === 0 ? [part] : [h('wbr'), part]));
}

function attributeTable(attributes) {
  const entries = Object.entries(attributes ?? {});
  if (entries.length === 0) return h('p', { class: 'muted' }, 'none');
  return h(
    'table',
    { class: 'attributes' },
    h(
      'tbody',
      {},
      entries
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, value]) => h('tr', {}, h('th', {}, breakable(key)), h('td', {}, formatValue(value)))),
    ),
  );
}

const STATUS = ['unset', 'ok', 'error'];

function spanDetails(span, trace, close) {
  const offset = span.startUs - trace.startUs;
  return [
    h(
      'div',
      { class: 'details-head' },
      h(
        'div',
        {},
        h('div', { class: 'details-service', style: { color: serviceColor(span.service) } }, span.service),
        h('h2', {}, span.name),
      ),
      h('button', { type: 'button', class: 'ghost close', 'aria-label': 'close', onclick: close }, '×'),
    ),
    h(
      'dl',
      { class: 'facts' },
      fact('Duration', formatDuration(span.durationUs)),
      fact('Starts at', `+${formatDuration(offset)}`),
      fact('Kind', span.kind),
      fact(
        'Status',
        span.statusCode === 2
          ? h('span', { class: 'error-text' }, `error${span.statusMessage ? `: ${span.statusMessage}` : ''}`)
          : STATUS[span.statusCode],
      ),
      fact('Span ID', h('code', {}, span.spanId)),
      fact('Parent', span.parentSpanId ? h('code', {}, span.parentSpanId) : '(root)'),
      span.scope?.name
        ? fact('Scope', `${span.scope.name}${span.scope.version ? ` ${span.scope.version}` : ''}`)
        : null,
    ),
    h('h3', {}, 'Attributes'),
    attributeTable(span.attributes),
    h('h3', {}, `Events (${span.events.length})`),
    span.events.length === 0
      ? h('p', { class: 'muted' }, 'none')
      : h(
          'ol',
          { class: 'events' },
          span.events.map((e) =>
            h(
              'li',
              {},
              h(
                'div',
                { class: 'event-title' },
                h('b', {}, e.name),
                h('span', { class: 'muted' }, ` +${formatDuration(e.timeUs - span.startUs)}`),
              ),
              Object.keys(e.attributes).length > 0 ? attributeTable(e.attributes) : null,
            ),
          ),
        ),
    h('h3', {}, `Links (${span.links.length})`),
    span.links.length === 0
      ? h('p', { class: 'muted' }, 'none')
      : h(
          'ul',
          { class: 'links' },
          span.links.map((l) =>
            h(
              'li',
              {},
              h(
                'a',
                { href: `#/trace/${l.traceId}` },
                h('code', {}, `${l.traceId.slice(0, 16)}…/${l.spanId}`),
              ),
              Object.keys(l.attributes).length > 0 ? attributeTable(l.attributes) : null,
            ),
          ),
        ),
    h('h3', {}, 'Resource'),
    attributeTable(span.resource),
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// Service map

/** Columns by longest call depth from services nobody calls; a cycle's back edge is ignored for layout. */
function layout(services, edges) {
  const depth = new Map(services.map((s) => [s, 0]));
  for (let pass = 0; pass < services.length; pass++) {
    let changed = false;
    for (const e of edges) {
      if (e.parent === e.child) continue;
      const next = depth.get(e.parent) + 1;
      if (next > depth.get(e.child) && next < services.length) {
        depth.set(e.child, next);
        changed = true;
      }
    }
    if (!changed) break;
  }
  const columns = [];
  for (const s of services) {
    const d = depth.get(s);
    if (!columns[d]) columns[d] = [];
    columns[d].push(s);
  }
  return columns.filter(Boolean);
}

async function showMap() {
  app.replaceChildren(message('Loading service map…'));
  const [{ dependencies }, { services }] = await Promise.all([
    api('/api/dependencies'),
    api('/api/services'),
  ]);
  if (services.length === 0) {
    app.replaceChildren(message('No services yet.'));
    return;
  }
  const columns = layout(services, dependencies);
  const nodeW = 168;
  const nodeH = 48;
  const colGap = 150;
  const rowGap = 40;
  const width = columns.length * nodeW + (columns.length - 1) * colGap + 80;
  const tallest = Math.max(...columns.map((c) => c.length));
  // Extra room below for arcs that skip a column.
  const height = tallest * nodeH + (tallest - 1) * rowGap + 140;
  const position = new Map();
  columns.forEach((column, ci) => {
    const columnHeight = column.length * nodeH + (column.length - 1) * rowGap;
    column.forEach((service, ri) => {
      position.set(service, {
        x: 40 + ci * (nodeW + colGap),
        y: (height - 60 - columnHeight) / 2 + ri * (nodeH + rowGap),
      });
    });
  });
  const calls = new Map();
  for (const e of dependencies) {
    calls.set(e.child, (calls.get(e.child) ?? 0) + e.calls);
  }
  const svg = h('svg:svg', {
    class: 'map',
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: 'img',
    'aria-label': 'service map',
  });
  svg.append(
    h(
      'svg:defs',
      {},
      h(
        'svg:marker',
        {
          id: 'arrow',
          viewBox: '0 0 10 10',
          refX: 10,
          refY: 5,
          markerWidth: 7,
          markerHeight: 7,
          orient: 'auto-start-reverse',
        },
        h('svg:path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow' }),
      ),
      h(
        'svg:marker',
        {
          id: 'arrow-error',
          viewBox: '0 0 10 10',
          refX: 10,
          refY: 5,
          markerWidth: 7,
          markerHeight: 7,
          orient: 'auto-start-reverse',
        },
        h('svg:path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow error' }),
      ),
    ),
  );
  const column = new Map();
  columns.forEach((c, ci) => {
    for (const service of c) column.set(service, ci);
  });
  for (const e of dependencies) {
    const a = position.get(e.parent);
    const b = position.get(e.child);
    if (!a || !b || e.parent === e.child) continue;
    const span = column.get(e.child) - column.get(e.parent);
    let d;
    let labelX;
    let labelY;
    if (span === 1) {
      // Neighbouring columns: an S-curve from the caller's right side to the callee's left side.
      const [x1, y1, x2, y2] = [a.x + nodeW, a.y + nodeH / 2, b.x, b.y + nodeH / 2];
      const mx = (x1 + x2) / 2;
      d = `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`;
      [labelX, labelY] = [mx, (y1 + y2) / 2 - 8];
    } else {
      // Skipping columns or going back: an arc under the nodes in between, bottom edge to bottom edge.
      const [x1, y1, x2, y2] = [a.x + nodeW / 2, a.y + nodeH, b.x + nodeW / 2, b.y + nodeH];
      const low = Math.max(y1, y2) + 56;
      d = `M${x1},${y1} C${x1},${low} ${x2},${low} ${x2},${y2}`;
      [labelX, labelY] = [(x1 + x2) / 2, Math.max(y1, y2) + 58];
    }
    const rate = e.calls > 0 ? e.errors / e.calls : 0;
    const bad = e.errors > 0;
    svg.append(
      h('svg:path', {
        d,
        class: `edge${bad ? ' error' : ''}`,
        'marker-end': `url(#${bad ? 'arrow-error' : 'arrow'})`,
        'stroke-width': Math.min(6, 1.5 + Math.log10(e.calls + 1) * 1.5),
      }),
      h(
        'svg:text',
        { x: labelX, y: labelY, class: `edge-label${bad ? ' error' : ''}`, 'text-anchor': 'middle' },
        `${e.calls} call${e.calls === 1 ? '' : 's'}${bad ? ` · ${(rate * 100).toFixed(rate < 0.1 ? 1 : 0)}% errors` : ''}`,
      ),
    );
  }
  for (const service of services) {
    const p = position.get(service);
    const color = serviceColor(service);
    svg.append(
      h(
        'svg:a',
        { href: `#/?service=${encodeURIComponent(service)}` },
        h(
          'svg:g',
          { class: 'node', transform: `translate(${p.x},${p.y})` },
          h('svg:rect', { width: nodeW, height: nodeH, rx: 10, style: { stroke: color } }),
          h('svg:circle', { cx: 18, cy: 19, r: 5, style: { fill: color } }),
          h('svg:text', { x: 30, y: 24, class: 'node-name' }, service),
          h(
            'svg:text',
            { x: 30, y: 39, class: 'node-sub' },
            calls.has(service) ? `${calls.get(service)} calls in` : 'entry point',
          ),
        ),
      ),
    );
  }
  app.replaceChildren(
    h(
      'section',
      { class: 'map-head' },
      h('h1', {}, 'Service map'),
      h(
        'p',
        { class: 'muted' },
        'Calls between services in the stored traces: a span whose parent is in another service is one call. Click a service to see its traces.',
      ),
    ),
    h('div', { class: 'map-wrap' }, svg),
    dependencies.length === 0 ? message('No calls between services yet.') : dependencyTable(dependencies),
  );
}

function dependencyTable(dependencies) {
  return h(
    'table',
    { class: 'dependency-table' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', {}, 'Caller'),
        h('th', {}, 'Callee'),
        h('th', {}, 'Calls'),
        h('th', {}, 'Errors'),
        h('th', {}, 'Error rate'),
      ),
    ),
    h(
      'tbody',
      {},
      dependencies.map((d) =>
        h(
          'tr',
          {},
          h('td', {}, serviceChip(d.parent)),
          h('td', {}, serviceChip(d.child)),
          h('td', {}, d.calls),
          h('td', { class: d.errors > 0 ? 'error-text' : '' }, d.errors),
          h('td', {}, `${((d.errors / d.calls) * 100).toFixed(1)}%`),
        ),
      ),
    ),
  );
}

void showStatus();
setInterval(() => void showStatus(), 3000);
void refreshServices().then(route);
