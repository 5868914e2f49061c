import { ErrorCodes, messageOf, SluiceError } from '../../core/errors.ts'
import type { SinkBatch, SinkOffsetRange } from '../batch.ts'
import { checkStoredOffsets, type OffsetCheck } from '../offset-check.ts'
import { type StoredOffsets, toStoredOffsets } from '../sink.ts'
import type { SqlConnection, SqlEngine } from './engine.ts'
import { quoteName } from './sql-text.ts'

/**
 * `sluice_offsets(app, topic, partition, until_offset, batch_id, batch_time)`: for each app
 * and partition, the until-offset of the last batch written, committed in the same
 * transaction as that batch's output. Offsets are BIGINT (Kafka offsets are signed 64-bit),
 * read back as text so that none loses precision beyond 2^53.
 */
export class OffsetsTable {
  readonly name: string
  readonly #table: string

  constructor(name: string) {
    this.name = name
    this.#table = quoteName(name)
  }

  /** Creates the table if missing and checks that an existing one has the expected columns. */
  async ensure(engine: SqlEngine): Promise<void> {
    const integer = engine.kind === 'postgres' ? 'bigint' : 'INTEGER'
    const ddl =
      `CREATE TABLE IF NOT EXISTS ${this.#table} (` +
      'app TEXT NOT NULL, topic TEXT NOT NULL, "partition" INTEGER NOT NULL, ' +
      `until_offset ${integer} NOT NULL, batch_id ${integer} NOT NULL, batch_time ${integer} NOT NULL, ` +
      'PRIMARY KEY (app, topic, "partition"))'
    try {
      // Only a missing table needs the write transaction: on SQLite it takes the database's
      // write lock, so a second instance starting while the first runs a batch would wait for
      // that batch (and fail start() after busyTimeoutMs when the batch takes longer).
      if (!(await engine.tableExists(this.name))) {
        await engine.transaction(async (connection) => {
          // Two instances starting at once would race in CREATE TABLE IF NOT EXISTS on PostgreSQL.
          if (engine.kind === 'postgres')
            await connection.query('SELECT pg_advisory_xact_lock(hashtext($1))', [this.name])
          await connection.query(ddl)
          return { commit: true, value: undefined }
        })
      }
      await engine.query(
        `SELECT app, topic, "partition", until_offset, batch_id, batch_time FROM ${this.#table} WHERE 1 = 0`,
      )
    } catch (error) {
      throw new SluiceError(
        ErrorCodes.SINK,
        `the offsets table ${this.name} in ${engine.target} cannot be created or is not a sluice offsets table ` +
          `(app, topic, partition, until_offset, batch_id, batch_time): ${messageOf(error)}`,
        { cause: error, details: { table: this.name } },
      )
    }
  }

  /**
   * Moves the stored offsets of `ranges` (sorted) from the batch's from-offsets to its
   * until-offsets, UPDATE first: the row lock makes a concurrent writer of the same
   * partitions wait until this transaction ends, and then find the offsets moved. Returns
   * what the stored offsets said before; the caller commits only on `apply`.
   */
  async claim(connection: SqlConnection, app: string, batch: SinkBatch, ranges: readonly SinkOffsetRange[]) {
    const before = new Map<SinkOffsetRange, bigint | undefined>()
    for (const range of ranges) {
      const key = [app, range.topic, range.partition]
      const moved = await connection.query(
        `UPDATE ${this.#table} SET until_offset = $4, batch_id = $5, batch_time = $6 ` +
          'WHERE app = $1 AND topic = $2 AND "partition" = $3 AND until_offset = $7',
        [...key, range.untilOffset, batch.id, batch.time, range.fromOffset],
      )
      if (moved.rowCount === 1) {
        before.set(range, range.fromOffset)
        continue
      }
      let stored = await this.#storedOffset(connection, key)
      if (stored === undefined) {
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
    const check: OffsetCheck = checkStoredOffsets(ranges, (range) => before.get(range))
    return check
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
