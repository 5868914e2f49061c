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

test("sluice's logger also takes pino's call order, info(fields, message), so code written for pino can use it", () => {
  const lines: string[] = []
  const logger = createLogger({ level: 'info', sink: (line) => lines.push(line) })
  logger.info({ batchId: 3, offset: 7n }, 'batch completed')
  logger.warn('plain order', { batchId: 4 })
  const [pinoOrder, sluiceOrder] = lines.map((line) => JSON.parse(line))
  assert.equal(pinoOrder.msg, 'batch completed')
  assert.equal(pinoOrder.batchId, 3)
  assert.equal(pinoOrder.offset, '7')
  assert.equal(sluiceOrder.msg, 'plain order')
  assert.equal(sluiceOrder.batchId, 4)
})
