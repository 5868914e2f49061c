import { Producer, type txnOffsetCommitV4 } from '@platformatic/kafka'
import { ErrorCodes, SluiceError } from '../core/errors.ts'
import type { Logger } from '../core/logger.ts'
import { durationMs, nonEmptyString, optionsObject, parseOptions, required } from '../core/options.ts'
import { describeProtocolError, hasProtocolError, kafkaError } from './errors.ts'
import {
  clientOptionFields,
  type KafkaClientOptions,
  type ResolvedClientOptions,
  resolveConnection,
  wireClientOptions,
} from './options.ts'
import type { PartitionOwner } from './partition-owner.ts'
import { toWireMessage } from './producer.ts'
import { retryKafka } from './retry.ts'
import type { CommittedOffset, PartitionOffset, ProduceRecord } from './types.ts'
import { callAllowingPartitionErrors, negotiatedApi } from './wire.ts'

/** The wire client's transaction handle (not exported by the package under its own name). */
type Transaction = Awaited<ReturnType<Producer['beginTransaction']>>

export interface TransactionalProducerOptions extends KafkaClientOptions {
  /**
   * Stable per application: a new producer with the same id bumps the producer epoch at
   * `init()`, which aborts the old one's open transaction and fences it for good.
   */
  readonly transactionalId: string
  /** How long a transaction may stay open before the coordinator aborts it (default 60 s). */
  readonly transactionTimeoutMs?: number
}

/** TxnOffsetCommit errors meaning "this member's generation is over" (KIP-447). */
const generationErrors = new Set(['ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'FENCED_INSTANCE_ID'])

/** Protocol errors meaning "a newer producer with this transactional id exists". */
const fencingErrors = new Set(['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH'])

/** FindCoordinator key type for consumer groups. */
const groupKeyType = 0
/** InitProducerId with producer id -1 and epoch -1 asks for "this transactional id, whatever it had". */
const anyProducer = { producerId: -1n, producerEpoch: -1 }

const defaultTransactionTimeoutMs = 60_000

const producerOptions = optionsObject({
  ...clientOptionFields,
  transactionalId: required(nonEmptyString),
  transactionTimeoutMs: durationMs(),
})

/** The message of the first, most deeply nested error of a wire-client error tree. */
function innermostMessage(error: unknown): string | undefined {
  let current: unknown = error
  for (let depth = 0; depth < 10; depth++) {
    const inner = (current as { errors?: unknown } | null)?.errors
    if (!Array.isArray(inner) || inner.length === 0) break
    current = inner[0]
  }
  return current !== error && current instanceof Error ? current.message : undefined
}

type State = 'new' | 'ready' | 'in-transaction' | 'fenced' | 'broken' | 'closed'

/**
 * A Kafka transactional producer: `begin`, `send`, `commitOffsets` (offsets of a consumer
 * group committed inside the transaction), `commit` or `abort`. Output records and offsets
 * become visible together, to read_committed readers, or not at all.
 *
 * Built on @platformatic/kafka's Producer and Transaction, with three workarounds:
 * - `init` passes producer id/epoch -1: the wire client's default (0/0) makes the broker
 *   answer PRODUCER_FENCED to every restart of an app whose transactional id has a
 *   producer id other than 0.
 * - `commitOffsets` sends AddOffsetsToTxn through `Transaction.addConsumer` and then
 *   TxnOffsetCommit itself (with the group member's generation when there is one), because
 *   `Transaction.addOffset` only takes a message a group consumer received.
 * - a transaction to which nothing was added is ended client-side only: the broker
 *   answers INVALID_TXN_STATE to EndTxn for it.
 *
 * Fencing is final: once a newer producer took over, every call throws FENCED. When a
 * commit or abort fails in a way that leaves the transaction's state unknown, the producer
 * is `broken`: close it and create a new one, whose `init` aborts what is left.
 */
export class TransactionalProducer {
  readonly transactionalId: string
  readonly transactionTimeoutMs: number
  readonly options: ResolvedClientOptions
  readonly #logger: Logger
  readonly #producer: Producer
  #transaction: Transaction | undefined
  /** Whether anything reached the broker in this transaction (then EndTxn is needed). */
  #touched = false
  #state: State = 'new'
  #failure: SluiceError | undefined
  readonly #groupCoordinators = new Map<string, { host: string; port: number }>()

  constructor(options: TransactionalProducerOptions) {
    const { transactionalId, transactionTimeoutMs, ...client } = parseOptions(
      producerOptions,
      options,
      'TransactionalProducer',
    )
    this.options = resolveConnection(client)
    const timeout = transactionTimeoutMs ?? defaultTransactionTimeoutMs
    this.transactionalId = transactionalId
    this.transactionTimeoutMs = timeout
    this.#logger = this.options.logger.child({
      component: 'kafka-transactions',
      transactionalId: this.transactionalId,
    })
    this.#producer = new Producer({
      ...wireClientOptions(this.options, 'txn'),
      idempotent: true,
      acks: -1,
      transactionalId: this.transactionalId,
      // The wire client sends `timeout` as InitProducerId's transaction timeout (its default, 5 s, would
      // abort any batch that takes longer) and as the produce timeout.
      timeout,
    })
  }

  get inTransaction(): boolean {
    return this.#state === 'in-transaction'
  }

  /** True once a newer producer with the same transactional id took over. */
  get fenced(): boolean {
    return this.#state === 'fenced'
  }

  /** True when a failed commit or abort left the transaction's state unknown: recreate the producer. */
  get broken(): boolean {
    return this.#state === 'broken'
  }

  /**
   * Registers this producer as the owner of the transactional id (InitProducerId): waits
   * for an open transaction of a previous owner to be aborted (or its commit to finish),
   * and fences that owner.
   */
  async init(): Promise<void> {
    this.#check('new')
    await retryKafka(
      `initializing transactional id '${this.transactionalId}'`,
      async () => {
        try {
          // The wire client initializes the producer id when a transaction begins; nothing is sent yet,
          // so the client-side transaction is dropped right away.
          const transaction = await this.#producer.beginTransaction(anyProducer)
          await transaction.cancel()
        } catch (error) {
          await this.#producer.transaction?.cancel()
          throw this.#classify(error, `initializing transactional id '${this.transactionalId}'`)
        }
      },
      { timeoutMs: this.options.retryTimeoutMs },
    )
    this.#state = 'ready'
    this.#logger.debug('transactional producer initialized', {
      producerId: this.#producer.producerId,
      producerEpoch: this.#producer.producerEpoch,
    })
  }

  async begin(): Promise<void> {
    this.#check('ready')
    // The wire client re-initializes (bumping the epoch) when it has lost its producer id; a fenced
    // instance must never do that, or it would fence the instance that replaced it.
    if (this.#producer.producerId === undefined)
      throw this.#fence('beginning a transaction: the producer id is gone')
    try {
      this.#transaction = await this.#producer.beginTransaction()
    } catch (error) {
      await this.#producer.transaction?.cancel()
      throw this.#classify(error, 'beginning a transaction')
    }
    this.#touched = false
    this.#state = 'in-transaction'
  }

  /** Produces records inside the transaction; returns each partition's base offset. */
  async send(records: readonly ProduceRecord[]): Promise<PartitionOffset[]> {
    const transaction = this.#inTransaction()
    if (records.length === 0) return []
    this.#touched = true
    try {
      const result = await transaction.send({ messages: records.map(toWireMessage) })
      return (result.offsets ?? []).map((o: PartitionOffset) => ({
        topic: o.topic,
        partition: o.partition,
        offset: o.offset,
      }))
    } catch (error) {
      throw this.#classify(error, `producing ${records.length} records`)
    }
  }

  /**
   * Commits `offsets` (the next offset to read, per partition) to consumer group `groupId`
   * as part of the transaction: they become the group's committed offsets when, and only
   * when, the transaction commits.
   *
   * With `member` (a member of `groupId` that owns the partitions), the offsets carry its
   * generation, member id and instance id (KIP-447), and the group coordinator refuses them
   * once the group has moved to a newer generation or dropped the member: PARTITIONS_REVOKED,
   * and the transaction must be aborted. Without it (generation -1, no member) the coordinator
   * checks nothing — it accepts them even while the group has members.
   */
  async commitOffsets(
    groupId: string,
    offsets: readonly CommittedOffset[],
    member?: Pick<PartitionOwner, 'generation' | 'memberId' | 'instanceId'>,
  ): Promise<void> {
    const transaction = this.#inTransaction()
    if (offsets.length === 0) return
    this.#touched = true
    const what = `committing offsets of group '${groupId}' in the transaction`
    try {
      // Only `groupId` of the "consumer" is read: AddOffsetsToTxn needs nothing else.
      await transaction.addConsumer({ groupId } as unknown as Parameters<Transaction['addConsumer']>[0])
    } catch (error) {
      throw this.#classify(error, what)
    }
    const topics = new Map<string, txnOffsetCommitV4.TxnOffsetCommitRequestPartition[]>()
    for (const o of offsets) {
      const list = topics.get(o.topic) ?? []
      list.push({
        partitionIndex: o.partition,
        committedOffset: o.offset,
        committedLeaderEpoch: -1,
        ...(o.metadata === undefined ? {} : { committedMetadata: o.metadata }),
      })
      topics.set(o.topic, list)
    }
    const request = [...topics].map(([name, partitions]) => ({ name, partitions }))
    let refresh = false
    await retryKafka(
      what,
      async () => {
        const coordinator = await this.#groupCoordinator(groupId, refresh)
        refresh = false
        const api = await negotiatedApi(this.#producer, 'TxnOffsetCommit')
        try {
          const connection = await this.#producer.connections.get(coordinator)
          const response = await callAllowingPartitionErrors<txnOffsetCommitV4.TxnOffsetCommitResponse>(() =>
            api.async(
              connection,
              this.transactionalId,
              groupId,
              this.#producer.producerId,
              this.#producer.producerEpoch,
              member?.generation ?? -1,
              member?.memberId ?? '',
              member?.instanceId ?? null,
              request,
            ),
          )
          for (const topic of response.topics) {
            for (const p of topic.partitions) {
              if (p.errorCode === 0) continue
              const info = describeProtocolError(p.errorCode)
              if (fencingErrors.has(info.id)) throw this.#fence(`${what}: ${info.id}`)
              if (member !== undefined && generationErrors.has(info.id)) {
                throw new SluiceError(
                  ErrorCodes.PARTITIONS_REVOKED,
                  `${what} was refused (${info.id}): member '${member.memberId}' of generation ${member.generation} ` +
                    'no longer owns the partitions; the group moved on',
                  {
                    details: {
                      groupId,
                      generation: member.generation,
                      memberId: member.memberId,
                      kafkaError: info.id,
                    },
                  },
                )
              }
              throw new SluiceError(
                ErrorCodes.KAFKA,
                `${what} failed for ${topic.name}-${p.partitionIndex}: ${info.id}`,
                {
                  retriable: info.retriable,
                  details: { groupId, topic: topic.name, partition: p.partitionIndex, kafkaError: info.id },
                },
              )
            }
          }
        } catch (error) {
          throw this.#classify(error, what)
        }
      },
      {
        timeoutMs: this.options.retryTimeoutMs,
        beforeRetry: () => {
          refresh = true
        },
      },
    )
  }

  /** Commits the transaction: its records and offsets become visible together. */
  async commit(): Promise<void> {
    const transaction = this.#inTransaction()
    await this.#end(transaction, true)
  }

  /** Aborts the transaction: read_committed readers never see its records, its offsets are dropped. */
  async abort(): Promise<void> {
    if (this.#state !== 'in-transaction') return
    await this.#end(this.#transaction!, false)
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return
    if (this.#state === 'in-transaction') {
      await this.abort().catch((error) => this.#logger.warn('aborting on close failed', { error }))
    }
    this.#state = 'closed'
    await this.#producer.transaction?.cancel()
    await this.#producer.close().catch((error) => this.#logger.warn('closing the producer failed', { error }))
  }

  async #end(transaction: Transaction, commit: boolean): Promise<void> {
    const what = commit ? 'committing the transaction' : 'aborting the transaction'
    try {
      if (this.#touched) {
        if (commit) await transaction.commit()
        else await transaction.abort()
      } else {
        await transaction.cancel()
      }
      this.#transaction = undefined
      this.#state = 'ready'
    } catch (error) {
      const classified = this.#classify(error, what)
      if (this.#state !== 'fenced') {
        // The coordinator may or may not have completed the transaction: only a new producer
        // (whose init aborts whatever is left) can go on safely.
        this.#state = 'broken'
        this.#failure = new SluiceError(
          ErrorCodes.KAFKA,
          `transactional producer '${this.transactionalId}' is unusable after ${what} failed (${classified.message}); ` +
            'close it and create a new one',
          { retriable: true, cause: classified },
        )
      }
      await this.#producer.transaction?.cancel()
      this.#transaction = undefined
      throw classified
    }
  }

  async #groupCoordinator(groupId: string, refresh: boolean): Promise<{ host: string; port: number }> {
    const known = this.#groupCoordinators.get(groupId)
    if (known && !refresh) return known
    const api = await negotiatedApi(this.#producer, 'FindCoordinator')
    const cluster = await this.#producer.metadata({ topics: [], forceUpdate: refresh })
    const broker = [...cluster.brokers.values()][0]
    if (broker === undefined) {
      throw new SluiceError(ErrorCodes.KAFKA, 'the cluster metadata lists no broker', { retriable: true })
    }
    const connection = await this.#producer.connections.get(broker)
    // Asking for a group's coordinator also creates __consumer_offsets on a fresh cluster.
    const response = await api.async(connection, groupKeyType, [groupId])
    const found =
      (response.coordinators as { key: string; host: string; port: number }[]).find(
        (c) => c.key === groupId,
      ) ?? (response.coordinators as { host: string; port: number }[])[0]
    if (found === undefined) {
      throw new SluiceError(ErrorCodes.KAFKA, `no coordinator found for group '${groupId}'`, {
        retriable: true,
      })
    }
    const coordinator = { host: found.host, port: found.port }
    this.#groupCoordinators.set(groupId, coordinator)
    return coordinator
  }

  /** Fencing becomes FENCED (and final); anything else a KAFKA error saying what was done. */
  #classify(error: unknown, what: string): SluiceError {
    if (error instanceof SluiceError && error.code === ErrorCodes.FENCED) return error
    if (hasProtocolError(error, fencingErrors)) return this.#fence(what, error)
    const username = this.options.sasl?.username
    const wrapped = kafkaError(
      what,
      error,
      { transactionalId: this.transactionalId },
      username === undefined ? {} : { username },
    )
    // The wire client reports "findCoordinator failed 4 times."; the reason is in its innermost error.
    const reason = innermostMessage(error)
    if (reason === undefined || wrapped.message.includes(reason)) return wrapped
    return new SluiceError(wrapped.code, `${wrapped.message} (${reason})`, {
      retriable: wrapped.retriable,
      cause: error,
      details: wrapped.details,
    })
  }

  #fence(what: string, cause?: unknown): SluiceError {
    this.#state = 'fenced'
    this.#failure = new SluiceError(
      ErrorCodes.FENCED,
      `transactional id '${this.transactionalId}' was fenced (${what}): a newer producer with this id started, ` +
        `or a transaction stayed open longer than ${this.transactionTimeoutMs} ms and the broker aborted it; ` +
        'this producer must stop',
      { cause, details: { transactionalId: this.transactionalId } },
    )
    return this.#failure
  }

  #inTransaction(): Transaction {
    this.#check('in-transaction')
    return this.#transaction!
  }

  #check(expected: State): void {
    if (this.#state === expected) return
    if ((this.#state === 'fenced' || this.#state === 'broken') && this.#failure) throw this.#failure
    if (this.#state === 'closed') {
      throw new SluiceError(ErrorCodes.CLOSED, `transactional producer '${this.transactionalId}' is closed`)
    }
    const hint: Record<State, string> = {
      new: 'call init() first',
      ready: 'call begin() first',
      'in-transaction': 'commit() or abort() the open transaction first',
      fenced: '',
      broken: '',
      closed: '',
    }
    throw new SluiceError(
      ErrorCodes.INVALID_ARGUMENT,
      `transactional producer '${this.transactionalId}' is not ready for that: ${hint[this.#state]}`,
    )
  }
}
