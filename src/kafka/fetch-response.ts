import {
  type API,
  createAPI,
  fetchV12,
  fetchV13,
  fetchV14,
  fetchV15,
  fetchV16,
  fetchV17,
  type Reader,
  readKnownTaggedFields,
} from '@platformatic/kafka'
import type { AbortedTransaction } from './types.ts'

/** One partition of a fetch response; `records` stays encoded until sluice decodes it. */
export interface FetchedPartitionData {
  readonly partitionIndex: number
  readonly errorCode: number
  readonly highWatermark: bigint
  readonly lastStableOffset: bigint
  readonly logStartOffset: bigint
  readonly abortedTransactions: readonly AbortedTransaction[]
  readonly records: Buffer | null
}

export interface FetchResponseData {
  readonly errorCode: number
  readonly topics: readonly { readonly topic: string; readonly partitions: readonly FetchedPartitionData[] }[]
}

/** The oldest Fetch version sluice speaks: the first flexible one (Kafka 2.7). */
export const minFetchVersion = 12

const requestCreators = {
  12: fetchV12.createRequest,
  13: fetchV13.createRequest,
  14: fetchV14.createRequest,
  15: fetchV15.createRequest,
  16: fetchV16.createRequest,
  17: fetchV17.createRequest,
} as const

// biome-ignore lint/suspicious/noExplicitAny: the request arguments are the wire client's
type FetchApi = API<any[], FetchResponseData>
const apis = new Map<number, FetchApi>()

/**
 * The Fetch API with sluice's own response parser. The wire client's parser decodes every
 * record of every batch into objects up front (and throws on partition errors); sluice
 * keeps each partition's record set as one buffer and decodes only the batches it wants,
 * straight into its own records — half the allocations on the hottest path.
 */
export function fetchApi(version: number): FetchApi {
  const v = Math.min(version, 17) as keyof typeof requestCreators
  let api = apis.get(v)
  if (!api) {
    api = createAPI(1, v, requestCreators[v], (_correlationId, _apiKey, apiVersion, reader) =>
      parseFetchResponse(apiVersion, reader),
    ) as FetchApi
    apis.set(v, api)
  }
  return api
}

function parseFetchResponse(version: number, reader: Reader): FetchResponseData {
  reader.readInt32() // throttle_time_ms
  const errorCode = reader.readInt16()
  reader.readInt32() // session_id
  const topics = reader.readArray((r) => ({
    topic: version >= 13 ? r.readUUID() : r.readString(),
    partitions: r.readArray(
      (p) => {
        const partitionIndex = p.readInt32()
        const partitionError = p.readInt16()
        const highWatermark = p.readInt64()
        const lastStableOffset = p.readInt64()
        const logStartOffset = p.readInt64()
        const abortedTransactions =
          p.readNullableArray((a) => ({ producerId: a.readInt64(), firstOffset: a.readInt64() })) ?? []
        p.readInt32() // preferred_read_replica
        // COMPACT_RECORDS: unsigned varint of length + 1, 0 for null.
        const size = p.readUnsignedVarInt() - 1
        let records: Buffer | null = null
        if (size > 0) {
          records = p.buffer.subarray(p.position, p.position + size).buffer
          p.skip(size)
        }
        readKnownTaggedFields(p, {})
        return {
          partitionIndex,
          errorCode: partitionError,
          highWatermark,
          lastStableOffset,
          logStartOffset,
          abortedTransactions,
          records,
        }
      },
      true,
      false,
    ),
  }))
  readKnownTaggedFields(reader, {})
  return { errorCode, topics }
}
