// `npm test`: runs test files with node:test, starting only the servers they need.
//   npm test                        every test file
//   npm test -- test/kafka          the test files of a folder (or name files)
//   npm test -- --unit              only the unit tests: no broker, no PostgreSQL (seconds)
//   npm test -- --test-name-pattern=crash    other flags go to node --test (use `=`)
// A test file needs the run's Kafka broker when it imports test/helpers/kafka.ts, its
// PostgreSQL when it imports test/helpers/postgres.ts, and servers of its own when it imports
// test/helpers/own-servers.ts, directly or through other modules (scripts/test-files.ts).
// The broker is private to the run unless KAFKA_BOOTSTRAP points at a cluster; PostgreSQL
// likewise unless PG_URL is set. Every test has a time limit (--test-timeout, 2 minutes
// unless the test sets its own), so a deadlock fails with a message instead of hanging.
// The Python API's tests (python/tests, pytest) run after the node tests, on the same servers
// (scripts/python-tests.ts); `npm test -- python/tests` runs only those, and a pytest file
// declares the servers it needs with markers. --test-name-pattern reaches pytest as -k.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { startLocalKafka, stopLocalKafka } from '../src/local-kafka/broker.ts'
import type { LocalPostgres } from '../src/local-postgres/server.ts'
import { startLocalPostgres } from '../src/local-postgres/server.ts'
import { runPythonTests } from './python-tests.ts'
import { nodeOptionsWithSources } from './source-condition.ts'
import { isPythonTest, type Server, serversNeeded, testFiles } from './test-files.ts'
import { slowestFiles } from './test-timings.ts'

const defaultTestTimeoutMs = 120_000

const args = process.argv.slice(2)
const unitOnly = args.includes('--unit')
const flags = args.filter((a) => a.startsWith('--') && a !== '--unit')
const selected = testFiles(args.filter((a) => !a.startsWith('--')))

const needs = new Map(selected.map((file) => [file, serversNeeded(file)]))
const files = unitOnly ? selected.filter((file) => needs.get(file)!.size === 0) : selected
if (files.length === 0) {
  console.error('no test file to run: every selected file needs a server, and --unit leaves those out')
  process.exit(1)
}
const needed = new Set<Server>(files.flatMap((file) => [...needs.get(file)!]))
const serverFiles = files.filter((file) => needs.get(file)!.size > 0).length
console.log(
  `${files.length} test files: ${files.length - serverFiles} unit, ${serverFiles} with servers` +
    (needed.size > 0 ? ` (${[...needed].join(', ')})` : ''),
)

let postgres: LocalPostgres | undefined
let brokerDir: string | undefined
const cleanup = async () => {
  const server = postgres
  postgres = undefined
  await server?.stop()
  if (brokerDir === undefined) return
  const dir = brokerDir
  brokerDir = undefined
  await stopLocalKafka(dir)
  rmSync(dir, { recursive: true, force: true })
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void cleanup().finally(() => process.exit(130)))
}

// The spec reporter (unless the caller chose reporters), and the timings recorder.
const timings = join(mkdtempSync(join(tmpdir(), 'sluice-test-timings-')), 'timings.jsonl')
const reporters = [
  ...(flags.some((f) => f.startsWith('--test-reporter'))
    ? []
    : ['--test-reporter=spec', '--test-reporter-destination=stdout']),
  `--test-reporter=${join(import.meta.dirname, 'test-timings.ts')}`,
  '--test-reporter-destination=stderr',
]
const timeout = flags.some((f) => f.startsWith('--test-timeout'))
  ? []
  : [`--test-timeout=${defaultTestTimeoutMs}`]

try {
  if (needed.has('postgres')) {
    if (!process.env.PG_URL) {
      postgres = await startLocalPostgres()
      process.env.PG_URL = postgres.url
      console.log(`test PostgreSQL: ${postgres.url} (${postgres.dir})`)
    } else {
      console.log('using the PostgreSQL server at PG_URL')
    }
  }
  if (needed.has('kafka')) {
    if (!process.env.KAFKA_BOOTSTRAP) {
      brokerDir = mkdtempSync(join(tmpdir(), 'sluice-test-kafka-'))
      const { kafka } = await startLocalKafka({ dir: brokerDir })
      process.env.KAFKA_BOOTSTRAP = kafka.bootstrap
      console.log(`test broker: ${kafka.bootstrap} (${brokerDir})`)
    } else {
      console.log(`using the cluster at KAFKA_BOOTSTRAP=${process.env.KAFKA_BOOTSTRAP}`)
    }
  }
  const nodeFiles = files.filter((file) => !isPythonTest(file))
  const pythonFiles = files.filter(isPythonTest)
  const nodeCode = await new Promise<number>((resolve) => {
    if (nodeFiles.length === 0) {
      resolve(0)
      return
    }
    const child = spawn(
      process.execPath,
      // --test-force-exit: a file whose tests are done exits even if a failed test left a
      // stream or a socket open; that failure is reported, the run does not hang on it.
      [
        '--test',
        '--test-concurrency=2',
        '--test-force-exit',
        ...timeout,
        ...reporters,
        ...flags,
        ...nodeFiles,
      ],
      {
        stdio: 'inherit',
        env: {
          ...process.env,
          SLUICE_LOG_LEVEL: process.env.SLUICE_LOG_LEVEL ?? 'warn',
          SLUICE_TEST_TIMINGS: timings,
          NODE_OPTIONS: nodeOptionsWithSources(),
        },
      },
    )
    child.once('close', (status) => resolve(status ?? 1))
  })
  if (nodeFiles.length > 0) console.log(`\n${slowestFiles(timings).join('\n')}`)
  const pythonCode = pythonFiles.length === 0 ? 0 : await runPythonTests(pythonFiles, flags)
  process.exitCode = nodeCode !== 0 ? nodeCode : pythonCode
} finally {
  rmSync(dirname(timings), { recursive: true, force: true })
  await cleanup()
}
