// Small DOM helpers and the parts every page shares: the summary header and batch tables.
import * as format from './format.js'

/** Builds an element: h('td', { class: 'num' }, '12'). Attributes starting with "on" are listeners. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value)
    else element.setAttribute(name, value === true ? '' : String(value))
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue
    element.append(child instanceof Node ? child : document.createTextNode(String(child)))
  }
  return element
}

export function field(name, root = document) {
  return root.querySelector(`[data-field="${name}"]`)
}

export function setText(name, text, root = document) {
  const element = field(name, root)
  if (element && element.textContent !== text) element.textContent = text
}

export function pill(status, text = status) {
  return h('span', { class: `pill ${status}` }, text)
}

/** A panel: a titled box; `extra` goes to the right of the title. */
export function panel(title, hint, ...children) {
  return h(
    'section',
    { class: 'panel' },
    h('h2', {}, title, hint ? h('span', { class: 'hint' }, hint) : null),
    ...children,
  )
}

/** Fills the header cards from /api/app. */
export function renderSummary(app) {
  document.title = `${app.app} · sluice`
  setText('app', app.app)
  const status = field('status')
  status.replaceChildren(pill(app.status))
  setText('ready', app.status === 'active' ? (app.ready.ready ? 'ready' : 'not ready: stalled') : '')
  field('ready').title = app.ready.reason
  const started = format.dateTime(app.startedAtMs)
  setText('started', started.slice(11))
  setText(
    'uptime',
    `${started.slice(0, 10)}, ${app.stoppedAtMs === null ? 'up' : 'ran'} ${format.uptime(app.uptimeMs)}`,
  )
  setText('batches', format.count(app.batches.completed))
  setText(
    'batches-sub',
    [
      `${format.count(app.batches.failed)} failed`,
      app.batches.replayed > 0 ? `${format.count(app.batches.replayed)} replayed` : null,
      app.batches.active > 0 ? `${format.count(app.batches.active)} in flight` : null,
    ]
      .filter(Boolean)
      .join(' · '),
  )
  setText('records', format.count(app.records.total))
  const losses = [
    app.records.lost > 0 ? `${format.count(app.records.lost)} lost` : null,
    app.records.skipped > 0 ? `${format.count(app.records.skipped)} skipped` : null,
    app.records.deadLettered > 0 ? `${format.count(app.records.deadLettered)} dead-lettered` : null,
  ].filter(Boolean)
  setText('records-sub', losses.length > 0 ? losses.join(' · ') : 'read by completed batches')
  setText('input-rate', app.last ? format.rate(app.last.inputRecordsPerSecond) : '—')
  setText(
    'rate-limit',
    app.last === null
      ? ''
      : app.last.rateLimit !== null
        ? `limit ${format.rate(app.last.rateLimit)}`
        : 'no rate limit',
  )
  setText('lag', app.last?.lag != null ? format.count(app.last.lag) : '—')
  setText('lag-sub', app.last ? `after batch ${app.last.batchId}` : 'records behind latest')
  // The failed batch's own page shows the error in full; every other page says where to find it.
  const banner = field('error')
  const failedBatch = app.error?.batchId ?? null
  const onFailedBatch =
    failedBatch !== null && location.pathname.replace(/\/$/, '') === `/batches/${failedBatch}`
  if (app.error && !onFailedBatch) {
    banner.replaceChildren(
      h('strong', {}, `The stream stopped on an error (${app.error.code})`),
      failedBatch === null
        ? app.error.message
        : h(
            'span',
            {},
            `Batch ${failedBatch} failed and was not committed; a restart re-runs it. `,
            h('a', { href: `/batches/${failedBatch}` }, 'See the batch and its error →'),
          ),
    )
    banner.hidden = false
  } else {
    banner.hidden = true
  }
  setText('footer', `history keeps the last ${format.count(app.historySize)} batches`)
}

/** The columns of a batch table, from /api/batches items. */
export function batchTable(items, { active = false, empty = 'No batches yet.' } = {}) {
  if (items.length === 0) return h('div', { class: 'empty' }, empty)
  const head = h(
    'tr',
    {},
    h('th', {}, 'Batch'),
    h('th', {}, 'Batch time'),
    h('th', { class: 'num' }, 'Records'),
    h('th', { class: 'num' }, 'Input rate'),
    h('th', { class: 'num' }, 'Scheduling delay'),
    h('th', { class: 'num' }, active ? 'Running for' : 'Processing time'),
    active ? null : h('th', { class: 'num' }, 'Total delay'),
    h('th', { class: 'num' }, 'Lag after'),
    h('th', {}, 'Outputs'),
    h('th', {}, 'Status'),
  )
  const rows = items.map((b) =>
    h(
      'tr',
      { class: b.status, 'data-batch': b.batchId },
      h('td', {}, h('a', { href: `/batches/${b.batchId}` }, `#${b.batchId}`)),
      h('td', { class: 'mono' }, format.clock(b.batchTimeMs)),
      h('td', { class: 'num', 'data-col': 'records' }, format.count(b.numInputRecords)),
      h('td', { class: 'num' }, format.rate(b.inputRecordsPerSecond)),
      h('td', { class: 'num' }, format.millis(b.schedulingDelayMs)),
      h('td', { class: 'num' }, format.millis(b.processingTimeMs)),
      active ? null : h('td', { class: 'num', 'data-col': 'total-delay' }, format.millis(b.totalDelayMs)),
      h('td', { class: 'num' }, format.count(b.lag)),
      h(
        'td',
        {},
        b.outputs.failed > 0 ? `${b.outputs.done} (${b.outputs.failed} failed)` : String(b.outputs.done),
      ),
      h(
        'td',
        { class: 'wrap' },
        pill(b.status),
        b.replay ? [' ', pill('replay', 'replay')] : null,
        b.error ? h('div', { class: 'error-text', 'data-col': 'error' }, b.error.message) : null,
      ),
    ),
  )
  return h('table', {}, h('thead', {}, head), h('tbody', {}, rows))
}

/** "‹ newer · 1–20 of 312 · older ›" for a page of /api/batches. */
export function pager(page, onMove) {
  const from = page.total === 0 ? 0 : page.offset + 1
  const to = Math.min(page.total, page.offset + page.items.length)
  return h(
    'div',
    { class: 'pager' },
    h(
      'button',
      {
        type: 'button',
        disabled: page.offset === 0,
        onclick: () => onMove(Math.max(0, page.offset - page.limit)),
      },
      '‹ Newer',
    ),
    h(
      'span',
      { 'data-field': 'page-range' },
      `${format.count(from)}–${format.count(to)} of ${format.count(page.total)}`,
    ),
    h(
      'button',
      { type: 'button', disabled: to >= page.total, onclick: () => onMove(page.offset + page.limit) },
      'Older ›',
    ),
  )
}
