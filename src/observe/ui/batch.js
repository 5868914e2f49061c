// A batch's page: what it read (every partition's range, records and the lag it left), how
// long each step and each output took, and its error when it failed.
import { getJson } from './api.js'
import * as format from './format.js'
import { h, panel, pill } from './layout.js'

const stepColors = { planning: '#2356b8', outputs: '#0f6d7a', commit: '#e07a1f' }

function kv(label, value, name) {
  return h(
    'div',
    {},
    h('span', { class: 'label' }, label),
    h('span', { class: 'value', 'data-field': name }, value),
  )
}

export function mount(main, batchId) {
  async function refresh() {
    let batch
    try {
      batch = await getJson(`/api/batches/${batchId}`)
    } catch (error) {
      if (error.status !== 404) throw error
      main.replaceChildren(
        h('h1', { class: 'page-title' }, `Batch ${batchId}`),
        h(
          'div',
          { class: 'panel empty' },
          `Batch ${batchId} is not in the UI's history: it has not run yet, or it is older than the batches kept.`,
        ),
      )
      return
    }
    const p = batch.progress
    const title = h(
      'h1',
      { class: 'page-title' },
      `Batch ${batchId}`,
      pill(batch.status),
      p?.replay ? pill('replay', 'replay of a batch planned before a restart') : null,
      h('a', { class: 'back', href: '/batches' }, '← all batches'),
    )
    const parts = [title]
    if (p?.error) {
      parts.push(
        h(
          'div',
          { class: 'banner error', 'data-field': 'batch-error', role: 'alert' },
          h('strong', {}, `Failed: ${p.error.code}`),
          p.error.message,
        ),
      )
    }
    const finished = batch.status === 'completed' || batch.status === 'failed'
    const summary = h(
      'div',
      { class: 'kv' },
      kv(
        'Batch time',
        format.dateTime(batch.batchTimeMs) + format.clock(batch.batchTimeMs).slice(8),
        'batch-time',
      ),
      kv('Records', format.count(p?.numInputRecords ?? 0), 'batch-records'),
      kv('Input rate', format.rate(p?.inputRecordsPerSecond ?? 0), 'batch-input-rate'),
      kv(
        'Processing rate',
        finished ? format.rate(p.processedRecordsPerSecond) : '—',
        'batch-processed-rate',
      ),
      kv('Scheduling delay', finished ? format.millis(p.schedulingDelayMs) : '—', 'batch-scheduling-delay'),
      kv('Processing time', finished ? format.millis(p.processingTimeMs) : '—', 'batch-processing-time'),
      kv('Total delay', finished ? format.millis(p.totalDelayMs) : '—', 'batch-total-delay'),
      kv(
        'State',
        p ? `${format.count(p.state.keys)} keys · ${format.bytes(p.state.bytes)}` : '—',
        'batch-state',
      ),
      kv('Lost to retention', format.count(p?.lostRecords ?? 0), 'batch-lost'),
      kv('Skipped (undecodable)', format.count(p?.skippedRecords ?? 0), 'batch-skipped'),
      kv('Dead-lettered', format.count(p?.deadLetteredRecords ?? 0), 'batch-dead-lettered'),
      kv('Outputs', String(batch.outputs.length), 'batch-outputs'),
    )
    const body = [summary]
    if (finished && p.processingTimeMs > 0) {
      const total = p.durationsMs.planning + p.durationsMs.outputs + p.durationsMs.commit || 1
      body.push(
        h(
          'div',
          { class: 'durations', title: 'planning · outputs · commit' },
          Object.entries(stepColors).map(([step, color]) =>
            h('span', { style: `width:${(100 * p.durationsMs[step]) / total}%;background:${color}` }),
          ),
        ),
        h(
          'div',
          { class: 'legend-row' },
          Object.entries(stepColors).map(([step, color]) =>
            h(
              'span',
              {},
              h('span', { class: 'swatch', style: `background:${color}` }),
              `${step} ${format.millis(p.durationsMs[step])}`,
            ),
          ),
        ),
      )
    }
    parts.push(panel('Summary', null, h('div', { class: 'panel-body' }, body)))
    parts.push(panel('Output operations', 'in the order they ran', outputsTable(batch.outputs)))
    for (const source of p?.sources ?? []) parts.push(sourcePanel(source))
    main.replaceChildren(...parts)
  }
  return refresh
}

function outputsTable(outputs) {
  if (outputs.length === 0) return h('div', { class: 'empty' }, 'No output operation has run yet.')
  return h(
    'table',
    { 'data-table': 'outputs' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', {}, '#'),
        h('th', {}, 'Operation'),
        h('th', { class: 'num' }, 'Duration'),
        h('th', {}, 'Outcome'),
      ),
    ),
    h(
      'tbody',
      {},
      outputs.map((o) =>
        h(
          'tr',
          { class: o.outcome === 'failed' ? 'failed' : '' },
          h('td', {}, String(o.index)),
          h('td', { class: 'mono' }, o.name),
          h('td', { class: 'num' }, format.millis(o.durationMs)),
          h(
            'td',
            { class: 'wrap' },
            pill(o.outcome),
            o.error ? h('div', { class: 'error-text' }, o.error) : null,
          ),
        ),
      ),
    ),
  )
}

function sourcePanel(source) {
  const maxLag = Math.max(1, ...source.partitions.map((p) => (p.lag === null ? 0 : Number(p.lag))))
  return h(
    'section',
    { class: 'panel', 'data-source': source.input },
    h('h2', {}, `Input ${source.input}`, h('span', { class: 'hint' }, source.kind)),
    h(
      'div',
      { class: 'source-head' },
      h('span', {}, 'records ', h('b', {}, format.count(source.numInputRecords))),
      h(
        'span',
        {},
        'rate limit ',
        h('b', {}, source.rateLimit === null ? 'none' : format.rate(source.rateLimit)),
      ),
      source.lostRecords > 0
        ? h('span', {}, 'lost to retention ', h('b', {}, format.count(source.lostRecords)))
        : null,
      h('span', {}, 'partitions ', h('b', {}, String(source.partitions.length))),
    ),
    h(
      'table',
      { 'data-table': 'partitions' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', {}, 'Topic'),
          h('th', { class: 'num' }, 'Partition'),
          h('th', { class: 'num' }, 'From offset'),
          h('th', { class: 'num' }, 'Until offset'),
          h('th', { class: 'num' }, 'Records'),
          h('th', { class: 'num' }, 'Latest offset'),
          h('th', {}, 'Lag after'),
        ),
      ),
      h(
        'tbody',
        {},
        source.partitions.map((p) =>
          h(
            'tr',
            { 'data-partition': `${p.topic}-${p.partition}` },
            h('td', { class: 'mono' }, p.topic),
            h('td', { class: 'num' }, String(p.partition)),
            h('td', { class: 'num mono' }, format.offset(p.fromOffset)),
            h('td', { class: 'num mono' }, format.offset(p.untilOffset)),
            h('td', { class: 'num', 'data-col': 'records' }, format.count(p.records)),
            h('td', { class: 'num mono' }, format.offset(p.latestOffset)),
            h(
              'td',
              { 'data-col': 'lag' },
              format.offset(p.lag),
              p.lag !== null && Number(p.lag) > 0
                ? h('span', {
                    class: 'lag-bar',
                    style: `width:${Math.max(2, (60 * Number(p.lag)) / maxLag)}px`,
                  })
                : null,
            ),
          ),
        ),
      ),
    ),
  )
}
