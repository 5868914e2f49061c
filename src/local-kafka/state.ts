import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { replaceFileDurably } from '../core/durable-file.ts'

/** What `<dir>/broker.json` records about a broker started there. */
export interface LocalKafkaState {
  readonly version: 1
  readonly pid: number
  readonly port: number
  readonly controllerPort: number
  readonly bootstrap: string
  readonly kafkaVersion: string
  readonly dir: string
  readonly startedAt: string
  /** Set for a SASL_SSL broker: the CA to trust and the login the readiness probe and tools use. */
  readonly security?: {
    readonly caFile: string
    readonly mechanism: string
    readonly username: string
    readonly password: string
  }
}

export function layoutOf(dir: string) {
  return {
    stateFile: join(dir, 'broker.json'),
    dataDir: join(dir, 'data'),
    logsDir: join(dir, 'logs'),
    serverLog: join(dir, 'logs', 'server.log'),
    stdoutLog: join(dir, 'logs', 'stdout.log'),
    serverProperties: join(dir, 'server.properties'),
    log4jProperties: join(dir, 'log4j2.properties'),
    startLock: join(dir, 'starting.lock'),
  }
}

export function readState(dir: string): LocalKafkaState | undefined {
  const { stateFile } = layoutOf(dir)
  if (!existsSync(stateFile)) return undefined
  try {
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as LocalKafkaState
    return state.version === 1 && Number.isInteger(state.pid) ? state : undefined
  } catch {
    return undefined
  }
}

export async function writeState(state: LocalKafkaState): Promise<void> {
  await replaceFileDurably(layoutOf(state.dir).stateFile, `${JSON.stringify(state, null, 2)}\n`)
}

export function clearState(dir: string): void {
  rmSync(layoutOf(dir).stateFile, { force: true })
}
