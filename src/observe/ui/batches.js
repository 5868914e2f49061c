// The Batches page: batches in flight, then every batch the history keeps, newest first,
// paged, with a filter for failed ones (which show their error).
import { getJson } from './api.js'
import * as format from './format.js'
import { batchTable, h, pager } from './layout.js'

const pageSize = 25
const filters = [
  { status: 'finished', label: 'All' },
  { status: 'completed', label: 'Completed' },
  { status: 'failed', label: 'Failed' },
]

export function mount(main) {
  const query = new URLSearchParams(location.search)
  let status = filters.some((f) => f.status === query.get('status')) ? query.get('status') : 'finished'
  let offset = 0
  const active = h('div', { 'data-table': 'active' })
  const finished = h('div', { 'data-table': 'finished' })
  const pagerSlot = h('div')
  const count = h('span', { class: 'hint' })
  const activeCount = h('span', { class: 'hint' })
  const buttons = filters.map((f) =>
    h(
      'button',
      {
        type: 'button',
        'data-filter': f.status,
        onclick: () => {
          status = f.status
          offset = 0
          history.replaceState(null, '', f.status === 'finished' ? '/batches' : `/batches?status=${f.status}`)
          refresh()
        },
      },
      f.label,
    ),
  )
  main.replaceChildren(
    h('section', { class: 'panel' }, h('h2', {}, 'Active batches', activeCount), active),
    h(
      'section',
      { class: 'panel' },
      h(
        'h2',
        {},
        'Finished batches',
        count,
        h('span', { class: 'spacer' }),
        h('span', { class: 'filters' }, buttons),
      ),
      finished,
      pagerSlot,
    ),
  )

  async function refresh() {
    const [activePage, page] = await Promise.all([
      getJson('/api/batches?status=active&limit=50'),
      getJson(`/api/batches?status=${status}&offset=${offset}&limit=${pageSize}`),
    ])
    for (const button of buttons) button.classList.toggle('active', button.dataset.filter === status)
    activeCount.textContent = `${activePage.total} in flight`
    active.replaceChildren(batchTable(activePage.items, { active: true, empty: 'No batch is running.' }))
    count.textContent = `${format.count(page.total)} kept · newest first`
    finished.replaceChildren(
      batchTable(page.items, { empty: status === 'failed' ? 'No batch failed.' : 'No batches yet.' }),
    )
    pagerSlot.replaceChildren(
      pager(page, (next) => {
        offset = next
        refresh()
      }),
    )
  }
  return refresh
}
