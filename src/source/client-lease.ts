import type { KafkaClient } from '../kafka/client.ts'

/**
 * Shares one Kafka client among the tasks that are running and closes it when the last one
 * finishes, so an RDD built by `createRDD` never keeps the process alive between actions.
 * A client passed in by the caller is borrowed, never closed.
 */
export class ClientLease {
  readonly #create: () => KafkaClient
  readonly #owned: boolean
  #client: KafkaClient | undefined
  #users = 0

  private constructor(create: () => KafkaClient, owned: boolean) {
    this.#create = create
    this.#owned = owned
  }

  /** A lease over a client the caller owns and closes. */
  static borrow(client: KafkaClient): ClientLease {
    const lease = new ClientLease(() => client, false)
    lease.#client = client
    return lease
  }

  /** A lease that opens a client on first use and closes it when nobody uses it. */
  static own(create: () => KafkaClient): ClientLease {
    return new ClientLease(create, true)
  }

  async use<T>(fn: (client: KafkaClient) => Promise<T>): Promise<T> {
    const client = this.acquire()
    try {
      return await fn(client)
    } finally {
      await this.release()
    }
  }

  acquire(): KafkaClient {
    this.#users++
    this.#client ??= this.#create()
    return this.#client
  }

  async release(): Promise<void> {
    this.#users--
    if (this.#users > 0 || !this.#owned) return
    const client = this.#client
    this.#client = undefined
    await client?.close()
  }
}
