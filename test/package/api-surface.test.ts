import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { apiReport, exportedNames, reportFile } from '../../scripts/api-report.ts'

// Read once: building the program over the sources takes a few seconds.
const names = exportedNames()

test('the exported names and their kinds are those of the committed API report', () => {
  const expected = readFileSync(reportFile, 'utf8')
  assert.equal(
    apiReport(names),
    expected,
    'the public surface changed: if that is intended, run `npm run api-report` and commit docs/api.md',
  )
})

test('every export has a doc comment', () => {
  const missing = names
    .filter((n) => n.doc === '')
    .map((n) => `${n.entry}: ${n.kind} ${n.name} (${n.declaredIn})`)
  assert.deepEqual(missing, [], `exports without a doc comment:\n${missing.join('\n')}`)
})

test('engine internals stay out of the main entry point', () => {
  const main = new Set(names.filter((n) => n.entry === 'sluice').map((n) => n.name))
  for (const internal of [
    'TaskRunner',
    'defaultTaskRunner',
    'CheckpointStore',
    'KafkaClient',
    'TransactionalProducer',
    'startLocalKafka',
    'readRange',
    'planBatchRanges',
    'PlannedBatch',
  ]) {
    assert.equal(main.has(internal), false, `${internal} is not exported from 'sluice'`)
  }
})

test('one construction style per concept: classes returned by factories are exported as types only', () => {
  const main = names.filter((n) => n.entry === 'sluice')
  const constructible = main.filter((n) => n.kind === 'class').map((n) => n.name)
  // StreamingContext is built with `new` (as in Spark); OffsetRange with OffsetRange.create;
  // SluiceError is exported as a value so that `instanceof SluiceError` works.
  assert.deepEqual(constructible.sort(), ['OffsetRange', 'SluiceError', 'StreamingContext'])
  const factories = new Set(main.filter((n) => n.kind === 'function').map((n) => n.name))
  for (const [factory, type] of [
    ['createSqlSink', 'SqlSink'],
    ['createKafkaSink', 'KafkaSink'],
    ['createFileSink', 'FileSink'],
    ['createDirectStream', 'DirectKafkaInputDStream'],
    ['createReceiverStream', 'ReceiverInputDStream'],
    ['createRDD', 'KafkaRDD'],
  ] as const) {
    assert.ok(factories.has(factory), `${factory} is exported`)
    assert.equal(main.find((n) => n.name === type)?.kind, 'type-only class', `${type} is a type-only export`)
  }
})
