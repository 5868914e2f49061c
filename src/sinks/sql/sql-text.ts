import { ErrorCodes, SluiceError } from '../../core/errors.ts'

/**
 * One SQL text for both engines: sluice's SQL sink takes PostgreSQL's `$1, $2, ...`
 * placeholders everywhere and rewrites them to SQLite's numbered `?1, ?2, ...` (same
 * numbering, same binding order). Quoted strings, quoted identifiers and comments are left
 * alone. Bare `?` placeholders are refused rather than guessed at, and so is a second
 * statement: SQLite would silently run only the first.
 */
export function toSqliteSql(sql: string): string {
  let out = ''
  let i = 0
  while (i < sql.length) {
    const c = sql[i]!
    const next = sql[i + 1]
    if (c === "'" || c === '"' || c === '`' || c === '[') {
      const end = closingQuote(sql, i)
      out += sql.slice(i, end)
      i = end
    } else if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i)
      const stop = end === -1 ? sql.length : end
      out += sql.slice(i, stop)
      i = stop
    } else if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2)
      const stop = end === -1 ? sql.length : end + 2
      out += sql.slice(i, stop)
      i = stop
    } else if (c === '$' && next !== undefined && next >= '0' && next <= '9') {
      let j = i + 1
      while (j < sql.length && sql[j]! >= '0' && sql[j]! <= '9') j++
      out += `?${sql.slice(i + 1, j)}`
      i = j
    } else if (c === '?') {
      throw badSql(
        sql,
        "uses '?' placeholders; write $1, $2, ... (the same SQL then runs on PostgreSQL and SQLite)",
      )
    } else if (c === ';') {
      if (!onlyCommentsFollow(sql, i + 1))
        throw badSql(sql, 'holds more than one statement; run one per query()')
      out += c
      i++
    } else {
      out += c
      i++
    }
  }
  return out
}

/** Index just past the quoted run starting at `start`; a doubled quote inside is an escaped one. */
function closingQuote(sql: string, start: number): number {
  const open = sql[start]!
  const close = open === '[' ? ']' : open
  let i = start + 1
  while (i < sql.length) {
    if (sql[i] === close) {
      if (close !== ']' && sql[i + 1] === close) {
        i += 2
        continue
      }
      return i + 1
    }
    i++
  }
  return sql.length
}

function onlyCommentsFollow(sql: string, from: number): boolean {
  const rest = sql
    .slice(from)
    .replace(/--[^\n]*/g, '')
    .replace(/\/\*[\s\S]*?\*\//g, '')
  return rest.trim() === '' || rest.trim() === ';'
}

function badSql(sql: string, problem: string): SluiceError {
  const shown = sql.length > 120 ? `${sql.slice(0, 117)}...` : sql
  return new SluiceError(ErrorCodes.INVALID_ARGUMENT, `SQL ${JSON.stringify(shown)} ${problem}`, {
    details: { sql },
  })
}

/**
 * Quotes a table or column name, optionally schema-qualified (`schema.table`), for both
 * engines. Names are taken exactly as given: `Word_Counts` and `word_counts` differ in
 * PostgreSQL, as they do for any quoted identifier.
 */
export function quoteName(name: string): string {
  return name
    .split('.')
    .map((part) => `"${part.replaceAll('"', '""')}"`)
    .join('.')
}

/** The unqualified last part of a (possibly schema-qualified) name, quoted. */
export function quoteBaseName(name: string): string {
  return quoteName(name.split('.').at(-1)!)
}

/** Problem with a table name, or undefined when it is usable. */
export function tableNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || name === '') return 'must be a non-empty string'
  const parts = name.split('.')
  if (parts.length > 2 || parts.some((p) => p === '')) {
    return `must be 'table' or 'schema.table', got ${JSON.stringify(name)}`
  }
  return undefined
}
