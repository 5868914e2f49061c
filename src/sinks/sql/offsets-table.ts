import { ErrorCodes, messageOf, SluiceError } from '../../core/errors.ts'
import { partitionKey } from '../../core/partition-key.ts'
import type { PartitionOwner } from '../../kafka/partition-owner.ts'
import { lostRangesOf, type SinkBatch, type SinkOffsetRange } from '../batch.ts'
import { checkStoredOffsets, lowestStartOf, type OffsetCheck } from '../offset-check.ts'
import type { OffsetMove, StoredPosition } from '../offsets-admin.ts'
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

/** What a batch's offset claim found: the offsets check, and the ranges whose partitions another owner holds. */
export interface BatchClaim {
  readonly check: OffsetCheck
  /** With an owner: ranges of partitions whose stored owner is not the batch's (nothing is written then). */
  readonly revoked: readonly SinkOffsetRange[]
}

/** A partition's row as an ownership claim sees it. */
interface OwnedRow {
  readonly untilOffset: bigint
  readonly generation: number | undefined
  readonly member: string | undefined
}

/**
 * `sluice_offsets(app, topic, partition, until_offset, batch_id, batch_time, owner_generation,
 * owner_member)`: for each app and partition, the until-offset of the last batch written,
 * committed in the same transaction as that batch's output. Offsets are BIGINT (Kafka offsets
 * are signed 64-bit), read back as text so that none loses precision beyond 2^53.
 *
 * When processes share a stream's partitions (a consumer group, a static split), the owner
 * columns say which process may write a partition: the generation (or deployment epoch) and
 * member it was claimed in. A process taking a partition over raises them (the row lock makes
 * it wait for the old owner's batch in flight); every batch's offset update requires its own.
 * A row claimed before any batch wrote it has batch_id -1 and the position the stream starts
 * from. Tables from before these columns get them added (NULL: no owner) at start.
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
    await this.#ensureOwnerColumns(engine, integer)
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

  /** Adds the owner columns to a table created before they existed; nullable, so old rows just have no owner. */
  async #ensureOwnerColumns(engine: SqlEngine, integer: string): Promise<void> {
    const probe = () => engine.query(`SELECT owner_generation, owner_member FROM ${this.#table} WHERE 1 = 0`)
    try {
      await probe()
      return
    } catch {}
    try {
      await engine.transaction(async (connection) => {
        if (engine.kind === 'postgres') {
          await connection.query('SELECT pg_advisory_xact_lock(hashtext($1))', [this.name])
          await connection.query(
            `ALTER TABLE ${this.#table} ADD COLUMN IF NOT EXISTS owner_generation ${integer}`,
          )
          await connection.query(`ALTER TABLE ${this.#table} ADD COLUMN IF NOT EXISTS owner_member TEXT`)
        } else {
          // SQLite has no ADD COLUMN IF NOT EXISTS; the write lock this transaction holds keeps others out.
          const { rows } = await connection.query(
            `SELECT name FROM pragma_table_info('${this.name.replace(/'/g, "''")}')`,
          )
          const columns = new Set(rows.map((row) => String(row.name)))
          if (!columns.has('owner_generation')) {
            await connection.query(`ALTER TABLE ${this.#table} ADD COLUMN owner_generation ${integer}`)
          }
          if (!columns.has('owner_member'))
            await connection.query(`ALTER TABLE ${this.#table} ADD COLUMN owner_member TEXT`)
        }
        return { commit: true, value: undefined }
      })
      await probe()
    } catch (error) {
      throw new SluiceError(
        ErrorCodes.SINK,
        `the offsets table ${this.name} in ${engine.target} lacks the owner columns (owner_generation, owner_member) ` +
          `and they cannot be added: ${messageOf(error)}`,
        { cause: error, details: { table: this.name } },
      )
    }
  }

  /**
   * Makes `owner` the owner of the partitions of `claims` (sorted): raises each row's owner
   * generation and member, waiting for the row lock of a batch the old owner has in flight,
   * and reads where the partition resumes; a partition without a row gets one at its start
   * offset. A row a higher generation owns is left alone and reported (unless `force`).
   */
  async claimOwnership(
    connection: SqlConnection,
    app: string,
    owner: PartitionOwner,
    claims: readonly { topic: string; partition: number; startOffset: bigint }[],
    force: boolean,
  ): Promise<{ positions: Map<string, bigint>; overtaken: { topic: string; partition: number }[] }> {
    const positions = new Map<string, bigint>()
    const overtaken: { topic: string; partition: number }[] = []
    const raise = (key: unknown[]) =>
      connection.query(
        `UPDATE ${this.#table} SET owner_generation = $4, owner_member = $5 ` +
          'WHERE app = $1 AND topic = $2 AND "partition" = $3' +
          (force ? '' : ' AND (owner_generation IS NULL OR owner_generation <= $4)'),
        [...key, owner.generation, owner.memberId],
      )
    for (const claim of claims) {
      const key = [app, claim.topic, claim.partition]
      let raised = (await raise(key)).rowCount === 1
      if (!raised && (await this.#ownedRow(connection, key)) === undefined) {
        // Nothing stored yet: the row starts where the stream starts. A concurrent first claim
        // makes the insert wait, then do nothing; the raise decides again.
        const inserted = await connection.query(
          `INSERT INTO ${this.#table} (app, topic, "partition", until_offset, batch_id, batch_time, owner_generation, owner_member) ` +
            'VALUES ($1, $2, $3, $4, -1, $5, $6, $7) ON CONFLICT (app, topic, "partition") DO NOTHING',
          [...key, claim.startOffset, Date.now(), owner.generation, owner.memberId],
        )
        raised = inserted.rowCount === 1 || (await raise(key)).rowCount === 1
      }
      if (!raised) {
        overtaken.push({ topic: claim.topic, partition: claim.partition })
        continue
      }
      positions.set(
        partitionKey(claim.topic, claim.partition),
        (await this.#ownedRow(connection, key))!.untilOffset,
      )
    }
    return { positions, overtaken }
  }

  /**
   * Moves the stored offsets of `ranges` (sorted) from the batch's from-offsets to its
   * until-offsets, UPDATE first: the row lock makes a concurrent writer of the same
   * partitions wait until this transaction ends, and then find the offsets moved. A stored
   * offset below the from-offset moves too when the batch's lost ranges cover the gap.
   * Returns what the stored offsets said before; the caller commits only on `apply`.
   */
  async claim(
    connection: SqlConnection,
    app: string,
    batch: SinkBatch,
    ranges: readonly SinkOffsetRange[],
  ): Promise<BatchClaim> {
    const before = new Map<SinkOffsetRange, bigint | undefined>()
    const revoked: SinkOffsetRange[] = []
    const { owner } = batch
    // With an owner, a row moves only while the batch's owner holds it.
    const ownerCondition = owner === undefined ? '' : ' AND owner_generation = $8 AND owner_member = $9'
    const ownerParams = owner === undefined ? [] : [owner.generation, owner.memberId]
    const move = (key: unknown[], range: SinkOffsetRange, from: bigint) =>
      connection.query(
        `UPDATE ${this.#table} SET until_offset = $4, batch_id = $5, batch_time = $6 ` +
          `WHERE app = $1 AND topic = $2 AND "partition" = $3 AND until_offset = $7${ownerCondition}`,
        [...key, range.untilOffset, batch.id, batch.time, from, ...ownerParams],
      )
    for (const range of ranges) {
      const key = [app, range.topic, range.partition]
      if ((await move(key, range, range.fromOffset)).rowCount === 1) {
        before.set(range, range.fromOffset)
        continue
      }
      if (owner !== undefined) {
        const row = await this.#ownedRow(connection, key)
        if (row === undefined || row.generation !== owner.generation || row.member !== owner.memberId) {
          revoked.push(range)
          continue
        }
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
    const owned = ranges.filter((range) => !revoked.includes(range))
    const check: OffsetCheck = checkStoredOffsets(
      owned,
      (range) => before.get(range),
      (range) => lostRangesOf(batch, range),
    )
    return { check, revoked }
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

  async #ownedRow(connection: SqlConnection, key: unknown[]): Promise<OwnedRow | undefined> {
    const { rows } = await connection.query(
      'SELECT CAST(until_offset AS TEXT) AS until_offset, CAST(owner_generation AS TEXT) AS owner_generation, ' +
        `owner_member FROM ${this.#table} WHERE app = $1 AND topic = $2 AND "partition" = $3`,
      key,
    )
    const row = rows[0]
    if (row === undefined) return undefined
    return {
      untilOffset: BigInt(String(row.until_offset)),
      generation: row.owner_generation === null ? undefined : Number(row.owner_generation),
      member: row.owner_member === null ? undefined : String(row.owner_member),
    }
  }

  /**
   * Every stored position of `app` with the batch that wrote it, and the records it lost per
   * partition. Only the columns sluice knows are read, so columns added later (an owner's
   * generation) do not disturb it. `lock` takes the rows' locks (PostgreSQL's FOR UPDATE),
   * for a reset that must not interleave with a batch.
   */
  async positions(
    connection: SqlConnection,
    app: string,
    options: { readonly lock?: boolean; readonly withLost?: boolean } = {},
  ): Promise<StoredPosition[]> {
    const { rows } = await connection.query(
      'SELECT topic, "partition", CAST(until_offset AS TEXT) AS until_offset, CAST(batch_id AS TEXT) AS batch_id, ' +
        `CAST(batch_time AS TEXT) AS batch_time FROM ${this.#table} WHERE app = $1 ORDER BY topic, "partition"` +
        (options.lock ? ' FOR UPDATE' : ''),
      [app],
    )
    const lost = new Map<string, bigint>()
    if (options.withLost) {
      const { rows: lostRows } = await connection.query(
        'SELECT topic, "partition", CAST(SUM(until_offset - from_offset) AS TEXT) AS records ' +
          `FROM ${this.#lostTable} WHERE app = $1 GROUP BY topic, "partition"`,
        [app],
      )
      for (const row of lostRows)
        lost.set(partitionKey(String(row.topic), Number(row.partition)), BigInt(String(row.records)))
    }
    return rows.map((row) => {
      const topic = String(row.topic)
      const partition = Number(row.partition)
      const lostRecords = lost.get(partitionKey(topic, partition))
      return {
        topic,
        partition,
        offset: BigInt(String(row.until_offset)),
        batchId: Number(row.batch_id),
        batchTime: Number(row.batch_time),
        ...(lostRecords === undefined ? {} : { lostRecords }),
      }
    })
  }

  /**
   * Moves stored positions (an operator's reset), each only from the offset it was read at:
   * a row another writer moved meanwhile fails the reset instead of being overwritten. The
   * batch columns keep naming the last batch written.
   */
  async move(connection: SqlConnection, app: string, moves: readonly OffsetMove[]): Promise<void> {
    for (const m of moves) {
      const { rowCount } = await connection.query(
        `UPDATE ${this.#table} SET until_offset = $4 WHERE app = $1 AND topic = $2 AND "partition" = $3 AND until_offset = $5`,
        [app, m.topic, m.partition, m.to, m.from],
      )
      if (rowCount !== 1) {
        throw new SluiceError(
          ErrorCodes.OFFSETS_IN_USE,
          `the stored offset of ${m.topic}-${m.partition} for app '${app}' in table ${this.name} is no longer ${m.from}: ` +
            'a job moved it meanwhile; nothing was reset',
          { details: { app, topic: m.topic, partition: m.partition } },
        )
      }
    }
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
