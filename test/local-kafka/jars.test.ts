import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes, type SluiceError } from '../../src/core/errors.ts'
import { kafkaCacheDir, requireTool } from '../../src/local-kafka/jars.ts'

test('a missing tool fails with a message naming it and how to install it', async () => {
  await assert.rejects(
    requireTool('sluice-no-such-tool', ['-v'], 'Maven (apt-get install maven)'),
    (error: SluiceError) =>
      error.code === ErrorCodes.LOCAL_KAFKA &&
      error.message === "'sluice-no-such-tool' was not found on PATH: install Maven (apt-get install maven)",
  )
})

test('the jar cache lives outside the repo, per Kafka version, and SLUICE_CACHE_DIR moves it', () => {
  const saved = process.env.SLUICE_CACHE_DIR
  try {
    process.env.SLUICE_CACHE_DIR = '/var/cache/x'
    assert.equal(kafkaCacheDir('4.1.1'), '/var/cache/x/kafka-4.1.1')
  } finally {
    if (saved === undefined) delete process.env.SLUICE_CACHE_DIR
    else process.env.SLUICE_CACHE_DIR = saved
  }
})
