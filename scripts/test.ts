// `npm test`: starts one Kafka broker for the whole run (unless KAFKA_BOOTSTRAP points at a
// cluster), runs every test file with node:test against it, then stops it. Arguments are
// passed to node --test, e.g. `npm test -- test/kafka`.
// It also starts a private PostgreSQL server for the SQL sink tests (unless PG_URL is set),
// and after the node tests runs the Python API's tests with pytest (scripts/python-tests.ts).
// Arguments under python/ (or ending in .py) go to pytest, the others to node --test; with
// none, both run.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startLocalKafka, stopLocalKafka } from '../src/local-kafka/broker.ts'
import type { LocalPostgres } from '../src/local-postgres/server.ts'
import { startLocalPostgres } from '../src/local-postgres/server.ts'
import { runPythonTests } from './python-tests.ts'

const args = process.argv.slice(2)
const isPython = (arg: string) => arg.startsWith('python/') || arg === 'python' || arg.endsWith('.py')
const files = args.filter((a) => !a.startsWith('--') && !isPython(a))
const pythonTargets = args.filter(isPython)
const flags = args.filter((a) => a.startsWith('--'))
const runNode = files.length > 0 || pythonTargets.length === 0
const runPython = pythonTargets.length > 0 || files.length === 0
const patterns =
  files.length > 0
    ? files.map((f) => (f.endsWith('.ts') ? f : `${f.replace(/\/$/, '')}/**/*.test.ts`))
    : ['test/**/*.test.ts']

// --- private PostgreSQL for the run (SQL sink tests) ---
let postgres: LocalPostgres | undefined
const stopPostgres = async () => {
  const server = postgres
  postgres = undefined
  await server?.stop()
}
// --- end PostgreSQL ---

let brokerDir: string | undefined
const cleanup = async () => {
  await stopPostgres()
  if (brokerDir === undefined) return
  const dir = brokerDir
  brokerDir = undefined
  await stopLocalKafka(dir)
  rmSync(dir, { recursive: true, force: true })
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void cleanup().finally(() => process.exit(130)))
}

try {
  if (!process.env.PG_URL) {
    postgres = await startLocalPostgres()
    process.env.PG_URL = postgres.url
    console.log(`test PostgreSQL: ${postgres.url} (${postgres.dir})`)
  } else {
    console.log('using the PostgreSQL server at PG_URL')
  }
  if (!process.env.KAFKA_BOOTSTRAP) {
    brokerDir = mkdtempSync(join(tmpdir(), 'sluice-test-kafka-'))
    const { kafka } = await startLocalKafka({ dir: brokerDir })
    process.env.KAFKA_BOOTSTRAP = kafka.bootstrap
    process.env.SLUICE_TEST_KAFKA_DIR = brokerDir
    console.log(`test broker: ${kafka.bootstrap} (${brokerDir})`)
  } else {
    console.log(`using the cluster at KAFKA_BOOTSTRAP=${process.env.KAFKA_BOOTSTRAP}`)
  }
  process.env.SLUICE_LOG_LEVEL ??= 'warn'
  const nodeCode = !runNode
    ? 0
    : await new Promise<number>((resolve) => {
        const child = spawn(process.execPath, ['--test', '--test-concurrency=2', ...flags, ...patterns], {
          stdio: 'inherit',
        })
        child.once('close', (status) => resolve(status ?? 1))
      })
  const pythonCode = runPython ? await runPythonTests(pythonTargets) : 0
  process.exitCode = nodeCode !== 0 ? nodeCode : pythonCode
} finally {
  await cleanup()
}
