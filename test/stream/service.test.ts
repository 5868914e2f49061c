// A job as a supervisor (systemd, a container runtime) sees it: exit codes and signals.
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { exitOf, type Job, startJob, waitForLine } from './child-job.ts'
import { checkpointDir } from './support.ts'

const script = join(import.meta.dirname, '..', 'fixtures', 'service-child.ts')

function run(env: Record<string, string>): Job {
  return startJob(env, script)
}

test('a stream that fails while nobody awaits termination still makes the process exit 1', async (t) => {
  for (const mode of ['fail', 'fail-awaited']) {
    const job = run({ MODE: mode, CHECKPOINT: join(checkpointDir(t), 'ckpt') })
    await waitForLine(job, 'in-output:1')
    await waitForLine(job, 'stopped graceful=false')
    assert.deepEqual(await exitOf(job), { code: 1, signal: null }, mode)
  }
})

test('SIGTERM stops gracefully (exit 0); a second SIGTERM abandons the running batch and ends the process', async (t) => {
  const dir = join(checkpointDir(t), 'ckpt')
  const calm = run({ MODE: 'totals', CHECKPOINT: dir, OUT: join(dir, '..', 'totals.json'), ITEMS: '3' })
  await waitForLine(calm, 'committed:2')
  calm.process.kill('SIGTERM')
  await waitForLine(calm, 'stopped graceful=true')
  assert.deepEqual(await exitOf(calm), { code: 0, signal: null })

  const hangDir = join(checkpointDir(t), 'ckpt')
  const stuck = run({ MODE: 'hang', CHECKPOINT: hangDir })
  await waitForLine(stuck, 'in-output:1')
  stuck.process.kill('SIGTERM') // graceful: waits for batch 1 (stopTimeout is 60 s)
  await new Promise((resolve) => setTimeout(resolve, 300))
  assert.equal(stuck.process.exitCode, null, 'still waiting for the running batch')
  stuck.process.kill('SIGTERM')
  await waitForLine(stuck, 'stopped graceful=false')
  // The stuck output still holds the process: the signal, raised again once the lock is released, ends it.
  assert.deepEqual(await exitOf(stuck), { code: null, signal: 'SIGTERM' })
  assert.deepEqual(readdirSync(join(hangDir, 'commits')), ['0'], 'batch 1 was abandoned uncommitted')
})

test('SIGTERM during the recovery of a stateful job exits cleanly, and the restart ends with exact totals', async (t) => {
  const base = checkpointDir(t)
  const env = { MODE: 'totals', CHECKPOINT: join(base, 'ckpt'), OUT: join(base, 'totals.json'), ITEMS: '10' }
  const expected: Record<string, number> = {}
  for (let i = 0; i < 10; i++)
    for (let k = 0; k <= i % 3; k++) expected[`k${k}`] = (expected[`k${k}`] ?? 0) + i

  // 1. Six items, then a graceful stop: state snapshots after batches 1, 3 and 5.
  const first = run({ ...env, ITEMS: '6' })
  await waitForLine(first, 'committed:5')
  first.process.kill('SIGTERM')
  assert.deepEqual(await exitOf(first), { code: 0, signal: null })

  // 2. A signal while the restart loads its state snapshot: no batch runs, the process exits 0.
  const interrupted = run({ ...env, PAUSE_IN_RECOVERY: '1' })
  await waitForLine(interrupted, 'recovering')
  interrupted.process.kill('SIGTERM')
  const commits = readdirSync(join(env.CHECKPOINT, 'commits')).sort()
  const lines: string[] = []
  for await (const line of interrupted.lines) lines.push(line)
  assert.deepEqual(await exitOf(interrupted), { code: 0, signal: null })
  assert.deepEqual(lines, ['started', 'stopped graceful=true'])
  assert.deepEqual(readdirSync(join(env.CHECKPOINT, 'commits')).sort(), commits, 'no batch ran')

  // 3. The next start goes on with items 6 to 9 and ends exact.
  const last = run(env)
  await waitForLine(last, `totals:${JSON.stringify(expected)}`)
  last.process.kill('SIGTERM')
  assert.deepEqual(await exitOf(last), { code: 0, signal: null })
  assert.deepEqual(JSON.parse(readFileSync(env.OUT, 'utf8')), expected)
})
