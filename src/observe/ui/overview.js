// The Streaming page: Spark's Streaming tab for sluice. Timelines and histograms of input
// rate, scheduling delay, processing time and total delay; lag, rate limit and state over
// time; the batches in flight and the latest finished ones.
import { getJson } from './api.js'
import { histogram, palette, timeline } from './charts.js'
import * as format from './format.js'
import { batchTable, h, pager } from './layout.js'

const pageSize = 10
const rateAxis = (v) => `${format.compact(v)}/s`

const rows = [
  {
    key: 'inputRate',
    name: 'Input rate',
    format: format.rate,
    axis: rateAxis,
    avg: format.rate,
    color: palette[0],
  },
  {
    key: 'schedulingDelayMs',
    name: 'Scheduling delay',
    note: 'how late batches start',
    format: format.millis,
    avg: format.millis,
    color: palette[2],
  },
  {
    key: 'processingTimeMs',
    name: 'Processing time',
    note: 'planning to commit; keep it under the batch interval (dashed)',
    format: format.millis,
    avg: format.millis,
    color: palette[1],
    intervalLine: true,
  },
  {
    key: 'totalDelayMs',
    name: 'Total delay',
    note: 'scheduling delay + processing time',
    format: format.millis,
    avg: format.millis,
    color: palette[4],
  },
]

const trends = [
  {
    key: 'lag',
    name: 'Lag',
    note: 'records behind latest after each batch',
    format: format.count,
    axis: format.compact,
    color: '#e07a1f',
  },
  {
    key: 'rateLimit',
    name: 'Rate limit',
    note: 'records/s in force (backpressure, maxRatePerPartition)',
    format: format.rate,
    axis: rateAxis,
    color: '#6b4fbb',
  },
  {
    key: 'stateKeys',
    name: 'State keys',
    note: 'keys held by stateful streams',
    format: format.count,
    axis: format.compact,
    color: '#1c7c3c',
  },
  {
    key: 'stateBytes',
    name: 'State size',
    note: 'estimated heap bytes of that state',
    format: format.bytes,
    color: '#00a19a',
  },
]

export function mount(main) {
  let offset = 0
  const statsTitle = h('span', { class: 'hint' })
  const statsGrid = h(
    'div',
    { class: 'stats' },
    h('div', { class: 'head' }),
    h('div', { class: 'head' }, 'Timelines'),
    h('div', { class: 'head' }, 'Histograms'),
  )
  const cells = {}
  for (const row of rows) {
    const avg = h('div', { class: 'metric-avg', 'data-field': `avg-${row.key}` }, '—')
    const timelineCell = h('div', { class: 'chart', 'data-chart': `timeline-${row.key}` })
    const histCell = h('div', { class: 'chart hist', 'data-chart': `hist-${row.key}` })
    cells[row.key] = { avg, timelineCell, histCell }
    statsGrid.append(
      h(
        'div',
        {},
        h('div', { class: 'metric-name' }, row.name),
        avg,
        h('div', { class: 'metric-note' }, row.note ?? 'average over the batches shown'),
      ),
      timelineCell,
      h('div', { class: 'hist' }, histCell),
    )
  }
  const trendGrid = h('div', { class: 'trends' })
  for (const trend of trends) {
    const now = h('div', { class: 'metric-avg', 'data-field': `now-${trend.key}` }, '—')
    const cell = h('div', { class: 'chart', 'data-chart': `timeline-${trend.key}` })
    cells[trend.key] = { now, timelineCell: cell }
    trendGrid.append(
      h(
        'div',
        {},
        h('div', { class: 'metric-name' }, trend.name),
        now,
        h('div', { class: 'metric-note' }, trend.note),
      ),
      cell,
    )
  }
  const active = h('div', { 'data-table': 'active' })
  const completed = h('div', { 'data-table': 'completed' })
  const pagerSlot = h('div')
  const activeCount = h('span', { class: 'hint' })
  main.replaceChildren(
    h('section', { class: 'panel' }, h('h2', {}, 'Statistics', statsTitle), statsGrid),
    h(
      'section',
      { class: 'panel' },
      h('h2', {}, 'Lag, rate limit and state', h('span', { class: 'hint' }, 'value after the newest batch')),
      trendGrid,
    ),
    h('section', { class: 'panel' }, h('h2', {}, 'Active batches', activeCount), active),
    h(
      'section',
      { class: 'panel' },
      h(
        'h2',
        {},
        'Completed batches',
        h('span', { class: 'hint' }, 'newest first'),
        h('span', { class: 'spacer' }),
        h('a', { class: 'more', href: '/batches' }, 'all batches →'),
      ),
      completed,
      pagerSlot,
    ),
  )

  async function refresh() {
    const [stats, activePage, page] = await Promise.all([
      getJson('/api/statistics'),
      getJson('/api/batches?status=active&limit=50'),
      getJson(`/api/batches?status=finished&offset=${offset}&limit=${pageSize}`),
    ])
    statsTitle.textContent = `over the last ${format.count(stats.batches)} completed batches · batch interval ${format.millis(stats.batchInterval)}`
    const pick = (index) => {
      location.href = `/batches/${stats.batchId[index]}`
    }
    for (const row of rows) {
      const cell = cells[row.key]
      const avg = stats.averages[row.key]
      cell.avg.textContent = avg === null ? '—' : row.avg(avg)
      const series = [{ label: row.name, values: stats[row.key], color: row.color, fill: `${row.color}14` }]
      if (row.intervalLine) {
        series.push({
          label: 'batch interval',
          values: stats.batchId.map(() => stats.batchInterval),
          color: '#b42318',
          dash: [5, 4],
          width: 1,
        })
      }
      timeline(cell.timelineCell, {
        x: stats.batchTimeMs,
        series,
        format: row.format,
        axis: row.axis,
        onPick: pick,
      })
      histogram(cell.histCell, { values: stats[row.key], format: row.axis ?? row.format, color: row.color })
    }
    for (const trend of trends) {
      const cell = cells[trend.key]
      const values = stats[trend.key]
      const latest = values.length > 0 ? values[values.length - 1] : null
      cell.now.textContent =
        latest === null
          ? trend.key === 'rateLimit' && values.length > 0
            ? 'none'
            : '—'
          : trend.format(latest)
      timeline(cell.timelineCell, {
        x: stats.batchTimeMs,
        series: [{ label: trend.name, values, color: trend.color, fill: `${trend.color}14` }],
        format: trend.format,
        axis: trend.axis,
        height: 110,
        onPick: pick,
      })
    }
    activeCount.textContent = `${activePage.total} in flight`
    active.replaceChildren(
      batchTable(activePage.items, {
        active: true,
        empty: 'No batch is running: the next one starts at its due time.',
      }),
    )
    completed.replaceChildren(batchTable(page.items))
    pagerSlot.replaceChildren(
      pager(page, (next) => {
        offset = next
        refresh()
      }),
    )
  }
  return refresh
}
