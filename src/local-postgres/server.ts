import { appendFileSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { ErrorCodes, invalidOption, messageOf, SluiceError } from '../core/errors.ts'
import { createLogger, type Logger } from '../core/logger.ts'
import { isAlive, readSince, sizeOf, waitForExit } from '../local-servers/child-process.ts'
import { freePort } from '../local-servers/ports.ts'
import { findPostgresBinaries } from './binaries.ts'
import { type ServerUser, serverUser } from './server-user.ts'

export interface LocalPostgresOptions {
  /** Parent of the fresh cluster directory; the OS temp dir when omitted. */
  readonly parentDir?: string
  /** TCP port on 127.0.0.1; a free one is chosen when omitted. */
  readonly port?: number
  /** The database created for the caller (default `sluice`). */
  readonly database?: string
  /** Directory holding initdb, pg_ctl and postgres; found under /usr/lib/postgresql when omitted. */
  readonly binDir?: string
  /** Extra postgresql.conf settings, e.g. `{ max_connections: '50' }`. */
  readonly settings?: Readonly<Record<string, string>>
  readonly startTimeoutMs?: number
  readonly logger?: Logger
}

/** Superuser of the private cluster; trust authentication on loopback only, so no password. */
const superuser = 'postgres'
const defaults = { database: 'sluice', startTimeoutMs: 60_000 }

/**
 * A throwaway cluster with durability switched off (fsync=off): it exists for tests and
 * dies with them. Settings a caller passes win over these.
 */
const throwawaySettings: Readonly<Record<string, string>> = {
  listen_addresses: '127.0.0.1',
  fsync: 'off',
  full_page_writes: 'off',
  synchronous_commit: 'off',
}

/** A private PostgreSQL server in its own temp directory; see `startLocalPostgres`. */
export class LocalPostgres {
  readonly url: string
  readonly port: number
  readonly database: string
  /** The cluster's directory: `data/` and `postgres.log`; removed by `stop()`. */
  readonly dir: string
  readonly logFile: string
  readonly #binDir: string
  readonly #user: ServerUser
  #stopped = false

  constructor(fields: {
    port: number
    database: string
    dir: string
    logFile: string
    binDir: string
    user: ServerUser
  }) {
    this.port = fields.port
    this.database = fields.database
    this.dir = fields.dir
    this.logFile = fields.logFile
    this.#binDir = fields.binDir
    this.#user = fields.user
    this.url = `postgresql://${superuser}@127.0.0.1:${fields.port}/${encodeURIComponent(fields.database)}`
  }

  /**
   * Stops the server and keeps its directory, so that `startServer` brings the same data
   * back on the same port — an outage for tests of what clients do meanwhile. 'fast'
   * disconnects clients and shuts down cleanly; 'immediate' is a crash (recovery on start).
   */
  async stopServer(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await stopCluster(this.#user, this.#binDir, join(this.dir, 'data'), mode)
  }

  /** Starts the server stopped by `stopServer` again, on its port, and waits until it accepts connections. */
  async startServer(timeoutMs = defaults.startTimeoutMs): Promise<void> {
    const dataDir = join(this.dir, 'data')
    await startCluster({
      user: this.#user,
      binDir: this.#binDir,
      dataDir,
      logFile: this.logFile,
      port: this.port,
      timeoutMs,
    })
    await waitForConnection(this.port, this.logFile, timeoutMs)
  }

  /** Fast shutdown (clients are disconnected, no waiting for them), then the directory is removed. */
  async stop(): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    await stopCluster(this.#user, this.#binDir, join(this.dir, 'data'))
    await rm(this.dir, { recursive: true, force: true })
  }
}

/**
 * Creates a PostgreSQL cluster in a fresh temp directory (initdb), starts it on a free
 * loopback port with pg_ctl, waits until a connection succeeds, creates `database` and
 * returns its URL. As root, the server programs run as the `postgres` system user.
 * On failure the directory is kept so that the log the error names can be read.
 */
export async function startLocalPostgres(options: LocalPostgresOptions = {}): Promise<LocalPostgres> {
  const database = options.database ?? defaults.database
  if (typeof database !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(database)) {
    throw invalidOption('database', `must be a plain SQL identifier, got ${JSON.stringify(database)}`)
  }
  if (
    options.port !== undefined &&
    !(Number.isInteger(options.port) && options.port > 0 && options.port < 65_536)
  ) {
    throw invalidOption('port', `must be a TCP port, got ${String(options.port)}`)
  }
  const timeoutMs = options.startTimeoutMs ?? defaults.startTimeoutMs
  const logger = (options.logger ?? createLogger()).child({ component: 'local-postgres' })
  const { binDir } = findPostgresBinaries(options.binDir)
  const user = await serverUser()
  const dir = await mkdtemp(join(resolve(options.parentDir ?? tmpdir()), 'sluice-pg-'))
  await user.own(dir)
  const dataDir = join(dir, 'data')
  const logFile = join(dir, 'postgres.log')

  await initCluster(user, binDir, dataDir)
  configure(dataDir, dir, options.settings ?? {})
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort())
    try {
      await startCluster({ user, binDir, dataDir, logFile, port, timeoutMs })
      await waitForConnection(port, logFile, timeoutMs)
      await createDatabase(port, database)
      logger.info('started a private PostgreSQL server', { port, dir })
      return new LocalPostgres({ port, database, dir, logFile, binDir, user })
    } catch (error) {
      await stopCluster(user, binDir, dataDir).catch(() => {})
      // A chosen port can be taken between our probe and the server's bind: try another.
      const portRace = error instanceof SluiceError && error.details.portInUse === true
      if (!portRace || options.port !== undefined || attempt >= 3) throw error
      logger.warn('the chosen port was taken before PostgreSQL bound it; retrying with another', { port })
    }
  }
}

async function initCluster(user: ServerUser, binDir: string, dataDir: string): Promise<void> {
  const result = await user.run(join(binDir, 'initdb'), [
    '-D',
    dataDir,
    '-U',
    superuser,
    '--auth=trust',
    '--encoding=UTF8',
    '--locale=C',
    '--no-sync',
    '--no-instructions',
  ])
  if (result.status !== 0) {
    const hint =
      user.name !== undefined && /Permission denied/.test(result.output)
        ? `; user '${user.name}' must be able to enter every parent directory of ${dataDir}`
        : ''
    throw new SluiceError(
      ErrorCodes.LOCAL_POSTGRES,
      `initdb of ${dataDir}${user.name ? ` as user '${user.name}'` : ''} failed (exit ${result.status})${hint}:\n` +
        result.output.trim().slice(-2000),
      { details: { dataDir } },
    )
  }
}

/** Appends the private server's settings to postgresql.conf (later lines win in that file). */
function configure(dataDir: string, socketDir: string, settings: Readonly<Record<string, string>>): void {
  const all: Record<string, string> = {
    ...throwawaySettings,
    // The socket lives in our own directory: /var/run/postgresql may not exist or be writable.
    unix_socket_directories: socketDir,
    ...settings,
  }
  const lines = Object.entries(all).map(([name, value]) => `${name} = '${value.replaceAll("'", "''")}'`)
  appendFileSync(join(dataDir, 'postgresql.conf'), `\n# sluice private server\n${lines.join('\n')}\n`)
}

async function startCluster(args: {
  user: ServerUser
  binDir: string
  dataDir: string
  logFile: string
  port: number
  timeoutMs: number
}): Promise<void> {
  const { user, binDir, dataDir, logFile, port } = args
  const logStart = sizeOf(logFile)
  // pg_ctl -w polls postmaster.pid until the server reports it accepts connections.
  const result = await user.run(join(binDir, 'pg_ctl'), [
    '-D',
    dataDir,
    '-l',
    logFile,
    '-w',
    '-t',
    String(Math.ceil(args.timeoutMs / 1000)),
    '-o',
    `-p ${port}`,
    'start',
  ])
  if (result.status === 0) return
  const log = readSince(logFile, logStart)
  const portInUse = /Address already in use|could not create any TCP\/IP sockets/.test(log)
  throw new SluiceError(
    ErrorCodes.LOCAL_POSTGRES,
    `PostgreSQL did not start on 127.0.0.1:${port}${portInUse ? ' (the port is already in use)' : ''}; ` +
      `read ${logFile}. ${result.output.trim()}\nThe log says:\n${logTail(log)}`,
    { details: { port, portInUse, logFile, dir: resolve(dataDir, '..') } },
  )
}

/**
 * The end of what this start wrote to the log. PostgreSQL reports the cause of a failed start
 * at level LOG (`could not bind ...`, `invalid value for parameter ...`) just before the
 * FATAL line, so the tail explains it better than the FATAL line alone.
 */
function logTail(log: string, lines = 8): string {
  return log.trimEnd().split('\n').slice(-lines).join('\n') || '(nothing)'
}

/** Resolves once a client connection succeeds; never after a fixed sleep. */
async function waitForConnection(port: number, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const client = new pg.Client({ ...clientConfig(port, 'postgres'), connectionTimeoutMillis: 2000 })
    // A server still starting may drop the connection: the awaited call reports it, the event must not crash.
    client.on('error', () => {})
    try {
      await client.connect()
      await client.query('SELECT 1')
      return
    } catch (error) {
      if (Date.now() > deadline) {
        throw new SluiceError(
          ErrorCodes.LOCAL_POSTGRES,
          `PostgreSQL on 127.0.0.1:${port} accepted no connection within ${timeoutMs} ms ` +
            `(${messageOf(error)}); read ${logFile}`,
          { cause: error, details: { port, logFile } },
        )
      }
    } finally {
      await client.end().catch(() => {})
    }
    await sleep(100)
  }
}

async function createDatabase(port: number, database: string): Promise<void> {
  const client = new pg.Client(clientConfig(port, 'postgres'))
  client.on('error', () => {})
  try {
    await client.connect()
    if (database !== 'postgres') await client.query(`CREATE DATABASE "${database}"`)
  } finally {
    await client.end().catch(() => {})
  }
}

function clientConfig(port: number, database: string): pg.ClientConfig {
  return { host: '127.0.0.1', port, user: superuser, database }
}

/** `pg_ctl stop -m fast` (or immediate); if that fails while the postmaster lives, SIGQUIT. */
async function stopCluster(
  user: ServerUser,
  binDir: string,
  dataDir: string,
  mode: 'fast' | 'immediate' = 'fast',
): Promise<void> {
  const pid = postmasterPid(dataDir)
  if (pid === undefined || !isAlive(pid)) return
  const result = await user.run(join(binDir, 'pg_ctl'), ['-D', dataDir, '-m', mode, '-w', '-t', '60', 'stop'])
  if (result.status === 0 || !isAlive(pid)) return
  try {
    process.kill(pid, 'SIGQUIT')
  } catch {
    // Already gone.
  }
  if (!(await waitForExit(pid, 10_000))) {
    throw new SluiceError(
      ErrorCodes.LOCAL_POSTGRES,
      `PostgreSQL (pid ${pid}, data ${dataDir}) did not stop: ${result.output.trim()}`,
      { details: { pid, dataDir } },
    )
  }
}

/** The postmaster's pid from the first line of `postmaster.pid`, if the server runs. */
function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0])
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}
