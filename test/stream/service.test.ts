// A job as a supervisor (systemd, a container runtime) sees it: exit codes and signals.
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { jobStarter } from '../helpers/child-job.ts'
import { tempDir } from '../helpers/temp-dir.ts'

const serviceJob = join(import.meta.dirname, '..', 'fixtures', 'service-child.ts')

test('a stream that fails while nobody awaits termination still makes the process exit 1', async (t) => {
  const start = jobStarter(t, serviceJob)
  for (const mode of ['fail', 'fail-awaited']) {
    const job = start({ MODE: mode, CHECKPOINT: join(tempDir(t, 'service'), 'ckpt') })
    await job.waitFor('in-output:1')
    await job.waitFor('stopped graceful=false')
    assert.deepEqual(await job.exited, { code: 1, signal: null }, mode)
    assert.match(job.stderr, /"msg":"stream stopped by a failure"/, 'the failure is logged')
  }
})

test('SIGTERM stops gracefully (exit 0); a second SIGTERM abandons the running batch and ends the process', async (t) => {
  const start = jobStarter(t, serviceJob)
  const dir = join(tempDir(t, 'service'), 'ckpt')
  const calm = start({ MODE: 'totals', CHECKPOINT: dir, OUT: join(dir, '..', 'totals.json'), ITEMS: '3' })
  await calm.waitFor('committed:2')
  calm.process.kill('SIGTERM')
  await calm.waitFor('stopped graceful=true')
  assert.deepEqual(await calm.exited, { code: 0, signal: null })

  const hangDir = join(tempDir(t, 'service'), 'ckpt')
  const stuck = start({ MODE: 'hang', CHECKPOINT: hangDir })
  await stuck.waitFor('in-output:1')
  stuck.process.kill('SIGTERM') // graceful: waits for batch 1 (stopTimeout is 60 s)
  await sleep(300)
  assert.equal(stuck.process.exitCode, null, 'still waiting for the running batch')
  stuck.process.kill('SIGTERM')
  await stuck.waitFor('stopped graceful=false')
  // The stuck output still holds the process: the signal, raised again once the lock is released, ends it.
  assert.deepEqual(await stuck.exited, { code: null, signal: 'SIGTERM' })
  assert.deepEqual(readdirSync(join(hangDir, 'commits')), ['0'], 'batch 1 was abandoned uncommitted')
})

test('SIGTERM during the recovery of a stateful job exits cleanly, and the restart ends with exact totals', async (t) => {
  const start = jobStarter(t, serviceJob)
  const base = tempDir(t, 'service')
  const env = { MODE: 'totals', CHECKPOINT: join(base, 'ckpt'), OUT: join(base, 'totals.json'), ITEMS: '10' }
  const expected: Record<string, number> = {}
  for (let i = 0; i < 10; i++)
    for (let k = 0; k <= i % 3; k++) expected[`k${k}`] = (expected[`k${k}`] ?? 0) + i

  // 1. Six items, then a graceful stop: state snapshots after batches 1, 3 and 5.
  const first = start({ ...env, ITEMS: '6' })
  await first.waitFor('committed:5')
  first.process.kill('SIGTERM')
  assert.deepEqual(await first.exited, { code: 0, signal: null })

  // 2. A signal while the restart loads its state snapshot: no batch runs, the process exits 0.
  const interrupted = start({ ...env, PAUSE_IN_RECOVERY: '1' })
  await interrupted.waitFor('recovering')
  interrupted.process.kill('SIGTERM')
  const commits = readdirSync(join(env.CHECKPOINT, 'commits')).sort()
  assert.deepEqual(await interrupted.exited, { code: 0, signal: null })
  assert.deepEqual(interrupted.lines, ['recovering', 'started', 'stopped graceful=true'])
  assert.deepEqual(readdirSync(join(env.CHECKPOINT, 'commits')).sort(), commits, 'no batch ran')

  // 3. The next start goes on with items 6 to 9 and ends exact.
  const last = start(env)
  await last.waitFor(`totals:${JSON.stringify(expected)}`)
  last.process.kill('SIGTERM')
  assert.deepEqual(await last.exited, { code: 0, signal: null })
  assert.deepEqual(JSON.parse(readFileSync(env.OUT, 'utf8')), expected)
})
