// Micro-benchmark of CRC-32C implementations over record-batch-sized buffers, in this
// process (no broker needed). Node's zlib has CRC-32 only, a different polynomial.
import { jsCRC32C } from '@platformatic/kafka'
import { crc32c as wasmCrc32c } from '@platformatic/wasm-utils'
import { crc32c, crc32cImplementation, crc32cTable } from '../src/kafka/crc32c.ts'
import type { Bench } from './registry.ts'

const sizes = [1024, 16 * 1024, 256 * 1024]
const bytesPerCase = 128 * 2 ** 20

const candidates: [string, (data: Buffer) => number][] = [
  [
    `@node-rs/crc32 (native, sluice's choice${crc32cImplementation === 'native' ? '' : ' — not loaded here'})`,
    crc32c,
  ],
  ['@platformatic/wasm-utils (WebAssembly)', (data) => wasmCrc32c(data)],
  ["slicing-by-8 table in TypeScript (sluice's fallback)", (data) => crc32cTable(data)],
  ['byte-at-a-time table (@platformatic/kafka jsCRC32C)', (data) => jsCRC32C(data)],
]

/** MiB/s over `bytesPerCase` bytes in buffers of `size` (views into one large buffer). */
function throughput(fn: (data: Buffer) => number, size: number, source: Buffer): number {
  let sink = 0
  for (let at = 0; at + size <= 8 * 2 ** 20; at += size) sink ^= fn(source.subarray(at, at + size)) // warm up
  const started = performance.now()
  for (let done = 0; done < bytesPerCase; ) {
    for (let at = 0; at + size <= source.length && done < bytesPerCase; at += size, done += size) {
      sink ^= fn(source.subarray(at, at + size))
    }
  }
  const seconds = (performance.now() - started) / 1000
  if (sink === 0.5) console.log('unreachable') // keeps the results alive
  return bytesPerCase / 2 ** 20 / seconds
}

export const crc32cBench: Bench = {
  name: 'crc32c',
  description: `CRC-32C implementations over record-batch-sized buffers (${sizes.map((s) => `${s / 1024} KiB`).join(', ')}), ${bytesPerCase / 2 ** 20} MiB each, in one process. Every candidate is first checked against the check value of "123456789" (0xe3069283).`,
  async run() {
    const source = Buffer.alloc(32 * 2 ** 20)
    for (let i = 0; i < source.length; i++) source[i] = (i * 2_654_435_761) >>> 24
    for (const [name, fn] of candidates) {
      if (fn(Buffer.from('123456789')) !== 0xe3069283) throw new Error(`${name} computes a wrong CRC-32C`)
    }
    const rows = candidates.map(([name, fn]) => ({
      name,
      speeds: sizes.map((size) => throughput(fn, size, source)),
    }))
    const best = rows[0]!.speeds
    return [
      `| implementation | ${sizes.map((s) => `${s / 1024} KiB MiB/s`).join(' | ')} |`,
      `|---|${sizes.map(() => '---:').join('|')}|`,
      ...rows.map(
        (row) => `| ${row.name} | ${row.speeds.map((v) => Math.round(v).toLocaleString('en')).join(' | ')} |`,
      ),
      '',
      ...rows
        .slice(1)
        .map(
          (row) =>
            `${row.name}: ${row.speeds.map((v, i) => `${(best[i]! / v).toFixed(1)}x`).join(', ')} slower than native`,
        ),
    ]
  },
}
