import { ErrorCodes, messageOf, SluiceError } from '../../core/errors.ts'
import { lostRangesOf, type SinkBatch, type SinkOffsetRange } from '../batch.ts'
import { checkStoredOffsets, lowestStartOf, type OffsetCheck } from '../offset-check.ts'
import { type StoredOffsets, toStoredOffsets } from '../sink.ts'
import type { SqlConnection, SqlEngine } from './engine.ts'
import { quoteName } from './sql-text.ts'

/** Offsets a batch skipped because retention had deleted them, as the lost-ranges table keeps them. */
export interface LostRange {
  readonly topic: string
  readonly partition: number
  readonly fromOffset: bigint
  readonly untilOffset: bigint
  /** The batch that skipped them, and its time (ms since epoch). */
  readonly batchId: number
  readonly batchTime: number
}

/**
 * `sluice_offsets(app, topic, partition, until_offset, batch_id, batch_time)`: for each app
 * and partition, the until-offset of the last batch written, committed in the same
 * transaction as that batch's output. Offsets are BIGINT (Kafka offsets are signed 64-bit),
 * read back as text so that none loses precision beyond 2^53.
 *
 * Beside it, `<name>_lost(app, topic, partition, from_offset, until_offset, batch_id,
 * batch_time)`: every range a batch skipped on purpose (retention deleted it before it was
 * read, and the stream runs with failOnDataLoss: false), written in the batch's transaction.
 */
export class OffsetsTable {
  readonly name: string
  readonly lostName: string
  readonly #table: string
  readonly #lostTable: string

  constructor(name: string) {
    this.name = name
    this.lostName = `${name}_lost`
    this.#table = quoteName(name)
    this.#lostTable = quoteName(this.lostName)
  }

  /** Creates the tables if missing and checks that existing ones have the expected columns. */
  async ensure(engine: SqlEngine): Promise<void> {
    const integer = engine.kind === 'postgres' ? 'bigint' : 'INTEGER'
    const key = 'app TEXT NOT NULL, topic TEXT NOT NULL, "partition" INTEGER NOT NULL, '
    const batchColumns = `batch_id ${integer} NOT NULL, batch_time ${integer} NOT NULL, `
    await this.#ensureTable(
      engine,
      this.name,
      'app, topic, partition, until_offset, batch_id, batch_time',
      `CREATE TABLE IF NOT EXISTS ${this.#table} (${key}until_offset ${integer} NOT NULL, ${batchColumns}` +
        'PRIMARY KEY (app, topic, "partition"))',
    )
    await this.#ensureTable(
      engine,
      this.lostName,
      'app, topic, partition, from_offset, until_offset, batch_id, batch_time',
      `CREATE TABLE IF NOT EXISTS ${this.#lostTable} (${key}from_offset ${integer} NOT NULL, ` +
        `until_offset ${integer} NOT NULL, ${batchColumns}PRIMARY KEY (app, topic, "partition", from_offset))`,
    )
  }

  async #ensureTable(engine: SqlEngine, name: string, columns: string, ddl: string): Promise<void> {
    try {
      // Only a missing table needs the write transaction: on SQLite it takes the database's
      // write lock, so a second instance starting while the first runs a batch would wait for
      // that batch (and fail start() after busyTimeoutMs when the batch takes longer).
      if (!(await engine.tableExists(name))) {
        await engine.transaction(async (connection) => {
          // Two instances starting at once would race in CREATE TABLE IF NOT EXISTS on PostgreSQL.
          if (engine.kind === 'postgres')
            await connection.query('SELECT pg_advisory_xact_lock(hashtext($1))', [name])
          await connection.query(ddl)
          return { commit: true, value: undefined }
        })
      }
      const quoted = columns.replace('partition', '"partition"')
      await engine.query(`SELECT ${quoted} FROM ${quoteName(name)} WHERE 1 = 0`)
    } catch (error) {
      throw new SluiceError(
        ErrorCodes.SINK,
        `the offsets table ${name} in ${engine.target} cannot be created or is not a sluice offsets table ` +
          `(${columns}): ${messageOf(error)}`,
        { cause: error, details: { table: name } },
      )
    }
  }

  /**
   * Moves the stored offsets of `ranges` (sorted) from the batch's from-offsets to its
   * until-offsets, UPDATE first: the row lock makes a concurrent writer of the same
   * partitions wait until this transaction ends, and then find the offsets moved. A stored
   * offset below the from-offset moves too when the batch's lost ranges cover the gap.
   * Returns what the stored offsets said before; the caller commits only on `apply`.
   */
  async claim(connection: SqlConnection, app: string, batch: SinkBatch, ranges: readonly SinkOffsetRange[]) {
    const before = new Map<SinkOffsetRange, bigint | undefined>()
    const move = (key: unknown[], range: SinkOffsetRange, from: bigint) =>
      connection.query(
        `UPDATE ${this.#table} SET until_offset = $4, batch_id = $5, batch_time = $6 ` +
          'WHERE app = $1 AND topic = $2 AND "partition" = $3 AND until_offset = $7',
        [...key, range.untilOffset, batch.id, batch.time, from],
      )
    for (const range of ranges) {
      const key = [app, range.topic, range.partition]
      if ((await move(key, range, range.fromOffset)).rowCount === 1) {
        before.set(range, range.fromOffset)
        continue
      }
      let stored = await this.#storedOffset(connection, key)
      const lowest = lowestStartOf(range, lostRangesOf(batch, range))
      if (stored !== undefined && stored >= lowest && stored < range.fromOffset) {
        // Across declared lost records. A concurrent writer may have moved the row since the read.
        if ((await move(key, range, stored)).rowCount !== 1)
          stored = await this.#storedOffset(connection, key)
      } else if (stored === undefined) {
        // The partition's first batch. A concurrent first writer makes the insert wait, then do nothing.
        const inserted = await connection.query(
          `INSERT INTO ${this.#table} (app, topic, "partition", until_offset, batch_id, batch_time) ` +
            'VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (app, topic, "partition") DO NOTHING',
          [...key, range.untilOffset, batch.id, batch.time],
        )
        if (inserted.rowCount !== 1) stored = await this.#storedOffset(connection, key)
      }
      before.set(range, stored)
    }
    const check: OffsetCheck = checkStoredOffsets(
      ranges,
      (range) => before.get(range),
      (range) => lostRangesOf(batch, range),
    )
    return check
  }

  /** Records the batch's lost ranges; in its transaction, after a successful claim. */
  async recordLost(connection: SqlConnection, app: string, batch: SinkBatch): Promise<void> {
    for (const lost of batch.lostRanges ?? []) {
      await connection.query(
        `INSERT INTO ${this.#lostTable} (app, topic, "partition", from_offset, until_offset, batch_id, batch_time) ` +
          'VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (app, topic, "partition", from_offset) DO NOTHING',
        [app, lost.topic, lost.partition, lost.fromOffset, lost.untilOffset, batch.id, batch.time],
      )
    }
  }

  /** Every lost range recorded for `app`, by topic, partition and offset. */
  async readLost(engine: SqlEngine, app: string): Promise<LostRange[]> {
    const { rows } = await engine.query(
      'SELECT topic, "partition", CAST(from_offset AS TEXT) AS from_offset, CAST(until_offset AS TEXT) AS until_offset, ' +
        `CAST(batch_id AS TEXT) AS batch_id, CAST(batch_time AS TEXT) AS batch_time FROM ${this.#lostTable} ` +
        'WHERE app = $1 ORDER BY topic, "partition", from_offset',
      [app],
    )
    return rows.map((row) => ({
      topic: String(row.topic),
      partition: Number(row.partition),
      fromOffset: BigInt(String(row.from_offset)),
      untilOffset: BigInt(String(row.until_offset)),
      batchId: Number(row.batch_id),
      batchTime: Number(row.batch_time),
    }))
  }

  /** Stored until-offsets of `app`, in the shape `startingOffsets` takes. */
  async read(engine: SqlEngine, app: string): Promise<StoredOffsets> {
    const { rows } = await engine.query(
      `SELECT topic, "partition", CAST(until_offset AS TEXT) AS until_offset FROM ${this.#table} WHERE app = $1`,
      [app],
    )
    return toStoredOffsets(
      rows.map((row) => ({
        topic: String(row.topic),
        partition: Number(row.partition),
        offset: BigInt(String(row.until_offset)),
      })),
    )
  }

  async #storedOffset(connection: SqlConnection, key: unknown[]): Promise<bigint | undefined> {
    const { rows } = await connection.query(
      `SELECT CAST(until_offset AS TEXT) AS until_offset FROM ${this.#table} ` +
        'WHERE app = $1 AND topic = $2 AND "partition" = $3',
      key,
    )
    const value = rows[0]?.until_offset
    return value === undefined || value === null ? undefined : BigInt(String(value))
  }
}
