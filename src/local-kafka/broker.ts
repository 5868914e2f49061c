import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { ErrorCodes, SluiceError } from '../core/errors.ts'
import { createLogger, type Logger, silentLogger } from '../core/logger.ts'
import { KafkaClient } from '../kafka/client.ts'
import {
  commandLineOf,
  failureLines,
  isAlive,
  readSince,
  runCommand,
  signalGroup,
  sizeOf,
  waitForExit,
} from '../local-servers/child-process.ts'
import { freePort, isPortFree } from '../local-servers/ports.ts'
import { ensureBrokerCertificates } from './certificates.ts'
import { log4jProperties, type ScramUser, scramMechanism, serverProperties } from './config.ts'
import { defaultKafkaVersion, ensureKafkaJars, requireJava } from './jars.ts'
import { clearState, type LocalKafkaState, layoutOf, readState, writeState } from './state.ts'

export interface LocalKafkaOptions {
  /** The broker's home: data, logs, config and broker.json live here. */
  readonly dir: string
  /** Client port; a free one is chosen (or the previous one reused) when omitted. */
  readonly port?: number
  readonly controllerPort?: number
  readonly kafkaVersion?: string
  /** JVM heap in MiB; Kafka lives off the page cache, so a small heap is enough. */
  readonly heapMb?: number
  readonly startTimeoutMs?: number
  /** Extra server.properties settings. */
  readonly brokerConfig?: Readonly<Record<string, string>>
  /**
   * A secured broker: its client port speaks SASL_SSL (TLS, then a SCRAM-SHA-512 login)
   * instead of PLAINTEXT. The users are created when the storage is first formatted; the
   * first one is what the broker logs in to itself as. Certificates (a CA and a broker
   * certificate it signs) are made with the JDK's keytool into `<dir>/tls` once.
   */
  readonly security?: { readonly users: readonly ScramUser[] }
  readonly logger?: Logger
}

/** Client options (`tls`, `sasl`) for a secured local broker, ready to spread into a client's options. */
export interface LocalKafkaClientSecurity {
  readonly tls: { readonly ca: string }
  readonly sasl: {
    readonly mechanism: typeof scramMechanism
    readonly username: string
    readonly password: string
  }
}

export interface StartedLocalKafka {
  readonly kafka: LocalKafka
  /** True when a broker was already running in the dir and was reused. */
  readonly alreadyRunning: boolean
}

/** A broker started from this machine's Maven cache; see `startLocalKafka`. */
export class LocalKafka {
  #state: LocalKafkaState
  readonly #options: LocalKafkaOptions

  constructor(state: LocalKafkaState, options: LocalKafkaOptions) {
    this.#state = state
    this.#options = options
  }

  get bootstrap(): string {
    return this.#state.bootstrap
  }

  get state(): LocalKafkaState {
    return this.#state
  }

  get serverLog(): string {
    return layoutOf(this.#state.dir).serverLog
  }

  /**
   * What a client needs to reach a secured broker: the CA to trust (PEM) and a SCRAM login,
   * as user `username` (the first configured user by default).
   */
  clientSecurity(username?: string): LocalKafkaClientSecurity {
    const users = this.#options.security?.users
    if (!users || !this.#state.security) {
      throw new SluiceError(
        ErrorCodes.LOCAL_KAFKA,
        `the broker in ${this.#state.dir} was started without security`,
      )
    }
    const user = username === undefined ? users[0] : users.find((u) => u.username === username)
    if (!user) throw new SluiceError(ErrorCodes.LOCAL_KAFKA, `the broker has no SCRAM user '${username}'`)
    return clientSecurityOf({ ...this.#state.security, ...user })
  }

  /** Stops the broker (SIGTERM, then SIGKILL of its process group) and keeps its data. */
  async stop(): Promise<void> {
    await stopLocalKafka(this.#state.dir)
  }

  /**
   * Kills the broker with SIGKILL, as a crashed machine or an OOM kill would: no controlled
   * shutdown, open connections reset, the next start recovers its logs. Data is kept.
   */
  async kill(): Promise<void> {
    const { pid, dir } = this.#state
    signalGroup(pid, 'SIGKILL')
    await waitForExit(pid, 10_000)
    clearState(dir)
  }

  /** Starts the broker again on the same ports and data (after `stop` or `kill`). */
  async start(): Promise<void> {
    const { kafka } = await startLocalKafka({
      ...this.#options,
      port: this.#state.port,
      controllerPort: this.#state.controllerPort,
    })
    this.#state = kafka.state
  }

  /** Stops and starts the broker on the same ports and data, as a broker restart in production. */
  async restart(): Promise<void> {
    await this.stop()
    await this.start()
  }
}

const defaults = { heapMb: 768, startTimeoutMs: 120_000 }

/**
 * Starts a single-node KRaft broker in `dir`, resolving Kafka from Maven Central on first
 * use, and resolves once a metadata request succeeds. Idempotent: when a broker from this
 * dir is already running it is reported instead of starting a second one.
 */
export async function startLocalKafka(options: LocalKafkaOptions): Promise<StartedLocalKafka> {
  const dir = resolve(options.dir)
  const logger = (options.logger ?? createLogger()).child({ component: 'local-kafka' })
  mkdirSync(dir, { recursive: true })
  const running = await runningBroker(dir)
  if (running) {
    await waitUntilReady(running, options.startTimeoutMs ?? defaults.startTimeoutMs)
    return { kafka: new LocalKafka(running, { ...options, dir }), alreadyRunning: true }
  }
  await requireJava()
  const version = options.kafkaVersion ?? defaultKafkaVersion
  const libs = await ensureKafkaJars(version, logger)
  const release = await takeStartLock(dir)
  try {
    // Another process may have started it while we waited for the lock.
    const raced = await runningBroker(dir)
    if (raced) return { kafka: new LocalKafka(raced, { ...options, dir }), alreadyRunning: true }
    const fixedPorts = options.port !== undefined || options.controllerPort !== undefined
    for (let attempt = 1; ; attempt++) {
      const ports = await choosePorts(dir, options)
      try {
        const state = await launch(dir, libs, version, ports, options, logger)
        return { kafka: new LocalKafka(state, { ...options, dir }), alreadyRunning: false }
      } catch (error) {
        // Chosen ports can be taken between our probe and the broker's bind: try new ones.
        const portRace = error instanceof SluiceError && error.details.portInUse === true
        if (!portRace || fixedPorts || attempt >= 3) throw error
        logger.warn('a chosen port was taken before the broker bound it; retrying with new ports', ports)
      }
    }
  } finally {
    release()
  }
}

/** Stops the broker of `dir`. Returns false when none was running. */
export async function stopLocalKafka(dir: string, timeoutMs = 60_000): Promise<boolean> {
  const absolute = resolve(dir)
  const state = readState(absolute)
  if (!state || !isOurBroker(state)) {
    clearState(absolute)
    return false
  }
  signalGroup(state.pid, 'SIGTERM')
  if (!(await waitForExit(state.pid, timeoutMs))) {
    signalGroup(state.pid, 'SIGKILL')
    await waitForExit(state.pid, 10_000)
  }
  clearState(absolute)
  return true
}

export interface LocalKafkaStatus {
  readonly running: boolean
  /** Running and answering metadata requests. */
  readonly ready: boolean
  readonly state?: LocalKafkaState
}

export async function localKafkaStatus(dir: string): Promise<LocalKafkaStatus> {
  const state = await runningBroker(resolve(dir))
  if (!state) return { running: false, ready: false }
  return { running: true, ready: await answersMetadata(state), state }
}

async function runningBroker(dir: string): Promise<LocalKafkaState | undefined> {
  const state = readState(dir)
  if (state && isOurBroker(state)) return state
  if (state) clearState(dir)
  return undefined
}

/** A pid can be recycled: make sure it is a Kafka JVM configured from this dir. */
function isOurBroker(state: LocalKafkaState): boolean {
  if (!isAlive(state.pid)) return false
  const commandLine = commandLineOf(state.pid)
  return commandLine === undefined || (commandLine.includes('kafka.Kafka') && commandLine.includes(state.dir))
}

async function choosePorts(dir: string, options: LocalKafkaOptions) {
  const previous = readPreviousPorts(dir)
  const pick = async (wanted: number | undefined, reuse: number | undefined, name: string) => {
    if (wanted !== undefined) {
      if (!Number.isInteger(wanted) || wanted <= 0 || wanted > 65_535) {
        throw new SluiceError(ErrorCodes.INVALID_OPTION, `option '${name}' must be a TCP port, got ${wanted}`)
      }
      if (!(await isPortFree(wanted))) {
        throw new SluiceError(
          ErrorCodes.LOCAL_KAFKA,
          `port ${wanted} on 127.0.0.1 is already in use; choose another ${name} or stop what listens there`,
          { details: { port: wanted } },
        )
      }
      return wanted
    }
    if (reuse !== undefined && (await isPortFree(reuse))) return reuse
    return freePort()
  }
  const port = await pick(options.port, previous?.port, 'port')
  let controllerPort = await pick(options.controllerPort, previous?.controllerPort, 'controllerPort')
  while (controllerPort === port) controllerPort = await freePort()
  return { port, controllerPort }
}

/** Ports of the last run, kept so a restarted broker keeps the address clients know. */
function readPreviousPorts(dir: string): { port: number; controllerPort: number } | undefined {
  try {
    const text = readFileSync(layoutOf(dir).serverProperties, 'utf8')
    const port = /(?:PLAINTEXT|SASL_SSL):\/\/127\.0\.0\.1:(\d+),CONTROLLER/.exec(text)?.[1]
    const controllerPort = /CONTROLLER:\/\/127\.0\.0\.1:(\d+)/.exec(text)?.[1]
    return port && controllerPort ? { port: Number(port), controllerPort: Number(controllerPort) } : undefined
  } catch {
    return undefined
  }
}

async function launch(
  dir: string,
  libs: string,
  kafkaVersion: string,
  ports: { port: number; controllerPort: number },
  options: LocalKafkaOptions,
  logger: Logger,
): Promise<LocalKafkaState> {
  const layout = layoutOf(dir)
  mkdirSync(layout.dataDir, { recursive: true })
  mkdirSync(layout.logsDir, { recursive: true })
  const formatted = existsSync(join(layout.dataDir, 'meta.properties'))
  const users = checkUsers(options.security)
  const certificates = users ? await ensureBrokerCertificates(dir) : undefined
  writeFileSync(
    layout.serverProperties,
    serverProperties({
      ...ports,
      dataDir: layout.dataDir,
      logsDir: layout.logsDir,
      overrides: options.brokerConfig ?? {},
      ...(users && certificates ? { security: { certificates, brokerUser: users[0]! } } : {}),
    }),
  )
  writeFileSync(layout.log4jProperties, log4jProperties(layout.logsDir))
  const classpath = `${libs}/*`
  if (!formatted) await formatStorage(classpath, layout.serverProperties, layout.dataDir, users ?? [])
  const heap = options.heapMb ?? defaults.heapMb
  const logStart = { server: sizeOf(layout.serverLog), stdout: sizeOf(layout.stdoutLog) }
  const out = openSync(layout.stdoutLog, 'a')
  const child = spawn(
    'java',
    [
      `-Xms${heap}m`,
      `-Xmx${heap}m`,
      '-XX:+UseG1GC',
      '-XX:MaxGCPauseMillis=20',
      '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${layout.log4jProperties}`,
      `-Dkafka.logs.dir=${layout.logsDir}`,
      '-cp',
      classpath,
      'kafka.Kafka',
      layout.serverProperties,
    ],
    { cwd: dir, detached: true, stdio: ['ignore', out, out] },
  )
  closeSync(out)
  child.unref()
  const pid = child.pid
  if (pid === undefined) {
    throw new SluiceError(ErrorCodes.LOCAL_KAFKA, `could not start java; see ${layout.stdoutLog}`)
  }
  const state: LocalKafkaState = {
    version: 1,
    pid,
    ...ports,
    bootstrap: `127.0.0.1:${ports.port}`,
    kafkaVersion,
    dir,
    startedAt: new Date().toISOString(),
    ...(users && certificates
      ? { security: { caFile: certificates.caPem, mechanism: scramMechanism, ...users[0]! } }
      : {}),
  }
  await writeState(state)
  logger.info('starting a local Kafka broker', { bootstrap: state.bootstrap, dir, pid })
  try {
    await waitUntilReady(state, options.startTimeoutMs ?? defaults.startTimeoutMs, logStart)
  } catch (error) {
    signalGroup(pid, 'SIGKILL')
    await waitForExit(pid, 10_000)
    clearState(dir)
    throw error
  }
  return state
}

async function formatStorage(
  classpath: string,
  properties: string,
  dataDir: string,
  users: readonly ScramUser[],
): Promise<void> {
  // SCRAM credentials go into the metadata log at format time, so the broker can check
  // logins (its own inter-broker one included) from its first start.
  const scram = users.flatMap((u) => [
    '--add-scram',
    `${scramMechanism}=[name=${u.username},password=${u.password}]`,
  ])
  const result = await runCommand('java', [
    '-cp',
    classpath,
    'kafka.tools.StorageTool',
    'format',
    '-t',
    randomClusterId(),
    '-c',
    properties,
    ...scram,
  ])
  if (result.status !== 0 || !existsSync(join(dataDir, 'meta.properties'))) {
    throw new SluiceError(
      ErrorCodes.LOCAL_KAFKA,
      `formatting the broker's storage in ${dataDir} with ${properties} failed:\n${result.output.trim().slice(-2000)}`,
    )
  }
}

/** A Kafka cluster id: 16 random bytes, URL-safe base64 without padding, not starting with '-'. */
function randomClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    if (!id.startsWith('-')) return id
  }
}

async function waitUntilReady(
  state: LocalKafkaState,
  timeoutMs: number,
  logStart = { server: 0, stdout: 0 },
): Promise<void> {
  const layout = layoutOf(state.dir)
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (!isAlive(state.pid)) {
      // Only what this run wrote explains this failure: the logs keep earlier runs too.
      const output = `${readSince(layout.stdoutLog, logStart.stdout)}\n${readSince(layout.serverLog, logStart.server)}`
      const portInUse = /Address already in use|BindException/.test(output)
      throw new SluiceError(
        ErrorCodes.LOCAL_KAFKA,
        `the Kafka broker exited during start-up${portInUse ? ' (a port was already in use)' : ''}; ` +
          `read ${layout.serverLog} and ${layout.stdoutLog}. First errors:\n${failureLines(output)}`,
        { details: { portInUse, serverLog: layout.serverLog } },
      )
    }
    if (await answersMetadata(state)) return
    if (Date.now() > deadline) {
      throw new SluiceError(
        ErrorCodes.LOCAL_KAFKA,
        `the Kafka broker at ${state.bootstrap} did not answer a metadata request within ${timeoutMs} ms; ` +
          `read ${layout.serverLog}`,
        { details: { serverLog: layout.serverLog } },
      )
    }
    await sleep(250)
  }
}

async function answersMetadata(state: LocalKafkaState): Promise<boolean> {
  const client = new KafkaClient({
    brokers: [state.bootstrap],
    ...(state.security ? clientSecurityOf(state.security) : {}),
    clientId: 'sluice-probe',
    connectTimeoutMs: 1000,
    requestTimeoutMs: 2000,
    retryTimeoutMs: 500,
    logger: silentLogger,
  })
  try {
    const cluster = await client.metadata([])
    return cluster.brokers.size > 0
  } catch {
    return false
  } finally {
    await client.close()
  }
}

function clientSecurityOf(security: NonNullable<LocalKafkaState['security']>): LocalKafkaClientSecurity {
  return {
    tls: { ca: readFileSync(security.caFile, 'utf8') },
    sasl: { mechanism: scramMechanism, username: security.username, password: security.password },
  }
}

/** SCRAM users must be plain tokens: they are written into a JAAS line and the format tool's syntax. */
function checkUsers(security: LocalKafkaOptions['security']): readonly ScramUser[] | undefined {
  if (security === undefined) return undefined
  const users = security.users as unknown
  if (!Array.isArray(users) || users.length === 0) {
    throw new SluiceError(
      ErrorCodes.INVALID_OPTION,
      "option 'security.users' must list at least one { username, password }",
    )
  }
  for (const [i, user] of users.entries()) {
    for (const field of ['username', 'password'] as const) {
      const value = (user as Partial<ScramUser> | null)?.[field]
      if (typeof value !== 'string' || !/^[A-Za-z0-9._-]+$/.test(value)) {
        throw new SluiceError(
          ErrorCodes.INVALID_OPTION,
          `option 'security.users[${i}].${field}' must be letters, digits, '.', '_' or '-'`,
        )
      }
    }
  }
  return users as readonly ScramUser[]
}

/** Serializes starts of the same dir across processes; a lock left by a dead process is taken over. */
async function takeStartLock(dir: string): Promise<() => void> {
  const { startLock } = layoutOf(dir)
  const deadline = Date.now() + 180_000
  for (;;) {
    try {
      writeFileSync(startLock, String(process.pid), { flag: 'wx' })
      return () => rmSync(startLock, { force: true })
    } catch {
      const holder = Number(readFileSafe(startLock))
      if (!Number.isInteger(holder) || !isAlive(holder)) {
        rmSync(startLock, { force: true })
        continue
      }
      if (Date.now() > deadline) {
        throw new SluiceError(
          ErrorCodes.LOCAL_KAFKA,
          `process ${holder} has been starting the broker in ${dir} for 3 minutes`,
        )
      }
      await sleep(250)
    }
  }
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return ''
  }
}
