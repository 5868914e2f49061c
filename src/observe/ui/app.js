// Entry point of every page: picks the page from the path, keeps the header and the page
// live while the job runs.
import { getJson, live } from './api.js'
import * as batchPage from './batch.js'
import * as batchesPage from './batches.js'
import { field, h, renderSummary } from './layout.js'
import * as overviewPage from './overview.js'
import * as partitionsPage from './partitions.js'

function route(path) {
  const batch = /^\/batches\/(\d+)\/?$/.exec(path)
  if (batch) return { nav: 'batches', mount: (main) => batchPage.mount(main, Number(batch[1])) }
  if (/^\/batches\/?$/.test(path)) return { nav: 'batches', mount: batchesPage.mount }
  if (/^\/partitions\/?$/.test(path)) return { nav: 'partitions', mount: partitionsPage.mount }
  return { nav: 'overview', mount: overviewPage.mount }
}

const main = document.getElementById('main')
const page = route(location.pathname)
for (const link of document.querySelectorAll('[data-nav]')) {
  link.classList.toggle('active', link.dataset.nav === page.nav)
}
const refreshPage = page.mount(main)

async function refresh() {
  try {
    const app = await getJson('/api/app')
    renderSummary(app)
    await refreshPage()
    document.body.dataset.loaded = 'true'
  } catch (error) {
    main.replaceChildren(h('div', { class: 'banner error' }, `Could not load the page: ${error.message}`))
  }
}

const liveField = field('live')
live(refresh, (state) => {
  liveField.className = `live ${state}`
  liveField.textContent = state === 'on' ? 'live' : 'reconnecting…'
})
