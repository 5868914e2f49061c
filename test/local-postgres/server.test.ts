import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { test } from 'node:test'
import pg from 'pg'
import { ErrorCodes, type SluiceError } from '../../src/core/errors.ts'
import { silentLogger } from '../../src/core/logger.ts'
import { findPostgresBinaries } from '../../src/local-postgres/binaries.ts'
import { startLocalPostgres } from '../../src/local-postgres/server.ts'
import { serverDir } from '../helpers/own-servers.ts'
import { tempDir } from '../helpers/temp-dir.ts'

test('a private server starts on a free port, serves its database, and stop removes it', async (t) => {
  const server = await startLocalPostgres({
    parentDir: serverDir(t, 'local-postgres'),
    database: 'lpg_test',
    logger: silentLogger,
  })
  t.after(() => server.stop())
  assert.equal(server.url, `postgresql://postgres@127.0.0.1:${server.port}/lpg_test`)
  const client = new pg.Client({ connectionString: server.url })
  await client.connect()
  const { rows } = await client.query('SELECT current_database() AS db, current_user AS who')
  await client.end()
  assert.deepEqual(rows, [{ db: 'lpg_test', who: 'postgres' }])

  await server.stop()
  assert.equal(existsSync(server.dir), false)
  const after = new pg.Client({ connectionString: server.url, connectionTimeoutMillis: 2000 })
  await assert.rejects(after.connect(), /ECONNREFUSED/)
  await after.end().catch(() => {})
})

test('a port already in use fails the start with an error naming the port and the log file', async (t) => {
  const holder = createServer()
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve))
  t.after(() => holder.close())
  const port = (holder.address() as { port: number }).port
  await assert.rejects(
    startLocalPostgres({ parentDir: serverDir(t, 'local-postgres'), port, logger: silentLogger }),
    (error: SluiceError) => {
      const logFile = error.details.logFile as string
      assert.equal(error.code, ErrorCodes.LOCAL_POSTGRES)
      assert.ok(
        error.message.startsWith(
          `PostgreSQL did not start on 127.0.0.1:${port} (the port is already in use); read ${logFile}`,
        ),
        error.message,
      )
      assert.match(error.message, /Address already in use/)
      assert.ok(existsSync(logFile), 'the log the message names is kept')
      return true
    },
  )
})

test('a bad setting fails the start with an error quoting the server log', async (t) => {
  await assert.rejects(
    startLocalPostgres({
      parentDir: serverDir(t, 'local-postgres'),
      settings: { shared_buffers: 'lots' },
      logger: silentLogger,
    }),
    (error: SluiceError) =>
      error.code === ErrorCodes.LOCAL_POSTGRES &&
      error.message.includes(`read ${error.details.logFile}`) &&
      error.message.includes('invalid value for parameter "shared_buffers": "lots"'),
  )
})

test('a directory without the server programs, or no install at all, fails with what to do', (t) => {
  const empty = tempDir(t, 'local-postgres-bin')
  assert.throws(
    () => findPostgresBinaries(empty),
    (error: SluiceError) =>
      error.code === ErrorCodes.LOCAL_POSTGRES &&
      error.message === `'${empty}' does not hold PostgreSQL's server programs (initdb, pg_ctl, postgres)`,
  )
  assert.throws(
    () => findPostgresBinaries(undefined, join(empty, 'nowhere')),
    (error: SluiceError) =>
      error.code === ErrorCodes.LOCAL_POSTGRES &&
      error.message.startsWith(
        `no PostgreSQL server found under ${join(empty, 'nowhere')}/<version>/bin; install`,
      ),
  )
})

test('invalid options fail before anything starts, naming the option', async () => {
  await assert.rejects(startLocalPostgres({ database: 'no-dashes' }), {
    code: ErrorCodes.INVALID_OPTION,
    message: `option 'database' must be a plain SQL identifier, got "no-dashes"`,
  })
  await assert.rejects(startLocalPostgres({ port: 70_000 }), {
    code: ErrorCodes.INVALID_OPTION,
    message: `option 'port' must be a TCP port, got 70000`,
  })
})
