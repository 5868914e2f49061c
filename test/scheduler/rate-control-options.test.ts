import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes } from '../../src/core/errors.ts'
import {
  normalizeRateControlOptions,
  PID_DEFAULTS,
  type RateControlOptions,
} from '../../src/scheduler/rate-control-options.ts'

test('no options means Spark defaults: no limit, backpressure off', () => {
  assert.deepEqual(normalizeRateControlOptions(), {
    maxRatePerPartition: 0,
    minRatePerPartition: 1,
    backpressure: { enabled: false, pid: { proportional: 1, integral: 0.2, derived: 0, minRate: 100 } },
  })
})

test('given values override the defaults, which stay untouched', () => {
  const settings = normalizeRateControlOptions({
    maxRatePerPartition: 50_000,
    minRatePerPartition: 10,
    backpressure: { enabled: true, initialRate: 2000, pid: { integral: 0.5 } },
  })
  assert.deepEqual(settings, {
    maxRatePerPartition: 50_000,
    minRatePerPartition: 10,
    backpressure: {
      enabled: true,
      initialRate: 2000,
      pid: { proportional: 1, integral: 0.5, derived: 0, minRate: 100 },
    },
  })
  assert.equal(PID_DEFAULTS.integral, 0.2)
  assert.ok(Object.isFrozen(PID_DEFAULTS))
})

test('other keys are refused: the options are checked on their own', () => {
  assert.throws(() => normalizeRateControlOptions({ maxRatePerPartion: 10 } as RateControlOptions), {
    code: ErrorCodes.INVALID_OPTION,
    message: "unknown option 'maxRatePerPartion' — did you mean 'maxRatePerPartition'?",
  })
})

test('the floor per batch may not exceed what the cap allows in a batch', () => {
  assert.throws(
    () => normalizeRateControlOptions({ maxRatePerPartition: 100, minRatePerPartition: 200 }, 1000),
    {
      code: ErrorCodes.INVALID_OPTION,
      message:
        "option 'minRatePerPartition' must not exceed what maxRatePerPartition allows " +
        '(100 records/s × 1000 ms = 100 records per partition per batch), got 200',
    },
  )
  // The same numbers with 5 s batches are consistent: the cap allows 500 per batch.
  assert.equal(
    normalizeRateControlOptions({ maxRatePerPartition: 100, minRatePerPartition: 200 }, 5000)
      .minRatePerPartition,
    200,
  )
  assert.throws(() => normalizeRateControlOptions({ maxRatePerPartition: 0.5 }, 1000), {
    code: ErrorCodes.INVALID_OPTION,
    message:
      "option 'maxRatePerPartition' must allow at least minRatePerPartition (1) records per batch; " +
      'it allows 0.5 records/s × 1000 ms = 0 records per partition per batch',
  })
})

test('each invalid option fails with an exact message naming its path', () => {
  const cases: [unknown, string][] = [
    [
      { maxRatePerPartition: -1 },
      "option 'maxRatePerPartition' must be at least 0 (records per second, 0 = no limit), got -1",
    ],
    [{ maxRatePerPartition: '100' }, `option 'maxRatePerPartition' must be a number, got a string ("100")`],
    [
      { minRatePerPartition: 0 },
      "option 'minRatePerPartition' must be at least 1 (records per partition per batch), got 0",
    ],
    [
      { minRatePerPartition: 1.5 },
      "option 'minRatePerPartition' must be an integer (records per partition per batch), got a number (1.5)",
    ],
    [{ backpressure: true }, "option 'backpressure' must be an object, got a boolean (true)"],
    [
      { backpressure: { enabled: 'yes' } },
      `option 'backpressure.enabled' must be a boolean, got a string ("yes")`,
    ],
    [
      { backpressure: { enabled: true, initialRate: 0 } },
      "option 'backpressure.initialRate' must be greater than 0 (records per second), got 0",
    ],
    [
      { backpressure: { enabled: true, initialRate: Number.POSITIVE_INFINITY } },
      "option 'backpressure.initialRate' must be a finite number (records per second), got a number (Infinity)",
    ],
    [
      { backpressure: { enable: true } },
      "unknown option 'backpressure.enable' — did you mean 'backpressure.enabled'?",
    ],
    [{ backpressure: { pid: [] } }, "option 'backpressure.pid' must be an object, got an array (length 0)"],
    [
      { backpressure: { pid: { derivative: 0.1 } } },
      "unknown option 'backpressure.pid.derivative' (known: proportional, integral, derived, minRate)",
    ],
    [
      { backpressure: { pid: { proportional: -0.1 } } },
      "option 'backpressure.pid.proportional' must be at least 0, got -0.1",
    ],
    [
      { backpressure: { pid: { integral: Number.NaN } } },
      "option 'backpressure.pid.integral' must be a finite number, got a number (NaN)",
    ],
    [
      { backpressure: { pid: { derived: -1 } } },
      "option 'backpressure.pid.derived' must be at least 0, got -1",
    ],
    [
      { backpressure: { pid: { minRate: -5 } } },
      "option 'backpressure.pid.minRate' must be greater than 0 (records per second), got -5",
    ],
  ]
  for (const [options, message] of cases) {
    assert.throws(() => normalizeRateControlOptions(options as RateControlOptions), {
      code: ErrorCodes.INVALID_OPTION,
      message,
    })
  }
})
