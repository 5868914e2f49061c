import { randomBytes } from 'node:crypto'
import type { TestContext } from 'node:test'
import pg from 'pg'

/** The PostgreSQL server `npm test` started (or the one PG_URL names). */
export function pgUrl(): string {
  const value = process.env.PG_URL
  if (!value) {
    throw new Error('PG_URL is not set: run the tests with `npm test`, which starts a private PostgreSQL')
  }
  return value
}

/** A random lowercase identifier, so tests never share tables and parallel runs never collide. */
export function randomTableName(prefix = 't'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`
}

/** A pg pool on PG_URL, closed when the test ends. */
export function testPool(t: TestContext): pg.Pool {
  const pool = new pg.Pool({ connectionString: pgUrl(), max: 3 })
  t.after(() => pool.end())
  return pool
}

/** Creates `name` with the given column definitions and drops it when the test ends. */
export async function createPgTable(
  t: TestContext,
  pool: pg.Pool,
  name: string,
  columns: string,
): Promise<void> {
  await pool.query(`CREATE TABLE "${name}" (${columns})`)
  t.after(() => pool.query(`DROP TABLE IF EXISTS "${name}"`).then(() => {}))
}
