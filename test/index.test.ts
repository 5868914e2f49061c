import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as sluice from '../src/index.ts'

test('the public barrel exposes the documented API names', () => {
  for (const name of [
    'createRDD',
    'OffsetRange',
    'KafkaRDD',
    'KafkaClient',
    'SluiceError',
    'ErrorCodes',
    'Rdd',
    'parallelize',
    'StreamingContext',
    'createDirectStream',
    'createReceiverStream',
    'ReceiverInputDStream',
    'ReceivedBlockRdd',
    'blockChannel',
    'queueStream',
    'InputDStream',
    'fromPino',
  ]) {
    assert.ok(name in sluice, `${name} is exported`)
  }
})
