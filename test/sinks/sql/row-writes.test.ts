import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes } from '../../../src/core/errors.ts'
import { appendStatements, upsertStatements } from '../../../src/sinks/sql/row-writes.ts'

test('append is one multi-row INSERT with $n placeholders in row order', () => {
  assert.deepEqual(
    appendStatements('events', [
      { word: 'a', n: 1 },
      { n: 2, word: 'b' },
    ]),
    [{ sql: 'INSERT INTO "events" ("word", "n") VALUES ($1, $2), ($3, $4)', params: ['a', 1, 'b', 2] }],
  )
  assert.deepEqual(appendStatements('events', []), [])
})

test('upsert adds the add-columns, replaces the others, and splits repeated keys into later statements', () => {
  assert.deepEqual(
    upsertStatements(
      'stats.word_counts',
      ['word'],
      [
        { word: 'a', count: 1, seen: 'b0' },
        { word: 'b', count: 2, seen: 'b0' },
        { word: 'a', count: 3, seen: 'b0' },
      ],
      { add: ['count'] },
    ),
    [
      {
        sql:
          'INSERT INTO "stats"."word_counts" ("word", "count", "seen") VALUES ($1, $2, $3), ($4, $5, $6) ' +
          'ON CONFLICT ("word") DO UPDATE SET "count" = "word_counts"."count" + excluded."count", "seen" = excluded."seen"',
        params: ['a', 1, 'b0', 'b', 2, 'b0'],
      },
      {
        sql:
          'INSERT INTO "stats"."word_counts" ("word", "count", "seen") VALUES ($1, $2, $3) ' +
          'ON CONFLICT ("word") DO UPDATE SET "count" = "word_counts"."count" + excluded."count", "seen" = excluded."seen"',
        params: ['a', 3, 'b0'],
      },
    ],
  )
  assert.deepEqual(upsertStatements('seen', ['id'], [{ id: 7 }]), [
    { sql: 'INSERT INTO "seen" ("id") VALUES ($1) ON CONFLICT ("id") DO NOTHING', params: [7] },
  ])
})

test('upsert writes rows in key order (processes upserting the same keys lock them in one order, never deadlock); repeats keep their order', () => {
  const order = (rows: Record<string, unknown>[], keys: string[]) =>
    upsertStatements('t', keys, rows).map((statement) => statement.params)
  assert.deepEqual(
    order(
      [
        { k: 'b', n: 1 },
        { k: 'a', n: 2 },
        { k: 'c', n: 3 },
        { k: 'a', n: 4 },
      ],
      ['k'],
    ),
    [
      ['a', 2, 'b', 1, 'c', 3],
      ['a', 4],
    ],
  )
  assert.deepEqual(
    order(
      [
        { g: 2, k: 'a' },
        { g: 10, k: 'a' },
        { g: 2, k: 'A' },
      ],
      ['g', 'k'],
    ),
    [[2, 'A', 2, 'a', 10, 'a']],
  )
})

test('an upsert of no rows writes nothing (an empty batch) but still needs a key column', () => {
  assert.deepEqual(upsertStatements('word_counts', ['word'], [], { add: ['count'] }), [])
  assert.throws(() => upsertStatements('word_counts', [], []), {
    code: ErrorCodes.INVALID_ARGUMENT,
    message: "upsert into 'word_counts': needs at least one key column",
  })
})

test('large writes are chunked below the engines’ parameter limits', () => {
  const rows = Array.from({ length: 1200 }, (_, i) => ({ id: i }))
  const statements = appendStatements('big', rows)
  assert.deepEqual(
    statements.map((s) => s.params.length),
    [500, 500, 200],
  )
})

test('rows and columns that do not fit are refused, naming the table', () => {
  const refuse = (f: () => unknown, message: string) =>
    assert.throws(f, { code: ErrorCodes.INVALID_ARGUMENT, message })
  refuse(
    () => appendStatements('t', [{ a: 1 }, { b: 1 }]),
    "append into 't': row 1 does not have the columns of row 0 (a)",
  )
  refuse(() => upsertStatements('t', [], [{ a: 1 }]), "upsert into 't': needs at least one key column")
  refuse(
    () => upsertStatements('t', ['k'], [{ a: 1 }]),
    "upsert into 't': key column 'k' is not a column of the rows",
  )
  refuse(
    () => upsertStatements('t', ['a'], [{ a: 1, n: 2 }], { add: ['a'] }),
    "upsert into 't': 'add' column 'a' must be a non-key column of the rows",
  )
  refuse(() => appendStatements('', [{ a: 1 }]), "append into '': table name must be a non-empty string")
})
