const peak = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 }
setInterval(() => {
  const m = process.memoryUsage()
  for (const k of Object.keys(peak) as (keyof typeof peak)[]) peak[k] = Math.max(peak[k], m[k] >> 20)
}, 5).unref()
process.on('exit', () => console.error('peak MB', JSON.stringify(peak)))
await import('./cases/stream-bytes.ts')
