import { ErrorCodes, SluiceError } from '../../core/errors.ts'
import { arrayOption, optionsObject, parseOptions, stringOption } from '../../core/options.ts'
import { quoteBaseName, quoteName, tableNameProblem } from './sql-text.ts'

/** A row to write: column name to value. */
export type RowValues = Readonly<Record<string, unknown>>

/** Options of `SqlTransaction.upsert`. */
export interface UpsertOptions {
  /**
   * Non-key columns whose new value is ADDED to the stored one when the key exists (running
   * totals such as word counts). Every other non-key column is REPLACED by the new value.
   */
  readonly add?: readonly string[]
}

const upsertOptions = optionsObject({
  add: arrayOption(stringOption({ expected: 'a column name' }), { expected: 'an array of column names' }),
})

export interface Statement {
  readonly sql: string
  readonly params: unknown[]
}

/** Rows per INSERT: well below SQLite's 32766 and PostgreSQL's 65535 bound parameters. */
const maxParamsPerStatement = 10_000
const maxRowsPerStatement = 500

/** `INSERT INTO table (cols) VALUES (...), (...)`, in chunks. */
export function appendStatements(table: string, rows: readonly RowValues[]): Statement[] {
  const columns = checkRows('append', table, rows)
  return chunks(rows, columns).map((chunk) => insert(table, columns, chunk, ''))
}

/**
 * `INSERT ... ON CONFLICT (keys) DO UPDATE SET c = table.c + excluded.c` for `add` columns
 * and `c = excluded.c` for the rest; `DO NOTHING` when every column is a key. Rows that
 * repeat a key within one call go to separate statements (PostgreSQL refuses to update one
 * row twice in a statement), so repeats add up on both engines alike. Rows are written in
 * key order: processes that share a stream and upsert the same keys then lock them in the
 * same order and wait for each other, where rows in any order would deadlock (and PostgreSQL
 * would abort one of the transactions).
 */
export function upsertStatements(
  table: string,
  keyColumns: readonly string[],
  rows: readonly RowValues[],
  options: UpsertOptions = {},
): Statement[] {
  const columns = checkRows('upsert', table, rows)
  if (!Array.isArray(keyColumns) || keyColumns.length === 0) {
    throw badCall('upsert', table, 'needs at least one key column')
  }
  // Nothing to write, and no row to check the columns against: an empty batch (a stream that
  // has caught up) must not fail.
  if (rows.length === 0) return []
  const add = parseOptions(upsertOptions, options, `upsert into ${table}`).add ?? []
  for (const key of keyColumns) {
    if (!columns.includes(key))
      throw badCall('upsert', table, `key column '${key}' is not a column of the rows`)
  }
  for (const column of add) {
    if (!columns.includes(column) || keyColumns.includes(column)) {
      throw badCall('upsert', table, `'add' column '${column}' must be a non-key column of the rows`)
    }
  }
  const self = quoteBaseName(table)
  const updates = columns
    .filter((c) => !keyColumns.includes(c))
    .map((c) => {
      const q = quoteName(c)
      return add.includes(c) ? `${q} = ${self}.${q} + excluded.${q}` : `${q} = excluded.${q}`
    })
  const conflict =
    ` ON CONFLICT (${keyColumns.map(quoteName).join(', ')}) ` +
    (updates.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${updates.join(', ')}`)
  return generations(inKeyOrder(rows, keyColumns), keyColumns).flatMap((generation) =>
    chunks(generation, columns).map((chunk) => insert(table, columns, chunk, conflict)),
  )
}

/** The rows sorted by their key columns (stable: repeats of a key keep their order). */
function inKeyOrder(rows: readonly RowValues[], keyColumns: readonly string[]): RowValues[] {
  return [...rows].sort((a, b) => {
    for (const column of keyColumns) {
      const order = compareValues(a[column], b[column])
      if (order !== 0) return order
    }
    return 0
  })
}

/** A total order of key values, the same in every process: by type, then by value. */
function compareValues(a: unknown, b: unknown): number {
  const typeA = typeof a
  const typeB = typeof b
  if (typeA !== typeB) return typeA < typeB ? -1 : 1
  if (typeA === 'number' || typeA === 'bigint' || typeA === 'string') {
    return (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0
  }
  const textA = String(keyPart(a))
  const textB = String(keyPart(b))
  return textA < textB ? -1 : textA > textB ? 1 : 0
}

function insert(
  table: string,
  columns: readonly string[],
  rows: readonly RowValues[],
  tail: string,
): Statement {
  const params: unknown[] = []
  const tuples = rows.map((row) => {
    const slots = columns.map((column) => {
      params.push(row[column])
      return `$${params.length}`
    })
    return `(${slots.join(', ')})`
  })
  return {
    sql: `INSERT INTO ${quoteName(table)} (${columns.map(quoteName).join(', ')}) VALUES ${tuples.join(', ')}${tail}`,
    params,
  }
}

/** The column list (from the first row) after checking every row has exactly those columns. */
function checkRows(what: string, table: string, rows: readonly RowValues[]): string[] {
  const problem = tableNameProblem(table)
  if (problem !== undefined) throw badCall(what, String(table), `table name ${problem}`)
  if (!Array.isArray(rows)) throw badCall(what, table, 'rows must be an array of objects')
  if (rows.length === 0) return []
  const first = rows[0]
  if (first === null || typeof first !== 'object') throw badCall(what, table, 'rows must be objects')
  const columns = Object.keys(first)
  if (columns.length === 0) throw badCall(what, table, 'rows have no columns')
  const expected = [...columns].sort().join(',')
  rows.forEach((row, index) => {
    if (row === null || typeof row !== 'object' || Object.keys(row).sort().join(',') !== expected) {
      throw badCall(what, table, `row ${index} does not have the columns of row 0 (${columns.join(', ')})`)
    }
  })
  return columns
}

function chunks(rows: readonly RowValues[], columns: readonly string[]): RowValues[][] {
  if (rows.length === 0) return []
  const size = Math.max(1, Math.min(maxRowsPerStatement, Math.floor(maxParamsPerStatement / columns.length)))
  const out: RowValues[][] = []
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size))
  return out
}

/** Splits rows so that no key repeats within a group: the n-th occurrence of a key goes to group n. */
function generations(rows: readonly RowValues[], keyColumns: readonly string[]): RowValues[][] {
  const seen = new Map<string, number>()
  const groups: RowValues[][] = []
  for (const row of rows) {
    const key = JSON.stringify(keyColumns.map((c) => keyPart(row[c])))
    const n = seen.get(key) ?? 0
    seen.set(key, n + 1)
    groups[n] ??= []
    groups[n].push(row)
  }
  return groups
}

function keyPart(value: unknown): unknown {
  if (typeof value === 'bigint') return `${value}n`
  if (value instanceof Date) return value.toISOString()
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64')
  return value
}

function badCall(what: string, table: string, problem: string): SluiceError {
  return new SluiceError(ErrorCodes.INVALID_ARGUMENT, `${what} into '${table}': ${problem}`, {
    details: { table },
  })
}
