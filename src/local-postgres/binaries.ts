import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { ErrorCodes, SluiceError } from '../core/errors.ts'

/** Where Debian's `postgresql-<version>` packages put the server programs. */
export const debianPostgresRoot = '/usr/lib/postgresql'

/** The programs the launcher runs; a directory missing any of them is not a server install. */
const requiredPrograms = ['initdb', 'pg_ctl', 'postgres'] as const

export interface PostgresBinaries {
  readonly binDir: string
  /** The major version directory name (`15`, `16`...), or `custom` for an explicit binDir. */
  readonly version: string
}

function hasServerPrograms(binDir: string): boolean {
  return requiredPrograms.every((program) => existsSync(join(binDir, program)))
}

/**
 * Finds PostgreSQL's server programs: an explicit `binDir`, else `SLUICE_PG_BIN`, else the
 * newest `/usr/lib/postgresql/<version>/bin` that has initdb, pg_ctl and postgres. Debian
 * keeps these off the PATH (only client wrappers are there), so they are looked up here.
 */
export function findPostgresBinaries(binDir?: string, root = debianPostgresRoot): PostgresBinaries {
  const explicit = binDir ?? process.env.SLUICE_PG_BIN
  if (explicit !== undefined && explicit !== '') {
    if (!hasServerPrograms(explicit)) {
      throw new SluiceError(
        ErrorCodes.LOCAL_POSTGRES,
        `'${explicit}' does not hold PostgreSQL's server programs (${requiredPrograms.join(', ')})`,
        { details: { binDir: explicit } },
      )
    }
    return { binDir: explicit, version: 'custom' }
  }
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((name) => /^\d+(\.\d+)?$/.test(name) && hasServerPrograms(join(root, name, 'bin')))
        .sort((a, b) => Number(b) - Number(a))
    : []
  const newest = versions[0]
  if (newest === undefined) {
    throw new SluiceError(
      ErrorCodes.LOCAL_POSTGRES,
      `no PostgreSQL server found under ${root}/<version>/bin; install Debian's 'postgresql' package ` +
        '(npm test does it via scripts/setup.sh when run as root), set SLUICE_PG_BIN to a directory ' +
        'holding initdb and pg_ctl, or set PG_URL to use an existing server',
      { details: { root } },
    )
  }
  return { binDir: join(root, newest, 'bin'), version: newest }
}
