import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes } from '../../../src/core/errors.ts'
import { quoteBaseName, quoteName, toSqliteSql } from '../../../src/sinks/sql/sql-text.ts'

test('$n placeholders become SQLite ?n; quoted text and comments are left alone', () => {
  assert.equal(
    toSqliteSql(`INSERT INTO t (a, b) VALUES ($1, $12) -- not $3\n`),
    `INSERT INTO t (a, b) VALUES (?1, ?12) -- not $3\n`,
  )
  assert.equal(
    toSqliteSql(`SELECT '$1 it''s', "col$2", [x$3], \`y$4\` /* $5 ? ; */ FROM t WHERE a = $6;`),
    `SELECT '$1 it''s', "col$2", [x$3], \`y$4\` /* $5 ? ; */ FROM t WHERE a = ?6;`,
  )
})

test("bare '?' placeholders and a second statement are refused with what to do", () => {
  assert.throws(() => toSqliteSql('SELECT * FROM t WHERE a = ?'), {
    code: ErrorCodes.INVALID_ARGUMENT,
    message: `SQL "SELECT * FROM t WHERE a = ?" uses '?' placeholders; write $1, $2, ... (the same SQL then runs on PostgreSQL and SQLite)`,
  })
  assert.throws(() => toSqliteSql('DELETE FROM a; DELETE FROM b'), {
    code: ErrorCodes.INVALID_ARGUMENT,
    message: `SQL "DELETE FROM a; DELETE FROM b" holds more than one statement; run one per query()`,
  })
  assert.equal(toSqliteSql('DELETE FROM a; -- done\n'), 'DELETE FROM a; -- done\n')
})

test('names are quoted exactly, schema-qualified or not', () => {
  assert.equal(quoteName('word_counts'), '"word_counts"')
  assert.equal(quoteName('stats.Word"Counts'), '"stats"."Word""Counts"')
  assert.equal(quoteBaseName('stats.counts'), '"counts"')
})
