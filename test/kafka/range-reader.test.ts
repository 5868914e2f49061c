import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes, type SluiceError } from '../../src/core/errors.ts'
import { type RangeReadOptions, type RecordFetcher, readRange } from '../../src/kafka/range-reader.ts'
import type { FetchRequest, FetchResult } from '../../src/kafka/types.ts'
import { resolveDeserializer } from '../../src/source/deserializers.ts'
import { encodeBatch } from '../helpers/record-batches.ts'

const text = resolveDeserializer<string>('string', 'value')

/** Offsets 0-5 of t-2 in three batches of two records, values v0..v5. */
const batchAt = (first: number) =>
  encodeBatch({ firstOffset: BigInt(first), records: [{ value: `v${first}` }, { value: `v${first + 1}` }] })

function corrupted(batch: Buffer): Buffer {
  const damaged = Buffer.from(batch)
  // The last byte is the last record's header count; before it, its value's last character.
  damaged[damaged.length - 2]! ^= 0x10
  return damaged
}

/**
 * A fetcher that answers from a fixed log, one batch per fetch, and lets a test damage the
 * answer to chosen fetches (counted from 1).
 */
function fakeFetcher(corruptFetches: ReadonlySet<number>): RecordFetcher & { requests: bigint[] } {
  const requests: bigint[] = []
  return {
    requests,
    async fetch(request: FetchRequest): Promise<FetchResult> {
      requests.push(request.offset)
      const first = Number(request.offset - (request.offset % 2n))
      const batch = batchAt(first)
      return {
        topic: request.topic,
        partition: request.partition,
        highWatermark: 6n,
        lastStableOffset: 6n,
        logStartOffset: 0n,
        recordSet: corruptFetches.has(requests.length) ? corrupted(batch) : batch,
        abortedTransactions: [],
      }
    },
  }
}

const options = (
  overrides: Partial<RangeReadOptions<string, string>> = {},
): RangeReadOptions<string, string> => ({
  topic: 't',
  partition: 2,
  from: 0n,
  until: 6n,
  isolationLevel: 'read_committed',
  maxBytesPerFetch: 1024,
  key: text,
  value: text,
  ...overrides,
})

async function readAll(fetcher: RecordFetcher, overrides: Partial<RangeReadOptions<string, string>> = {}) {
  const out: [bigint, string | null][] = []
  for await (const chunk of readRange(fetcher, options(overrides))) {
    for (const record of chunk) out.push([record.offset, record.value])
  }
  return out
}

const expected = [0, 1, 2, 3, 4, 5].map((i): [bigint, string] => [BigInt(i), `v${i}`])

test('a batch corrupted once is fetched again and read exactly', async () => {
  const fetcher = fakeFetcher(new Set([2]))
  assert.deepEqual(await readAll(fetcher), expected)
  // Fetch 2 (offset 2) was corrupt and asked again; nothing of it was handed on.
  assert.deepEqual(fetcher.requests, [0n, 2n, 2n, 4n])
})

test('a batch corrupt on the second fetch too fails, naming topic, partition and offsets', async () => {
  const fetcher = fakeFetcher(new Set([2, 3]))
  const seen: bigint[] = []
  await assert.rejects(
    async () => {
      for await (const chunk of readRange(fetcher, options())) for (const r of chunk) seen.push(r.offset)
    },
    (error: SluiceError) => {
      assert.equal(error.code, ErrorCodes.CORRUPT_RECORD_BATCH)
      assert.match(
        error.message,
        /^the record batch of t-2 at offsets 2\.\.3 is corrupt: its CRC-32C is 0x[0-9a-f]{8} but its bytes give 0x[0-9a-f]{8}/,
      )
      assert.equal(error.details.topic, 't')
      assert.equal(error.details.partition, 2)
      assert.equal(error.details.firstOffset, 2n)
      assert.equal(error.details.lastOffset, 3n)
      assert.equal(error.details.fetchOffset, 2n)
      assert.notEqual(error.details.storedCrc, error.details.computedCrc)
      return true
    },
  )
  assert.deepEqual(seen, [0n, 1n], 'nothing of the corrupt batch reached the caller')
  assert.deepEqual(fetcher.requests, [0n, 2n, 2n])
})

test('each corrupt fetch position gets its own second fetch', async () => {
  const fetcher = fakeFetcher(new Set([1, 3]))
  assert.deepEqual(await readAll(fetcher), expected)
  assert.deepEqual(fetcher.requests, [0n, 0n, 2n, 2n, 4n])
})

test('with checkCrcs false a corrupt batch is decoded as it is', async () => {
  const fetcher = fakeFetcher(new Set([2, 3]))
  const records = await readAll(fetcher, { checkCrcs: false })
  assert.equal(records.length, 6)
  assert.deepEqual(records[3], [3n, 'v#'], "'3' with bit 0x10 flipped is '#'")
  assert.deepEqual(fetcher.requests, [0n, 2n, 4n])
})
