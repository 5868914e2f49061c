// The package as a user gets it: `npm pack` (which builds dist/), then `npm install` of the
// tarball into an empty application — a copy in node_modules, not a link — and, on Node 22
// and Node 24: a word count over the test broker from plain JavaScript (ESM), `require` from
// CommonJS, the `sluice` command through npx, and imports that load neither node:sqlite nor
// pg. Once: `tsc --noEmit` of a strict TypeScript application made of the TypeScript blocks
// of README.md and docs/*.md. Node 22 comes from the npm registry (the `node` package, like
// the repository's Node 24), cached in ~/.cache/sluice.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { exportedNames } from '../../scripts/api-report.ts'
import { bootstrap, randomTopicName } from '../helpers/kafka.ts'
import { blockFileName, docBlocks, explainErrors } from './doc-blocks.ts'

const repo = join(import.meta.dirname, '..', '..')
const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
  version: string
  engines: { node: string }
}
const minimum = /(\d+)\.(\d+)/.exec(manifest.engines.node)!.slice(1).map(Number) as [number, number]

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** The environment of a user's shell: no npm lifecycle variables, no source condition. */
function userEnv(node: string): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_')),
  )
  return {
    ...env,
    NODE_OPTIONS: '',
    SLUICE_LOG_LEVEL: 'warn',
    PATH: [dirname(node), process.env.PATH].join(delimiter),
  }
}

function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd, env, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null
        resolve({ code, stdout, stderr })
      },
    )
  })
}

async function succeed(
  command: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<Run> {
  const result = await run(command, args, cwd, env)
  assert.equal(result.code, 0, `${command} ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`)
  return result
}

/** Node 22 from the npm registry, installed once into ~/.cache/sluice/node-22. */
async function node22(): Promise<string> {
  const dir = join(homedir(), '.cache', 'sluice', `node-${minimum[0]}`)
  const binary = join(dir, 'node_modules', '.bin', 'node')
  if (existsSync(binary)) return binary
  // Install beside the cache and move it in whole, so that a run never sees half an install.
  const staging = `${dir}.${process.pid}`
  mkdirSync(staging, { recursive: true })
  const result = await run(
    'npm',
    [
      'install',
      '--prefix',
      staging,
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      `node@^${minimum.join('.')}.0`,
    ],
    staging,
    userEnv(process.execPath),
  )
  assert.equal(
    result.code,
    0,
    `installing node@^${minimum.join('.')} from the npm registry failed:\n${result.stderr}`,
  )
  try {
    renameSync(staging, dir)
  } catch {
    rmSync(staging, { recursive: true, force: true }) // another run got there first
  }
  return binary
}

const work = mkdtempSync(join(tmpdir(), 'sluice-package-'))
const app = join(work, 'app')
let nodes: { readonly name: string; readonly binary: string }[] = []

before(async () => {
  // Pack from a copy of what the package is built from, so the build never touches the
  // working tree (dist/ of a concurrent run, or of the developer).
  const stage = join(work, 'stage')
  for (const path of [
    'package.json',
    'README.md',
    'LICENSE',
    'tsconfig.json',
    'tsconfig.build.json',
    'bin',
    'docs',
    'src',
  ]) {
    cpSync(join(repo, path), join(stage, path), { recursive: true })
  }
  cpSync(join(repo, 'scripts', 'build.ts'), join(stage, 'scripts', 'build.ts'))
  symlinkSync(join(repo, 'node_modules'), join(stage, 'node_modules'))
  const env = userEnv(process.execPath)
  const packed = await succeed('npm', ['pack', '--json', '--pack-destination', work], stage, env)
  const [{ filename }] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as [{ filename: string }]

  mkdirSync(app)
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
  )
  await succeed(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', join(work, filename)],
    app,
    env,
  )
  for (const [name, content] of Object.entries(consumerFiles)) writeFileSync(join(app, name), content)
  nodes = [
    { name: `Node ${minimum[0]}`, binary: await node22() },
    { name: `Node ${process.versions.node.split('.')[0]}`, binary: process.execPath },
  ]
})

after(() => rmSync(work, { recursive: true, force: true }))

const consumerFiles: Record<string, string> = {
  // The README's word count, in plain JavaScript, against the test broker.
  'wordcount.mjs': `import { readFileSync } from 'node:fs'
import { createDirectStream, StreamingContext } from 'sluice'
import { KafkaClient } from 'sluice/admin'

const brokers = process.env.KAFKA_BOOTSTRAP.split(',')
const topic = process.argv[2]
const lines = JSON.parse(readFileSync('lines.json', 'utf8'))
const client = new KafkaClient({ brokers })
await client.createTopics([{ name: topic, partitions: 2 }])
await client.produce(lines.map((value, i) => ({ topic, partition: i % 2, value })))
const total = lines.reduce((sum, line) => sum + line.split(' ').length, 0)

const ssc = new StreamingContext({ appName: 'installed-wordcount', batchInterval: 200 })
const counts = new Map()
let counted = 0
const done = Promise.withResolvers()
createDirectStream(ssc, {
  brokers,
  subscribe: [topic],
  startingOffsets: 'earliest',
  deserializers: { key: 'string', value: 'string' },
  maxRatePerPartition: 2_000,
})
  .flatMap((r) => r.value.split(' '))
  .map((w) => [w, 1])
  .reduceByKey((a, b) => a + b)
  .foreachBatch(async (rdd) => {
    for (const [word, n] of await rdd.collect()) {
      counts.set(word, (counts.get(word) ?? 0) + n)
      counted += n
    }
    if (counted >= total) done.resolve()
  })
await ssc.start()
await done.promise
await ssc.stop({ graceful: true })
await client.deleteTopics([topic])
await client.close()
console.log(JSON.stringify(Object.fromEntries([...counts].sort(([a], [b]) => (a < b ? -1 : 1)))))
`,
  'require.cjs': `const sluice = require('sluice')
const { KafkaClient } = require('sluice/admin')
const range = sluice.OffsetRange.create('words', 0, 100n, 200n)
let refused = ''
try {
  new sluice.StreamingContext({ appName: 'cjs', batchInterval: 1000, checkpointDir: './ckpt' })
} catch (error) {
  refused = error.message
}
console.log(JSON.stringify({ exports: Object.keys(sluice).sort(), count: range.count, refused, admin: typeof KafkaClient }))
`,
  'import-only.mjs': `await import('sluice')
await import('sluice/admin')
`,
  // Records every module the application resolves: importing sluice must not resolve
  // node:sqlite (Node 22 warns it is experimental when it loads) or pg; a SQLite sink does.
  'lazy.mjs': `import { registerHooks } from 'node:module'
const resolved = new Set()
registerHooks({
  resolve(specifier, context, next) {
    resolved.add(specifier)
    return next(specifier, context)
  },
})
const drivers = () => ['node:sqlite', 'pg'].filter((name) => resolved.has(name))
const { createSqlSink, createDirectStream, StreamingContext } = await import('sluice')
await import('sluice/admin')
createDirectStream(new StreamingContext({ appName: 'lazy', batchInterval: 1000 }), { brokers: ['127.0.0.1:9'], subscribe: ['t'] })
const afterImport = drivers()
const sink = createSqlSink({ app: 'lazy', sqlite: { path: process.argv[2] } })
const afterCreate = drivers()
await sink.start()
await sink.close()
console.log(JSON.stringify({ afterImport, afterCreate, afterStart: drivers() }))
`,
}

/** 300 lines of 1 to 6 words from a small vocabulary, the same on every run. */
function textLines(): string[] {
  const words = 'alpha beta gamma delta epsilon zeta eta theta'.split(' ')
  let seed = 11
  const next = () => {
    seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff
    return seed
  }
  return Array.from({ length: 300 }, () =>
    Array.from({ length: 1 + (next() % 6) }, () => words[next() % words.length]).join(' '),
  )
}

test('the package installs as a copy, with a built entry point, declarations and the CLI', () => {
  const installed = join(app, 'node_modules', 'sluice')
  assert.equal(lstatSync(installed).isSymbolicLink(), false)
  for (const file of [
    'dist/index.js',
    'dist/index.d.ts',
    'dist/index.js.map',
    'dist/admin/index.js',
    'dist/cli/main.js',
    'bin/sluice.js',
    'LICENSE',
    'README.md',
    'docs/streaming.md',
  ]) {
    assert.ok(existsSync(join(installed, file)), `${file} is in the package`)
  }
  for (const file of [
    'src',
    'test',
    'examples',
    'scripts',
    'bench',
    'dist/local-postgres',
    'tsconfig.json',
  ]) {
    assert.equal(existsSync(join(installed, file)), false, `${file} is not in the package`)
  }
  // Types come with the package: @types/node is a dependency, and nothing needs @types/pg.
  assert.ok(existsSync(join(app, 'node_modules', '@types', 'node')))
  assert.equal(existsSync(join(app, 'node_modules', '@types', 'pg')), false)
})

describe('on each supported Node.js', () => {
  const lines = textLines()
  const expected: Record<string, number> = {}
  for (const word of lines.flatMap((line) => line.split(' '))) expected[word] = (expected[word] ?? 0) + 1

  test('an ESM word count over the test broker gets the exact counts', async () => {
    writeFileSync(join(app, 'lines.json'), JSON.stringify(lines))
    for (const node of nodes) {
      const env = { ...userEnv(node.binary), KAFKA_BOOTSTRAP: bootstrap().join(',') }
      const result = await run(node.binary, ['wordcount.mjs', randomTopicName('installed')], app, env)
      assert.equal(result.code, 0, `${node.name}: ${result.stderr}`)
      assert.deepEqual(JSON.parse(result.stdout), expected, node.name)
      assert.equal(result.stderr, '', `${node.name} printed nothing else (no warning)`)
    }
  })

  test('require() from CommonJS gets the same exports', async () => {
    const values = exportedNames()
      .filter((n) => n.entry === 'sluice' && /^(class|abstract class|function|const)$/.test(n.kind))
      .map((n) => n.name)
      .sort()
    for (const node of nodes) {
      const result = await succeed(node.binary, ['require.cjs'], app, userEnv(node.binary))
      assert.deepEqual(
        JSON.parse(result.stdout),
        {
          exports: values,
          count: 100,
          refused: "new StreamingContext: unknown option 'checkpointDir' — did you mean 'checkpoint'?",
          admin: 'function',
        },
        node.name,
      )
      assert.equal(result.stderr, '', `${node.name}: require() of sluice prints nothing (no warning)`)
    }
  })

  test('importing sluice loads neither node:sqlite nor pg, and prints nothing', async () => {
    for (const node of nodes) {
      const quiet = await succeed(node.binary, ['import-only.mjs'], app, userEnv(node.binary))
      assert.deepEqual([quiet.stdout, quiet.stderr], ['', ''], node.name)
      const db = join(work, `lazy-${node.name.replace(' ', '-')}.db`)
      const lazy = await succeed(node.binary, ['lazy.mjs', db], app, userEnv(node.binary))
      assert.deepEqual(
        JSON.parse(lazy.stdout),
        { afterImport: [], afterCreate: [], afterStart: ['node:sqlite'] },
        node.name,
      )
    }
  })

  test('npx sluice --help and npx sluice kafka status', async () => {
    const brokerDir = process.env.SLUICE_TEST_KAFKA_DIR
    for (const node of nodes) {
      const env = userEnv(node.binary)
      const help = await succeed('npx', ['--no-install', 'sluice', '--help'], app, env)
      assert.match(
        help.stdout,
        new RegExp(`^sluice ${manifest.version.replaceAll('.', '\\.')} — `),
        node.name,
      )
      assert.equal(help.stderr, '')

      const status = await run(
        'npx',
        ['--no-install', 'sluice', 'kafka', 'status', '--dir', brokerDir ?? join(work, 'no-broker')],
        app,
        env,
      )
      if (brokerDir !== undefined) {
        // The broker `npm test` started for this run.
        assert.equal(status.code, 0, `${node.name}: ${status.stderr}`)
        assert.match(status.stdout, /^running pid=\d+ /, node.name)
        assert.ok(status.stdout.includes(`bootstrap=${bootstrap()[0]}\n`), status.stdout)
      } else {
        // KAFKA_BOOTSTRAP points at a cluster this run did not start: no local broker to show.
        assert.equal(status.code, 3, `${node.name}: ${status.stderr}`)
        assert.match(status.stdout, /^stopped /)
      }

      const usage = await run('npx', ['--no-install', 'sluice', 'kafka', 'start', '--port', 'abc'], app, env)
      assert.equal(usage.code, 2, node.name)
      assert.match(
        usage.stderr,
        /^sluice kafka start: option '--port' must be an integer from 1 to 65535, got "abc"\n/,
      )
    }
  })
})

test('a strict TypeScript application type-checks the code blocks of README.md and docs/ against the package', async () => {
  const blocks = docBlocks(repo)
  assert.ok(
    blocks.some((b) => b.file === 'README.md'),
    'README.md has TypeScript blocks',
  )
  const dir = join(app, 'blocks')
  mkdirSync(dir)
  for (const block of blocks) writeFileSync(join(dir, blockFileName(block)), `${block.code}\nexport {}\n`)
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'es2024',
        exactOptionalPropertyTypes: true,
        skipLibCheck: false,
        noEmit: true,
      },
      include: ['blocks/*.ts'],
    }),
  )
  const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc')
  const result = await run(
    process.execPath,
    [tsc, '-p', 'tsconfig.json', '--pretty', 'false'],
    app,
    userEnv(process.execPath),
  )
  const problems = explainErrors(result.stdout, blocks)
  assert.deepEqual(
    problems,
    [],
    `fix these TypeScript blocks (declare placeholders in the block, e.g. \`declare const sink: SqlSink\`):\n${problems.join('\n')}`,
  )
  assert.equal(result.code, 0, result.stdout + result.stderr)
})
