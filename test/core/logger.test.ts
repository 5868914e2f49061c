import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createLogger } from '../../src/core/logger.ts'

test('logger writes JSON lines at or above its level, with bigints as strings', () => {
  const lines: string[] = []
  const logger = createLogger({ level: 'warn', sink: (line) => lines.push(line) }).child({ batch: 7 })
  logger.info('dropped')
  logger.warn('lost records', { topic: 't', offset: 42n, error: new Error('boom') })
  assert.equal(lines.length, 1)
  const entry = JSON.parse(lines[0]!)
  assert.equal(entry.level, 'warn')
  assert.equal(entry.msg, 'lost records')
  assert.equal(entry.batch, 7)
  assert.equal(entry.offset, '42')
  assert.equal(entry.error, 'boom')
})
