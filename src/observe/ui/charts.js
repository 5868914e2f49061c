// Charts drawn with uPlot (served from its npm package at /static/vendor/). A chart lives on
// its container element and is updated in place with setData when new batches arrive, so a
// live page does not flicker or lose the cursor.

export const palette = [
  '#0f6d7a',
  '#e07a1f',
  '#2356b8',
  '#b42318',
  '#6b4fbb',
  '#1c7c3c',
  '#c2418d',
  '#8a6d00',
  '#3f8fd2',
  '#5c6670',
  '#d1495b',
  '#00a19a',
]

const axisStyle = {
  stroke: '#647282',
  grid: { stroke: '#eef1f4', width: 1 },
  ticks: { stroke: '#dfe4ea', width: 1 },
  font: '11px system-ui, sans-serif',
}

function widthOf(container) {
  const style = getComputedStyle(container)
  const padding = Number.parseFloat(style.paddingLeft) + Number.parseFloat(style.paddingRight)
  return Math.max(200, Math.floor((container.clientWidth || 600) - padding))
}

/** Creates the chart on first use, and afterwards only replaces its data (or rebuilds it when its series changed). */
function upsert(container, key, makeOptions, data) {
  const existing = container.__chart
  if (existing && existing.key === key) {
    existing.plot.setData(data)
    return existing.plot
  }
  existing?.plot.destroy()
  container.replaceChildren()
  const plot = new window.uPlot({ width: widthOf(container), ...makeOptions() }, data, container)
  container.__chart = { key, plot }
  if (!container.__resize) {
    container.__resize = new ResizeObserver(() => {
      const chart = container.__chart
      if (chart) chart.plot.setSize({ width: widthOf(container), height: chart.plot.height })
    })
    container.__resize.observe(container)
  }
  return plot
}

/**
 * A timeline over batch times: `x` in epoch ms, `series` of { label, values, color, dash };
 * `legend` shows the series' names (and their values under the cursor).
 * `format` formats values in the legend, `axis` (default `format`) the y axis's ticks;
 * `onPick(index)` is called with the index of the batch clicked.
 */
export function timeline(
  container,
  { x, series, format, axis = format, height = 150, onPick, yMin = 0, legend = false },
) {
  const key = `timeline:${series.map((s) => s.label).join('|')}`
  const data = [x.map((ms) => ms / 1000), ...series.map((s) => s.values)]
  return upsert(
    container,
    key,
    () => ({
      height,
      legend: { show: legend },
      cursor: { points: { size: 6 }, drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(yMin, min ?? 0), niceMax(max)] } },
      axes: [
        { ...axisStyle, space: 80, incrs: timeIncrements, values: timeTicks },
        { ...axisStyle, size: 70, values: (_u, ticks) => ticks.map((t) => axis(t)) },
      ],
      series: [
        { label: 'batch time', value: (_u, v) => (v === null ? '—' : clockTime(v)) },
        ...series.map((s, i) => ({
          label: s.label,
          stroke: s.color ?? palette[i % palette.length],
          width: s.width ?? 1.6,
          dash: s.dash,
          fill: s.fill,
          spanGaps: false,
          points: { show: x.length < 60, size: 4 },
          value: (_u, v) => (v === null || v === undefined ? '—' : format(v)),
        })),
      ],
      hooks: onPick
        ? {
            ready: [
              (u) => {
                u.over.style.cursor = 'pointer'
                u.over.addEventListener('click', () => {
                  if (u.cursor.idx !== null && u.cursor.idx !== undefined) onPick(u.cursor.idx)
                })
              },
            ],
          }
        : {},
    }),
    data,
  )
}

/** A histogram of `values` in `bins` equal-width bins; the y axis counts batches. */
export function histogram(container, { values, format, color = palette[0], bins = 16, height = 150 }) {
  const finite = values.filter((v) => v !== null && Number.isFinite(v))
  const lo = finite.length ? Math.min(...finite) : 0
  const hi = finite.length ? Math.max(...finite) : 1
  const width = hi > lo ? (hi - lo) / bins : 1
  const centers = Array.from({ length: bins }, (_, i) => lo + width * (i + 0.5))
  const counts = new Array(bins).fill(0)
  for (const v of finite) counts[Math.min(bins - 1, Math.floor((v - lo) / width))]++
  return upsert(
    container,
    'histogram',
    () => ({
      height,
      legend: { show: false },
      cursor: { show: true, points: { show: false }, drag: { x: false, y: false } },
      scales: {
        x: { time: false, range: (_u, min, max) => [min - width / 2, max + width / 2] },
        y: { range: (_u, _min, max) => [0, niceMax(max)] },
      },
      axes: [
        { ...axisStyle, values: (_u, ticks) => ticks.map((t) => format(t)), space: 60 },
        {
          ...axisStyle,
          size: 40,
          values: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? String(t) : '')),
        },
      ],
      series: [
        {},
        {
          label: 'batches',
          stroke: color,
          fill: `${color}55`,
          width: 1,
          points: { show: false },
          paths: window.uPlot.paths.bars({ size: [0.92, 80], align: 0 }),
        },
      ],
    }),
    [centers, counts],
  )
}

/** Whole seconds and up: batch times never need finer ticks, and sub-second labels are noise. */
const timeIncrements = [
  1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 21600, 43200, 86400,
]

const pad = (n) => String(n).padStart(2, '0')

function clockTime(seconds) {
  const d = new Date(seconds * 1000)
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

/** Tick labels in local time: HH:MM:SS, or HH:MM once ticks are a minute or more apart. */
function timeTicks(_u, ticks, _axis, _space, increment) {
  return ticks.map((t) => (increment >= 60 ? clockTime(t).slice(0, 5) : clockTime(t)))
}

/** Rounds an axis maximum up so a flat line does not sit on the top edge. */
function niceMax(max) {
  if (max === null || max === undefined || !Number.isFinite(max) || max <= 0) return 1
  const magnitude = 10 ** Math.floor(Math.log10(max))
  for (const step of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10])
    if (step * magnitude >= max * 1.05) return step * magnitude
  return 10 * magnitude
}
