import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { silentLogger } from '../../src/core/logger.ts'
import { KafkaClient } from '../../src/kafka/client.ts'
import { stopLocalKafka } from '../../src/local-kafka/broker.ts'
import { serverDir } from '../helpers/own-servers.ts'

const run = promisify(execFile)
const cli = join(import.meta.dirname, '..', '..', 'bin', 'sluice.js')

async function sluice(...args: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run(process.execPath, [cli, ...args], {
      env: { ...process.env, SLUICE_LOG_LEVEL: 'warn' },
    })
    return { code: 0, stdout }
  } catch (error) {
    const failed = error as { code: number; stdout: string }
    return { code: failed.code, stdout: failed.stdout }
  }
}

test('sluice kafka start / second start / status / stop on one dir', async (t) => {
  // Stopped with the library, not the CLI: the broker goes even if `sluice kafka stop` is broken.
  const dir = serverDir(t, 'cli', stopLocalKafka)

  const first = await sluice('kafka', 'start', '--dir', dir)
  assert.equal(first.code, 0)
  const lines = first.stdout.trim().split('\n')
  const bootstrap = /^bootstrap=(127\.0\.0\.1:\d+)$/.exec(lines.at(-1)!)?.[1]
  assert.ok(bootstrap, `last line is bootstrap=...: ${first.stdout}`)

  const client = new KafkaClient({ brokers: [bootstrap], logger: silentLogger })
  const cluster = await client.metadata([])
  await client.close()
  assert.equal(cluster.brokers.size, 1)

  const second = await sluice('kafka', 'start', '--dir', dir)
  assert.equal(second.code, 0)
  assert.match(second.stdout, /a broker is already running from/)
  assert.equal(second.stdout.trim().split('\n').at(-1), `bootstrap=${bootstrap}`)

  const status = await sluice('kafka', 'status', '--dir', dir)
  assert.equal(status.code, 0)
  assert.match(status.stdout, /^running pid=\d+/)

  const stop = await sluice('kafka', 'stop', '--dir', dir)
  assert.equal(stop.code, 0)
  assert.match(stop.stdout, /stopped the broker/)

  const after = await sluice('kafka', 'status', '--dir', dir)
  assert.equal(after.code, 3)
  assert.match(after.stdout, /^stopped/)
})
