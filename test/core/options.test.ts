import assert from 'node:assert/strict'
import { test } from 'node:test'
import { describeReceived } from '../../src/core/describe-value.ts'
import { ErrorCodes, SluiceError } from '../../src/core/errors.ts'
import { silentLogger } from '../../src/core/logger.ts'
import {
  arrayOption,
  closestName,
  durationMs,
  editDistance,
  integerOption,
  loggerOption,
  MAX_TIMER_MS,
  nonEmptyString,
  numberOption,
  oneOf,
  optionsObject,
  parseOptions,
  positiveInteger,
  recordOption,
  required,
} from '../../src/core/options.ts'

/** Runs `fn`, expecting an INVALID_OPTION error; returns its message. */
function refusal(fn: () => unknown): string {
  try {
    fn()
  } catch (error) {
    assert.ok(error instanceof SluiceError, `a SluiceError, got ${error}`)
    assert.equal(error.code, ErrorCodes.INVALID_OPTION)
    return error.message
  }
  assert.fail('expected the options to be refused')
}

test('describeReceived names the type and shows short values', () => {
  assert.equal(describeReceived('1000'), 'a string ("1000")')
  assert.equal(describeReceived(''), 'a string ("")')
  assert.equal(describeReceived(12), 'a number (12)')
  assert.equal(describeReceived(Number.NaN), 'a number (NaN)')
  assert.equal(describeReceived(5n), 'a bigint (5n)')
  assert.equal(describeReceived(true), 'a boolean (true)')
  assert.equal(describeReceived(null), 'null')
  assert.equal(describeReceived(undefined), 'undefined')
  assert.equal(describeReceived([1, 2]), 'an array (length 2)')
  assert.equal(describeReceived({ a: 1 }), 'an object')
  assert.equal(describeReceived(new Map()), 'a Map')
  assert.equal(describeReceived(/x/), 'a RegExp')
  assert.equal(
    describeReceived(() => 1),
    'a function',
  )
  assert.equal(describeReceived('x'.repeat(100)), `a string ("${'x'.repeat(57)}...")`)
})

test('editDistance counts insertions, deletions, substitutions and adjacent swaps as one edit each', () => {
  assert.equal(editDistance('startingOffset', 'startingOffsets'), 1)
  assert.equal(editDistance('dri', 'dir'), 1)
  assert.equal(editDistance('maxRatePerPartion', 'maxRatePerPartition'), 2)
  assert.equal(editDistance('abc', 'abc'), 0)
  assert.equal(editDistance('', 'abc'), 3)
  assert.equal(editDistance('kitten', 'sitting'), 3)
})

test('closestName suggests near misses, case slips and prefixes, and nothing for unrelated names', () => {
  const known = ['startingOffsets', 'subscribe', 'maxRatePerPartition', 'minRatePerPartition', 'checkpoint']
  assert.equal(closestName('startingOffset', known), 'startingOffsets')
  assert.equal(closestName('maxRatePerPartion', known), 'maxRatePerPartition')
  assert.equal(closestName('MaxRatePerPartition', known), 'maxRatePerPartition')
  assert.equal(closestName('checkpointDir', known), 'checkpoint')
  assert.equal(closestName('subscrbie', known), 'subscribe')
  assert.equal(closestName('topics', known), undefined)
  assert.equal(closestName('x', known), undefined)
})

const schema = optionsObject(
  {
    appName: required(nonEmptyString),
    batchInterval: required(durationMs()),
    retain: positiveInteger,
    mode: oneOf(['fast', 'safe']),
    backpressure: optionsObject({
      enabled: optionsObject({ pid: optionsObject({ kp: numberOption({ min: 0 }) }) }),
    }),
    tables: arrayOption(nonEmptyString),
    offsets: recordOption('a map of topics to offsets', integerOption({ min: 0 })),
    minimum: integerOption({ min: 1 }),
    maximum: integerOption({ min: 1 }),
    logger: loggerOption,
  },
  (options, path) => {
    if (options.minimum !== undefined && options.maximum !== undefined && options.minimum > options.maximum) {
      throw new SluiceError(ErrorCodes.INVALID_OPTION, `option '${path}minimum' is above maximum`)
    }
  },
)
const valid = { appName: 'wc', batchInterval: 1000 }

test('parsing keeps only given values, so defaults spread under them are never replaced by undefined', () => {
  const parsed = schema.parse({ ...valid, retain: undefined, mode: 'safe' }, '')
  assert.deepEqual(parsed, { appName: 'wc', batchInterval: 1000, mode: 'safe' })
  assert.equal('retain' in parsed, false)
  assert.deepEqual({ retain: 100, ...parsed }.retain, 100)
})

test('an unknown key is refused with the closest known key, or the known keys when none is close', () => {
  assert.equal(
    refusal(() => parseOptions(schema, { ...valid, retian: 3 }, 'test')),
    "test: unknown option 'retian' — did you mean 'retain'?",
  )
  assert.match(
    refusal(() => parseOptions(schema, { ...valid, zzz: 1 }, 'test')),
    /^test: unknown option 'zzz' \(known: appName, batchInterval, retain, mode, backpressure, .*logger\)$/,
  )
  // An unknown key is refused even when its value is undefined: it is still a typo.
  assert.match(
    refusal(() => schema.parse({ ...valid, retian: undefined }, '')),
    /unknown option 'retian'/,
  )
})

test('nested options are named by their full path, as the user spelled them', () => {
  assert.equal(
    refusal(() => schema.parse({ ...valid, backpressure: { enabled: { pid: { kP: 1 } } } }, '')),
    "unknown option 'backpressure.enabled.pid.kP' — did you mean 'backpressure.enabled.pid.kp'?",
  )
  assert.equal(
    refusal(() => schema.parse({ ...valid, backpressure: { enabled: { pid: { kp: -1 } } } }, '')),
    "option 'backpressure.enabled.pid.kp' must be at least 0, got -1",
  )
  assert.equal(
    refusal(() => schema.parse({ ...valid, backpressure: true }, '')),
    "option 'backpressure' must be an object, got a boolean (true)",
  )
  assert.equal(
    refusal(() => schema.parse({ ...valid, tables: ['a', ''] }, '')),
    `option 'tables[1]' must be a non-empty string, got a string ("")`,
  )
  assert.equal(
    refusal(() => schema.parse({ ...valid, offsets: { words: -1 } }, '')),
    "option 'offsets.words' must be at least 0, got -1",
  )
})

test('a wrong type names the type received; a value out of range names the limit', () => {
  assert.equal(
    refusal(() => schema.parse({ appName: 'wc', batchInterval: '1000' }, '')),
    `option 'batchInterval' must be a number, got a string ("1000")`,
  )
  assert.equal(
    refusal(() => schema.parse({ appName: 'wc', batchInterval: 2 ** 31 }, '')),
    `option 'batchInterval' must be at most ${MAX_TIMER_MS} (milliseconds): the longest delay a Node.js timer honours, got 2147483648`,
  )
  assert.equal(
    refusal(() => schema.parse({ appName: 'wc', batchInterval: 1.5 }, '')),
    "option 'batchInterval' must be an integer (milliseconds), got a number (1.5)",
  )
  assert.equal(
    refusal(() => schema.parse({ appName: 'wc', batchInterval: Number.NaN }, '')),
    "option 'batchInterval' must be a finite number (milliseconds), got a number (NaN)",
  )
  assert.equal(
    refusal(() => schema.parse({ ...valid, retain: 0 }, '')),
    "option 'retain' must be at least 1, got 0",
  )
  assert.equal(
    refusal(() => schema.parse({ ...valid, mode: 'fats' }, '')),
    `option 'mode' must be one of 'fast', 'safe', got a string ("fats") — did you mean 'fast'?`,
  )
  assert.equal(
    refusal(() => schema.parse({ ...valid, logger: { warn() {} } }, '')),
    "option 'logger' must be a Logger (an object with debug, info, warn, error and child methods); it has no debug, info, error, child method",
  )
  assert.equal(schema.parse({ ...valid, logger: silentLogger }, '').logger, silentLogger)
})

test('required options, the options object itself, and rules between fields', () => {
  assert.equal(
    refusal(() => schema.parse({ appName: 'wc' }, '')),
    "option 'batchInterval' is required (a positive integer of milliseconds up to 2147483647)",
  )
  assert.equal(
    refusal(() => parseOptions(schema, undefined, 'new StreamingContext')),
    'new StreamingContext: options must be an object, got undefined',
  )
  assert.equal(
    refusal(() => schema.parse([], '')),
    'options must be an object, got an array (length 0)',
  )
  assert.equal(
    refusal(() => schema.parse({ ...valid, minimum: 5, maximum: 2 }, '')),
    "option 'minimum' is above maximum",
  )
})
