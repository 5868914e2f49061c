import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { ChildJob } from '../helpers/child-job.ts'
import { eventually } from '../helpers/eventually.ts'
import { countWords } from '../helpers/words.ts'
import { latestShare, type Share, settled, sharedDeployment, stopAll } from './shared-jobs.ts'

const partitions = 9
// Long enough for a process to start again (Node and the job) on a busy machine.
const staticTimeouts = { SESSION_TIMEOUT_MS: '30000', REBALANCE_TIMEOUT_MS: '40000' }

const assignments = (job: ChildJob) => job.lines.filter((l) => l.startsWith('assigned:'))

for (const sink of ['postgres', 'kafka'] as const) {
  test(`${sink}: restarting a static member (the same groupInstanceId) within the session timeout moves no partition and starts no rebalance`, {
    timeout: 300_000,
  }, async (t) => {
    const job = await sharedDeployment(t, sink, partitions)
    const { topic } = job
    const instance = (id: string) => job.start({ ...staticTimeouts, INSTANCE_ID: id })
    await topic.produce(3_000, 1)
    const running = [instance('pod-0'), instance('pod-1'), instance('pod-2')]
    const before = await settled(running, partitions)
    await job.caughtUp('with three static members')

    // pod-1 stops gracefully (a rolling restart), pod-2 is killed outright; each comes back
    // under its own instance id, in the same generation, with the same partitions.
    for (const [index, signal] of [
      [1, 'SIGTERM'],
      [2, 'SIGKILL'],
    ] as const) {
      const others = running.filter((_, i) => i !== index)
      const seen = others.map((o) => assignments(o).length)
      await topic.produce(2_000, 2 + index)
      const stopped = running[index]!
      const code = await stopped.kill(signal)
      if (signal === 'SIGTERM') assert.equal(code, 0, stopped.describe())
      const restarted = instance(`pod-${index}`)
      running[index] = restarted
      await eventually(
        () => latestShare(restarted) !== undefined,
        `pod-${index} to get its partitions back`,
        {
          timeoutMs: 60_000,
          intervalMs: 100,
        },
      )
      assert.deepEqual(latestShare(restarted), before[index], restarted.describe())
      await job.caughtUp(`after pod-${index} came back`)
      // The other members never rejoined: no new generation, no new assignment.
      assert.deepEqual(
        others.map((o) => assignments(o).length),
        seen,
        others.map((o) => o.describe()).join(' || '),
      )
      assert.deepEqual(
        others.map(latestShare),
        before.filter((_: Share, i) => i !== index),
      )
    }
    await stopAll(running)
    assert.deepEqual(await job.counts(), countWords(topic.lines))
  })
}
