import type { TestContext } from 'node:test'
import { bootstrap } from '../../helpers/kafka.ts'
import { pgUrl } from '../../helpers/postgres.ts'
import { sorted } from '../../helpers/words.ts'
import { type EngineName, type SqlWorld, sqlWorld } from '../sql/fixtures.ts'

/** A SQL world (random app, offsets table, database) with a random counts table for the job. */
export interface SqlJobWorld extends SqlWorld {
  readonly countsTable: string
  /** Environment for a `ChildJob` writing to this world. */
  env(topic: string, extra?: Record<string, string>): Record<string, string>
  /** The counts table, word to count, sorted by word. */
  counts(): Promise<Map<string, number>>
  /** The offsets stored for the app, read beside the job. */
  stored(): Promise<Record<string, Record<number, bigint>>>
}

export async function sqlJobWorld(t: TestContext, engine: EngineName): Promise<SqlJobWorld> {
  const world = await sqlWorld(t, engine)
  // The same DDL as examples/wordcount-sql.ts on both engines (SQLite reads BIGINT as INTEGER).
  const table = await world.table('counts', 'word TEXT PRIMARY KEY, count BIGINT NOT NULL')
  return {
    ...world,
    countsTable: table,
    env: (topic, extra = {}) => ({
      SINK: engine,
      KAFKA_BOOTSTRAP: bootstrap().join(','),
      TOPIC: topic,
      APP: world.app,
      TABLE: table,
      OFFSETS_TABLE: world.offsetsTable,
      ...(engine === 'postgres' ? { PG_URL: pgUrl() } : { SQLITE_PATH: world.database.sqlite!.path }),
      ...extra,
    }),
    counts: async () => {
      const rows = await world.rows(`SELECT word, CAST(count AS TEXT) AS count FROM "${table}"`)
      return sorted(new Map(rows.map((row) => [String(row.word), Number(row.count)])))
    },
    stored: async () => {
      const rows = await world.rows(
        `SELECT topic, "partition", CAST(until_offset AS TEXT) AS until_offset FROM "${world.offsetsTable}" ` +
          'WHERE app = $1 ORDER BY topic, "partition"',
        [world.app],
      )
      const result: Record<string, Record<number, bigint>> = {}
      for (const row of rows) {
        result[String(row.topic)] ??= {}
        result[String(row.topic)]![Number(row.partition)] = BigInt(String(row.until_offset))
      }
      return result
    },
  }
}
