import assert from 'node:assert/strict'
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { readFile, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { CheckpointStore, type CheckpointStoreOptions } from '../../src/checkpoint/checkpoint-store.ts'
import { ErrorCodes } from '../../src/core/errors.ts'
import { silentLogger } from '../../src/core/logger.ts'
import { recordingLogger } from '../helpers/recording-logger.ts'
import { tempDir } from '../helpers/temp-dir.ts'
import { FIXED_TIME, fixedClock } from './fixed-clock.ts'

const options: CheckpointStoreOptions = { appName: 'wordcount', logger: silentLogger, clock: fixedClock }
const holder = join(import.meta.dirname, 'fixtures', 'hold-checkpoint.ts')

function lockedMessage(dir: string, pid: number, host: string, startedAt: number): string {
  return (
    `checkpoint directory '${dir}' is locked by process ${pid} on host '${host}' ` +
    `(started ${new Date(startedAt).toISOString()}); stop that process first, ` +
    `or delete '${join(dir, 'lock')}' if it is no longer running`
  )
}

/** The pid of a process that has already exited. */
function deadPid(): number {
  const result = spawnSync(process.execPath, ['-e', ''])
  assert.equal(result.status, 0)
  return result.pid
}

async function startHolder(dir: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [holder, dir], { stdio: ['ignore', 'pipe', 'inherit'] })
  let output = ''
  for await (const chunk of child.stdout!) {
    output += chunk
    if (output.includes('locked\n')) break
  }
  assert.equal(output, 'locked\n')
  return child
}

test('the lock file names its owner while the store is open, and is released on close', async (t) => {
  const dir = tempDir(t)
  const store = await CheckpointStore.open(dir, options)
  const lock = JSON.parse(await readFile(join(dir, 'lock'), 'utf8'))
  assert.equal(lock.pid, process.pid)
  assert.equal(lock.hostname, hostname())
  assert.equal(lock.startedAt, FIXED_TIME)
  assert.match(lock.token, /^[0-9a-f]{16}$/)
  await assert.rejects(CheckpointStore.open(dir, options), {
    code: ErrorCodes.CHECKPOINT_LOCKED,
    message: lockedMessage(dir, process.pid, hostname(), FIXED_TIME),
  })
  await store.close()
  await assert.rejects(readFile(join(dir, 'lock')), { code: 'ENOENT' })
})

test('a live process holding the lock is refused by name; once it dies its lock is taken over', async (t) => {
  const dir = tempDir(t)
  const child = await startHolder(dir)
  t.after(() => child.kill('SIGKILL'))
  const lock = JSON.parse(await readFile(join(dir, 'lock'), 'utf8'))
  assert.equal(lock.pid, child.pid)

  await assert.rejects(CheckpointStore.open(dir, options), (error: unknown) => {
    assert.equal((error as { code: string }).code, ErrorCodes.CHECKPOINT_LOCKED)
    assert.equal((error as Error).message, lockedMessage(dir, child.pid!, hostname(), lock.startedAt))
    assert.equal((error as { details: { pid: number } }).details.pid, child.pid)
    return true
  })

  // kill -9: the child cannot release its lock, which stays behind, stale.
  const exited = once(child, 'exit')
  child.kill('SIGKILL')
  await exited
  const { logger, entries } = recordingLogger()
  const store = await CheckpointStore.open(dir, { ...options, logger })
  t.after(() => store.close())
  const warning = entries.find((entry) => entry.level === 'warn')
  assert.equal(warning?.msg, 'taking over a stale checkpoint lock: its owner is no longer running')
  assert.equal(warning?.pid, child.pid)
  assert.equal(JSON.parse(await readFile(join(dir, 'lock'), 'utf8')).pid, process.pid)
})

test('a stale lock left by a dead process on this host is taken over with a warning', async (t) => {
  const dir = tempDir(t)
  const pid = deadPid()
  const stale = { pid, hostname: hostname(), startedAt: FIXED_TIME - 60_000, token: 'ffffffffffffffff' }
  await writeFile(join(dir, 'lock'), JSON.stringify(stale))
  const { logger, entries } = recordingLogger()
  const store = await CheckpointStore.open(dir, { ...options, logger })
  t.after(() => store.close())
  const warnings = entries.filter((entry) => entry.level === 'warn')
  assert.equal(warnings.length, 1)
  assert.equal(warnings[0]!.msg, 'taking over a stale checkpoint lock: its owner is no longer running')
  assert.equal(warnings[0]!.pid, pid)
  assert.equal(warnings[0]!.startedAt, '2023-11-14T22:12:20.000Z')
  assert.equal(warnings[0]!.component, 'checkpoint')
  assert.equal(JSON.parse(await readFile(join(dir, 'lock'), 'utf8')).pid, process.pid)
})

test("a lock naming this process's pid that it does not hold is stale (a container restarted as pid 1); one it holds is refused", async (t) => {
  const dir = tempDir(t)
  const earlier = {
    pid: process.pid,
    hostname: hostname(),
    startedAt: FIXED_TIME - 60_000,
    token: 'aaaaaaaaaaaaaaaa',
  }
  await writeFile(join(dir, 'lock'), JSON.stringify(earlier))
  const { logger, entries } = recordingLogger()
  const store = await CheckpointStore.open(dir, { ...options, logger })
  t.after(() => store.close())
  assert.deepEqual(
    entries.filter((entry) => entry.level === 'warn').map((entry) => [entry.msg, entry.pid]),
    [['taking over a stale checkpoint lock: its owner is no longer running', process.pid]],
  )
  const taken = JSON.parse(await readFile(join(dir, 'lock'), 'utf8'))
  assert.notEqual(taken.token, earlier.token)
  await assert.rejects(CheckpointStore.open(dir, options), {
    code: ErrorCodes.CHECKPOINT_LOCKED,
    message: lockedMessage(dir, process.pid, hostname(), FIXED_TIME),
  })
})

test('a lock held on another host is always respected: its owner cannot be checked from here', async (t) => {
  const dir = tempDir(t)
  const remote = {
    pid: deadPid(),
    hostname: 'other-host.invalid',
    startedAt: FIXED_TIME,
    token: '0123456789abcdef',
  }
  await writeFile(join(dir, 'lock'), JSON.stringify(remote))
  await assert.rejects(CheckpointStore.open(dir, options), {
    code: ErrorCodes.CHECKPOINT_LOCKED,
    message: lockedMessage(dir, remote.pid, 'other-host.invalid', FIXED_TIME),
  })
})

test('an unreadable lock file is refused with instructions', async (t) => {
  const dir = tempDir(t)
  await writeFile(join(dir, 'lock'), '{"pid": 12')
  await assert.rejects(CheckpointStore.open(dir, options), {
    code: ErrorCodes.CHECKPOINT_LOCKED,
    message:
      `checkpoint directory '${dir}' is locked, but its lock file '${join(dir, 'lock')}' is unreadable; ` +
      `if no other process uses this directory, delete '${join(dir, 'lock')}'`,
  })
})

test('close leaves alone a lock that another process took over', async (t) => {
  const dir = tempDir(t)
  const { logger, entries } = recordingLogger()
  const store = await CheckpointStore.open(dir, { ...options, logger })
  const usurper = {
    pid: deadPid(),
    hostname: 'other-host.invalid',
    startedAt: FIXED_TIME,
    token: '0123456789abcdef',
  }
  await writeFile(join(dir, 'lock'), JSON.stringify(usurper))
  await store.close()
  assert.deepEqual(JSON.parse(await readFile(join(dir, 'lock'), 'utf8')), usurper)
  assert.equal(entries.at(-1)?.msg, 'checkpoint lock is no longer ours at release; leaving it in place')
})
