import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { defineCommand, defineGroup, runCommandLine } from '../../src/cli/command.ts'
import { booleanFlag, choiceFlag, integerFlag, stringFlag, UsageError } from '../../src/cli/flags.ts'
import { sluice } from '../helpers/sluice-cli.ts'
import { tempDir } from '../helpers/temp-dir.ts'

const repo = join(import.meta.dirname, '..', '..')
const { version } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string }

/** Runs the real `sluice` command tree in-process, capturing what it prints. */
test('--help, --version and <command> --help print to stdout and exit 0', async () => {
  const root = await sluice('--help')
  assert.equal(root.code, 0)
  assert.equal(root.stderr, '')
  assert.match(root.stdout, /^sluice \d+\.\d+\.\d+ — Spark Streaming's Kafka Direct API for Node\.js\n/)
  assert.match(root.stdout, /\ncommands:\n {2}kafka +a local development broker: start, stop, status\n/)
  for (const argv of [['-h'], ['help']]) assert.deepEqual(await sluice(...argv), root)

  assert.deepEqual(await sluice('--version'), { code: 0, stdout: `${version}\n`, stderr: '' })
  assert.deepEqual(await sluice('-v'), { code: 0, stdout: `${version}\n`, stderr: '' })

  const group = await sluice('kafka', '--help')
  assert.equal(group.code, 0)
  assert.match(group.stdout, /^usage: sluice kafka <command> \[options\]\n/)
  assert.match(group.stdout, /\n {2}start {4}start a local broker in the background\n/)

  const start = await sluice('kafka', 'start', '--help')
  assert.equal(start.code, 0)
  assert.match(
    start.stdout,
    /^usage: sluice kafka start \[--port N\] \[--controller-port N\] \[--dir DIR\]\n/,
  )
  assert.match(
    start.stdout,
    /--dir DIR {13}the broker's home: data, logs and config \(default: \.sluice\/kafka\)/,
  )
  // Help wins over everything else on the line, and `help <command>` is the same as `<command> --help`.
  assert.deepEqual(await sluice('kafka', 'start', '--port', '99999', '--help'), start)
  assert.deepEqual(await sluice('help', 'kafka', 'start'), start)
})

test('command-line mistakes exit 2 with one line naming them and the usage, on stderr', async () => {
  const statusUsage = 'usage: sluice kafka status [--dir DIR]'
  const cases: [string[], string, string][] = [
    [[], 'sluice: missing command', 'usage: sluice <command> [options]'],
    [
      ['kafak'],
      "sluice: unknown command 'kafak' (did you mean 'kafka'?)",
      'usage: sluice <command> [options]',
    ],
    [['--bogus'], "sluice: unknown option '--bogus'", 'usage: sluice <command> [options]'],
    [['kafka'], 'sluice kafka: missing command', 'usage: sluice kafka <command> [options]'],
    [
      ['kafka', 'restart'],
      "sluice kafka: unknown command 'restart' (did you mean 'start'?)",
      'usage: sluice kafka <command> [options]',
    ],
    [
      ['kafka', 'status', '--dri', 'x'],
      "sluice kafka status: unknown option '--dri' (did you mean '--dir'?)",
      statusUsage,
    ],
    [['kafka', 'status', '-x'], "sluice kafka status: unknown option '-x'", statusUsage],
    [['kafka', 'status', '--dir'], "sluice kafka status: option '--dir' needs a value (DIR)", statusUsage],
    [['kafka', 'status', '--dir='], "sluice kafka status: option '--dir' must not be empty", statusUsage],
    [
      ['kafka', 'status', '--dir', 'a', '--dir', 'b'],
      "sluice kafka status: option '--dir' is given twice",
      statusUsage,
    ],
    [['kafka', 'status', 'extra'], "sluice kafka status: unexpected argument 'extra'", statusUsage],
    [
      ['kafka', 'status', '--help=yes'],
      `sluice kafka status: option '--help' takes no value, got "yes"`,
      statusUsage,
    ],
  ]
  const startUsage = 'usage: sluice kafka start [--port N] [--controller-port N] [--dir DIR]'
  cases.push(
    [['kafka', 'start', '--port'], "sluice kafka start: option '--port' needs a value (N)", startUsage],
    [
      ['kafka', 'start', '--port', 'abc'],
      `sluice kafka start: option '--port' must be an integer from 1 to 65535, got "abc"`,
      startUsage,
    ],
    [
      ['kafka', 'start', '--port', '0'],
      `sluice kafka start: option '--port' must be an integer from 1 to 65535, got "0"`,
      startUsage,
    ],
    [
      ['kafka', 'start', '--port', '--dir', 'x'],
      "sluice kafka start: option '--port' needs a value (N)",
      startUsage,
    ],
  )
  for (const [argv, problem, usage] of cases) {
    const result = await sluice(...argv)
    const command = problem.slice(0, problem.indexOf(':'))
    assert.deepEqual(
      result,
      { code: 2, stdout: '', stderr: `${problem}\n${usage}\nRun '${command} --help' for more.\n` },
      `sluice ${argv.join(' ')}`,
    )
  }
})

test('a new command gets typed flags, defaults, positionals, help and validation from its declaration', async () => {
  const seen: unknown[] = []
  const show = defineCommand({
    name: 'show',
    summary: 'show a checkpoint',
    positionals: [
      { name: 'dir', description: 'the checkpoint directory' },
      { name: 'batch', description: 'one batch only', optional: true },
    ],
    flags: {
      json: booleanFlag('print JSON'),
      limit: integerFlag({ value: 'N', description: 'at most N batches', min: 1, max: 1000, default: 20 }),
      brokers: stringFlag({ value: 'LIST', description: 'compare with a cluster' }),
      format: choiceFlag({ value: 'F', description: 'output format', choices: ['table', 'csv'] }),
    },
    async run({ flags, positionals }) {
      if (flags.brokers === 'fail') throw new UsageError("option '--brokers' names no reachable broker")
      // Typed: limit has a default (number), brokers may be missing (string | undefined).
      const limit: number = flags.limit
      const brokers: string | undefined = flags.brokers
      seen.push({ positionals, json: flags.json, limit, brokers, format: flags.format })
      return 0
    },
  })
  const tool = defineGroup({
    name: 'tool',
    summary: 'test tool',
    commands: [defineGroup({ name: 'checkpoint', summary: 'checkpoints', commands: [show] })],
  })
  const run = async (...argv: string[]) => {
    let out = ''
    let err = ''
    const code = await runCommandLine(
      tool,
      argv,
      {
        stdout: (text) => {
          out += text
        },
        stderr: (text) => {
          err += text
        },
      },
      { name: 'tool', version: '1.2.3', intro: 'tool 1.2.3' },
    )
    return { code, out, err }
  }

  assert.equal((await run('checkpoint', 'show', './ckpt', '--json', '--format=csv')).code, 0)
  assert.equal((await run('checkpoint', 'show', './ckpt', '7', '--limit', '5', '--brokers', 'h:1')).code, 0)
  assert.deepEqual(seen, [
    { positionals: ['./ckpt'], json: true, limit: 20, brokers: undefined, format: 'csv' },
    { positionals: ['./ckpt', '7'], json: false, limit: 5, brokers: 'h:1', format: undefined },
  ])

  const help = await run('checkpoint', 'show', '--help')
  assert.equal(help.code, 0)
  assert.equal(
    help.out,
    [
      'usage: tool checkpoint show <dir> [batch] [--json] [--limit N] [--brokers LIST] [--format F]',
      '',
      'show a checkpoint',
      '',
      'arguments:',
      '  <dir>     the checkpoint directory',
      '  [batch]   one batch only',
      '',
      'options:',
      '  --json           print JSON',
      '  --limit N        at most N batches (default: 20)',
      '  --brokers LIST   compare with a cluster',
      '  --format F       output format',
      '  -h, --help       show this help',
      '',
    ].join('\n'),
  )
  const usage = 'usage: tool checkpoint show <dir> [batch] [--json] [--limit N] [--brokers LIST] [--format F]'
  const refused = async (argv: string[], problem: string) =>
    assert.deepEqual(await run(...argv), {
      code: 2,
      out: '',
      err: `tool checkpoint show: ${problem}\n${usage}\nRun 'tool checkpoint show --help' for more.\n`,
    })
  await refused(['checkpoint', 'show'], 'missing argument <dir>')
  await refused(['checkpoint', 'show', 'a', 'b', 'c'], "unexpected argument 'c'")
  await refused(
    ['checkpoint', 'show', 'a', '--limit', '0'],
    `option '--limit' must be an integer from 1 to 1000, got "0"`,
  )
  await refused(
    ['checkpoint', 'show', 'a', '--format', 'xml'],
    `option '--format' must be one of table, csv, got "xml"`,
  )
  await refused(['checkpoint', 'show', 'a', '--json=no'], `option '--json' takes no value, got "no"`)
  await refused(
    ['checkpoint', 'show', 'a', '--brokers', 'fail'],
    "option '--brokers' names no reachable broker",
  )
  assert.equal(seen.length, 2, 'no refused command line ran the command')
})

test('a required flag shows without brackets, is marked in the help, and a command line without it is refused', async () => {
  const seen: string[] = []
  const tool = defineGroup({
    name: 'tool',
    summary: 'test tool',
    commands: [
      defineCommand({
        name: 'reset',
        summary: 'reset an app',
        flags: {
          app: stringFlag({ value: 'APP', description: 'the app', required: true }),
          'dry-run': booleanFlag('change nothing'),
        },
        async run({ flags }) {
          const app: string = flags.app // typed as always present
          seen.push(app)
          return 0
        },
      }),
    ],
  })
  const run = async (...argv: string[]) => {
    let out = ''
    let err = ''
    const io = {
      stdout: (text: string) => {
        out += text
      },
      stderr: (text: string) => {
        err += text
      },
    }
    const code = await runCommandLine(tool, argv, io, { name: 'tool', version: '1', intro: 'tool 1' })
    return { code, out, err }
  }
  assert.deepEqual(await run('reset', '--dry-run'), {
    code: 2,
    out: '',
    err: "tool reset: option '--app' is required\nusage: tool reset --app APP [--dry-run]\nRun 'tool reset --help' for more.\n",
  })
  assert.match((await run('reset', '--help')).out, /^ {2}--app APP +the app \(required\)$/m)
  assert.equal((await run('reset', '--app', 'wc')).code, 0)
  assert.deepEqual(seen, ['wc'])
})

const run = promisify(execFile)

async function spawnSluice(bin: string, nodeBinary: string, ...argv: string[]) {
  try {
    const { stdout, stderr } = await run(nodeBinary, [bin, ...argv], {
      env: { ...process.env, NODE_OPTIONS: '' },
    })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string }
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr }
  }
}

test('a failing command prints its message and code, never a stack trace', async (t) => {
  // A broker directory that is a file: the command itself fails, after the line parsed fine.
  const dir = tempDir(t, 'cli')
  const file = join(dir, 'not-a-dir')
  writeFileSync(file, '')
  const result = await spawnSluice(
    join(repo, 'bin', 'sluice.js'),
    process.execPath,
    'kafka',
    'start',
    '--dir',
    join(file, 'kafka'),
  )
  assert.equal(result.code, 1)
  assert.equal(result.stdout, '')
  assert.match(result.stderr, /^sluice: .*not-a-dir/)
  assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr)
  assert.doesNotMatch(result.stderr, /\n\s+at /)
})

test('on a Node.js older than package.json engines, the command says which Node.js it needs', async (t) => {
  // An installed copy (no src/) whose engines ask for more than this Node.js has.
  const dir = tempDir(t, 'cli')
  mkdirSync(join(dir, 'bin'))
  cpSync(join(repo, 'bin', 'sluice.js'), join(dir, 'bin', 'sluice.js'))
  const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'))
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ ...manifest, engines: { node: '>=99.3' } }))
  const result = await spawnSluice(join(dir, 'bin', 'sluice.js'), process.execPath, '--help')
  assert.deepEqual(result, {
    code: 1,
    stdout: '',
    stderr:
      `sluice needs Node.js 99.3 or newer; this is Node.js ${process.versions.node}.\n` +
      'Install a current Node.js (https://nodejs.org) and run the command again.\n',
  })
  assert.doesNotMatch(result.stderr, /npm install/)
})
