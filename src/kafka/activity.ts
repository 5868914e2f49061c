import { ErrorCodes, SluiceError } from '../core/errors.ts'
import type { KafkaConnection } from './kafka-connection.ts'
import type { GroupState, TransactionState } from './types.ts'
import { callAllowingPartitionErrors, negotiatedApi } from './wire.ts'

/** FindCoordinator key type of transactional ids. */
const transactionKeyType = 1
/** DescribeTransactions answers this for an id no producer ever initialized. */
const TRANSACTIONAL_ID_NOT_FOUND = 105

/**
 * Whether anyone uses a consumer group or a transactional id right now: what a tool checks
 * before it moves offsets a running job would otherwise overwrite.
 */
export class Activity {
  readonly #connection: KafkaConnection

  constructor(connection: KafkaConnection) {
    this.#connection = connection
  }

  async groupState(groupId: string): Promise<GroupState> {
    const what = `describing group '${groupId}'`
    return this.#connection.retry(what, async () => {
      try {
        const groups = await this.#connection.admin.describeGroups({ groups: [groupId] })
        const group = groups.get(groupId)
        return { state: group?.state ?? 'Dead', members: group?.members.size ?? 0 }
      } catch (error) {
        throw this.#connection.failure(what, error, { groupId })
      }
    })
  }

  /** The state of `transactionalId`'s transaction; undefined when no producer ever used the id. */
  async transactionState(transactionalId: string): Promise<TransactionState | undefined> {
    const what = `describing transactional id '${transactionalId}'`
    return this.#connection.retry(what, async () => {
      const admin = this.#connection.admin
      let answer: DescribedTransaction | undefined
      try {
        const cluster = await admin.metadata({ topics: [] })
        const broker = [...cluster.brokers.values()][0]
        if (broker === undefined) {
          throw new SluiceError(ErrorCodes.KAFKA, 'the cluster metadata lists no broker', { retriable: true })
        }
        const find = await negotiatedApi(admin, 'FindCoordinator')
        const found = (
          (await find.async(await admin.connections.get(broker), transactionKeyType, [transactionalId])) as {
            coordinators: { key: string; host: string; port: number; errorCode: number }[]
          }
        ).coordinators.find((c) => c.key === transactionalId)
        if (found === undefined || found.errorCode !== 0) {
          throw new SluiceError(
            ErrorCodes.KAFKA,
            `no coordinator found for transactional id '${transactionalId}'`,
            {
              retriable: true,
            },
          )
        }
        const describe = await negotiatedApi(admin, 'DescribeTransactions')
        const coordinator = await admin.connections.get({ host: found.host, port: found.port })
        // An error code in the answer is ours to read: the wire client would throw it away.
        const response = await callAllowingPartitionErrors(
          () =>
            describe.async(coordinator, [transactionalId]) as Promise<{
              transactionStates: DescribedTransaction[]
            }>,
        )
        answer = response.transactionStates[0]
      } catch (error) {
        if (error instanceof SluiceError) throw error
        throw this.#connection.failure(what, error, { transactionalId })
      }
      if (answer === undefined || answer.errorCode === TRANSACTIONAL_ID_NOT_FOUND) return undefined
      if (answer.errorCode !== 0) {
        throw new SluiceError(ErrorCodes.KAFKA, `${what} failed with error code ${answer.errorCode}`, {
          retriable: true,
          details: { transactionalId, errorCode: answer.errorCode },
        })
      }
      return {
        state: answer.transactionState,
        producerId: answer.producerId,
        producerEpoch: answer.producerEpoch,
      }
    })
  }
}

interface DescribedTransaction {
  readonly errorCode: number
  readonly transactionState: string
  readonly producerId: bigint
  readonly producerEpoch: number
}
