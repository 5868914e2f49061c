// How numbers read on the pages. One function per kind of figure, so every page (and the
// browser test, which checks the pages against the API) formats a figure the same way.

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })
const oneDecimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 })

/** 1234567 → "1,234,567"; null → "—". */
export function count(value) {
  return value === null || value === undefined ? '—' : integer.format(value)
}

/** For chart axes: 950 → "950", 12500 → "12.5k", 3200000 → "3.2M". */
export function compact(value) {
  const abs = Math.abs(value)
  if (abs >= 1e9) return `${oneDecimal.format(value / 1e9)}G`
  if (abs >= 1e6) return `${oneDecimal.format(value / 1e6)}M`
  if (abs >= 1e4) return `${oneDecimal.format(value / 1e3)}k`
  return oneDecimal.format(value)
}

/** An offset or lag kept as a decimal string (it may exceed 2^53) → "1,234,567". */
export function offset(value) {
  if (value === null || value === undefined) return '—'
  return String(value).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}

/** Records per second → "12,345 rec/s". */
export function rate(value) {
  return value === null || value === undefined ? '—' : `${integer.format(value)} rec/s`
}

/** Milliseconds → "0.5 ms", "85 ms", "1.2 s", "3 min 4 s". */
export function millis(value) {
  if (value === null || value === undefined) return '—'
  if (value < 10 && !Number.isInteger(value)) return `${oneDecimal.format(value)} ms`
  if (value < 1000) return `${integer.format(value)} ms`
  if (value < 60_000) return `${oneDecimal.format(value / 1000)} s`
  const minutes = Math.floor(value / 60_000)
  return `${minutes} min ${Math.round((value % 60_000) / 1000)} s`
}

/** A span of time → "2 h 03 min", "5 min 12 s", "42 s". */
export function uptime(ms) {
  const s = Math.floor(ms / 1000)
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  if (h > 0) return `${h} h ${String(m).padStart(2, '0')} min`
  if (m > 0) return `${m} min ${s % 60} s`
  return `${s} s`
}

/** Bytes → "512 B", "1.5 KiB", "3.2 MiB". */
export function bytes(value) {
  if (value === null || value === undefined) return '—'
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let n = value
  let unit = 0
  while (n >= 1024 && unit < units.length - 1) {
    n /= 1024
    unit++
  }
  return unit === 0 ? `${n} B` : `${oneDecimal.format(n)} ${units[unit]}`
}

const pad = (n, width = 2) => String(n).padStart(width, '0')

/** Epoch ms → "14:03:27.500" (local time; batch times are what a user matches with logs). */
export function clock(ms) {
  const d = new Date(ms)
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
}

/** Epoch ms → "2026-11-02 14:03:27". */
export function dateTime(ms) {
  const d = new Date(ms)
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}
