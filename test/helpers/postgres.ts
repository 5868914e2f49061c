import { randomBytes } from 'node:crypto'

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
