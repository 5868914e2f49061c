// The Partitions page: per-partition lag over time (what Spark's DStream UI never showed),
// each partition's committed and latest offsets now, and the rate limit per input.
import { getJson } from './api.js'
import { palette, timeline } from './charts.js'
import * as format from './format.js'
import { h } from './layout.js'

/** Lines on the lag chart: the partitions with the most lag now; the table lists all. */
const maxLines = 12
/**
 * Batches the lag chart spans: enough to see a trend, while the document stays small for a
 * job with many partitions (it carries one lag per partition per batch).
 */
const chartBatches = 300

export function mount(main) {
  const lagChart = h('div', { class: 'chart chart-tall', 'data-chart': 'partition-lag' })
  const lagHint = h('span', { class: 'hint' })
  const rateChart = h('div', { class: 'chart', 'data-chart': 'rate-limit' })
  const rateHint = h('span', { class: 'hint' })
  const table = h('div', { 'data-table': 'partitions' })
  const tableHint = h('span', { class: 'hint' })
  main.replaceChildren(
    h(
      'section',
      { class: 'panel' },
      h('h2', {}, 'Lag per partition', lagHint),
      h('div', { class: 'panel-body' }, lagChart),
    ),
    h('section', { class: 'panel' }, h('h2', {}, 'Partitions now', tableHint), table),
    h(
      'section',
      { class: 'panel' },
      h('h2', {}, 'Rate limit per input', rateHint),
      h('div', { class: 'panel-body' }, rateChart),
    ),
  )

  async function refresh() {
    const doc = await getJson(`/api/partitions?limit=${chartBatches}`)
    const { timeline: t } = doc
    const latestLag = (s) => {
      for (let i = s.lag.length - 1; i >= 0; i--) if (s.lag[i] !== null) return s.lag[i]
      return -1
    }
    const shown = [...t.series].sort((a, b) => latestLag(b) - latestLag(a)).slice(0, maxLines)
    shown.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
    lagHint.textContent =
      t.series.length > shown.length
        ? `the ${shown.length} partitions with the most lag now, of ${t.series.length} · records behind latest after each of the last ${t.batchId.length} batches`
        : `records behind latest after each of the last ${t.batchId.length} batches`
    if (t.batchTimeMs.length > 0 && shown.length > 0) {
      timeline(lagChart, {
        x: t.batchTimeMs,
        series: shown.map((s, i) => ({
          label: `${s.topic}-${s.partition}`,
          values: s.lag,
          color: palette[i % palette.length],
        })),
        format: format.count,
        axis: format.compact,
        height: 300,
        legend: true,
        onPick: (index) => {
          location.href = `/batches/${t.batchId[index]}`
        },
      })
    } else {
      lagChart.replaceChildren(h('div', { class: 'empty' }, 'No completed batch yet.'))
      lagChart.__chart = undefined
    }
    tableHint.textContent = doc.asOfBatchId === null ? '' : `after batch ${doc.asOfBatchId}`
    table.replaceChildren(partitionTable(doc.partitions))
    if (doc.rateLimits.length > 0 && t.batchTimeMs.length > 0) {
      const limited = doc.rateLimits.some((r) => r.rateLimit.some((v) => v !== null))
      rateHint.textContent = limited
        ? 'records/s in force for each batch; gaps are batches without a limit'
        : 'no input has a rate limit'
      timeline(rateChart, {
        x: t.batchTimeMs,
        series: doc.rateLimits.map((r, i) => ({
          label: r.input,
          values: r.rateLimit,
          color: palette[(i + 4) % palette.length],
        })),
        format: format.rate,
        axis: (v) => `${format.compact(v)}/s`,
        height: 150,
        legend: doc.rateLimits.length > 1,
      })
    }
  }
  return refresh
}

function partitionTable(rows) {
  if (rows.length === 0) return h('div', { class: 'empty' }, 'No completed batch yet.')
  const maxLag = Math.max(1, ...rows.map((r) => (r.lag === null ? 0 : Number(r.lag))))
  return h(
    'table',
    {},
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', {}, 'Input'),
        h('th', {}, 'Topic'),
        h('th', { class: 'num' }, 'Partition'),
        h('th', { class: 'num' }, 'Committed offset'),
        h('th', { class: 'num' }, 'Latest offset'),
        h('th', {}, 'Lag'),
        h('th', { class: 'num' }, 'Last batch'),
        h('th', { class: 'num' }, 'Records (batches kept)'),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map((r) =>
        h(
          'tr',
          { 'data-partition': `${r.topic}-${r.partition}` },
          h('td', {}, r.input),
          h('td', { class: 'mono' }, r.topic),
          h('td', { class: 'num' }, String(r.partition)),
          h('td', { class: 'num mono', 'data-col': 'committed' }, format.offset(r.committedOffset)),
          h('td', { class: 'num mono', 'data-col': 'latest' }, format.offset(r.latestOffset)),
          h(
            'td',
            { 'data-col': 'lag' },
            format.offset(r.lag),
            r.lag !== null && Number(r.lag) > 0
              ? h('span', {
                  class: 'lag-bar',
                  style: `width:${Math.max(2, (80 * Number(r.lag)) / maxLag)}px`,
                })
              : null,
          ),
          h('td', { class: 'num' }, format.count(r.lastBatchRecords)),
          h('td', { class: 'num' }, format.count(r.recordsKept)),
        ),
      ),
    ),
  )
}
