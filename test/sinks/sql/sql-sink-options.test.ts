import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes } from '../../../src/core/errors.ts'
import { createSqlSink } from '../../../src/sinks/sql/sql-sink.ts'
import type { SqlSinkOptions } from '../../../src/sinks/sql/sql-sink-options.ts'

const sqlite = { path: '/tmp/never-opened.db' }
const P = 'createSqlSink: '

const cases: [string, unknown, string][] = [
  ['no app', { sqlite }, `${P}option 'app' is required (a non-empty string)`],
  ['blank app', { app: '  ', sqlite }, `${P}option 'app' must be a non-empty string, got a string ("  ")`],
  [
    'no database',
    { app: 'wc' },
    `${P}option 'sqlite' or 'postgres' must be given: the SQL sink needs a database`,
  ],
  [
    'two databases',
    { app: 'wc', sqlite, postgres: { connectionString: 'postgresql://h/db' } },
    `${P}option 'postgres' and 'sqlite' cannot both be given: choose one database`,
  ],
  [
    'sqlite not an object',
    { app: 'wc', sqlite: 'x.db' },
    `${P}option 'sqlite' must be an object, got a string ("x.db")`,
  ],
  ['sqlite without path', { app: 'wc', sqlite: {} }, `${P}option 'sqlite.path' is required (a file path)`],
  [
    'bad busy timeout',
    { app: 'wc', sqlite: { ...sqlite, busyTimeoutMs: -5 } },
    `${P}option 'sqlite.busyTimeoutMs' must be at least 1 (milliseconds), got -5`,
  ],
  [
    'no connection string',
    { app: 'wc', postgres: {} },
    `${P}option 'postgres.connectionString' is required (a non-empty string)`,
  ],
  [
    'malformed URL',
    { app: 'wc', postgres: { connectionString: 'postgresql://user@host:99999999/db' } },
    `${P}option 'postgres.connectionString' is not a valid postgresql:// URL`,
  ],
  [
    'bad pool size',
    { app: 'wc', postgres: { connectionString: 'postgresql://h/db', maxConnections: 0 } },
    `${P}option 'postgres.maxConnections' must be at least 1, got 0`,
  ],
  [
    'bad retry timeout',
    { app: 'wc', sqlite, retryTimeoutMs: 1.5 },
    `${P}option 'retryTimeoutMs' must be an integer (milliseconds), got a number (1.5)`,
  ],
  [
    'tables not an array',
    { app: 'wc', sqlite, tables: 'word_counts' },
    `${P}option 'tables' must be an array of table names, got a string ("word_counts")`,
  ],
  [
    'empty table name',
    { app: 'wc', sqlite, tables: ['ok', ''] },
    `${P}option 'tables[1]' must be a table name ('table' or 'schema.table'), got a string ("")`,
  ],
  [
    'table name with two dots',
    { app: 'wc', sqlite, tables: ['a.b.c'] },
    `${P}option 'tables[0]' must be 'table' or 'schema.table', got "a.b.c"`,
  ],
  [
    'bad offsets table',
    { app: 'wc', sqlite, offsetsTable: '.x' },
    `${P}option 'offsetsTable' must be 'table' or 'schema.table', got ".x"`,
  ],
  ['a typo', { app: 'wc', sqlite, table: ['x'] }, `${P}unknown option 'table' — did you mean 'tables'?`],
]

for (const [name, options, message] of cases) {
  test(`createSqlSink rejects ${name} at construction, naming the option`, () => {
    assert.throws(() => createSqlSink(options as SqlSinkOptions), {
      code: ErrorCodes.INVALID_OPTION,
      message,
    })
  })
}

test('valid options construct a sink without touching the database', () => {
  const sink = createSqlSink({
    app: 'wc',
    postgres: { connectionString: 'postgresql://u:pw@db.example:6543/prod' },
  })
  assert.equal(sink.engine, 'postgres')
  assert.equal(sink.target, 'PostgreSQL at db.example:6543/prod')
  assert.equal(createSqlSink({ app: 'wc', sqlite }).target, 'SQLite file /tmp/never-opened.db')
})
