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

test('other stream options are ignored', () => {
  const streamOptions = { brokers: ['127.0.0.1:9092'], subscribe: ['words'], maxRatePerPartition: 10 }
  assert.equal(normalizeRateControlOptions(streamOptions).maxRatePerPartition, 10)
})

test('each invalid option fails with an exact message naming its path', () => {
  const cases: [unknown, string][] = [
    [
      { maxRatePerPartition: -1 },
      "option 'maxRatePerPartition' must be a non-negative number of records per second (0 = no limit), got -1",
    ],
    [
      { maxRatePerPartition: '100' },
      `option 'maxRatePerPartition' must be a non-negative number of records per second (0 = no limit), got "100"`,
    ],
    [
      { minRatePerPartition: 0 },
      "option 'minRatePerPartition' must be a positive integer (records per partition per batch), got 0",
    ],
    [
      { minRatePerPartition: 1.5 },
      "option 'minRatePerPartition' must be a positive integer (records per partition per batch), got 1.5",
    ],
    [{ backpressure: true }, "option 'backpressure' must be an object, got true"],
    [{ backpressure: { enabled: 'yes' } }, `option 'backpressure.enabled' must be a boolean, got "yes"`],
    [
      { backpressure: { enabled: true, initialRate: 0 } },
      "option 'backpressure.initialRate' must be a positive number of records per second, got 0",
    ],
    [
      { backpressure: { enabled: true, initialRate: Number.POSITIVE_INFINITY } },
      "option 'backpressure.initialRate' must be a positive number of records per second, got Infinity",
    ],
    [
      { backpressure: { enable: true } },
      "option 'backpressure.enable' is not a known option (known: enabled, initialRate, pid)",
    ],
    [{ backpressure: { pid: [] } }, "option 'backpressure.pid' must be an object, got an array"],
    [
      { backpressure: { pid: { derivative: 0.1 } } },
      "option 'backpressure.pid.derivative' is not a known option (known: proportional, integral, derived, minRate)",
    ],
    [
      { backpressure: { pid: { proportional: -0.1 } } },
      "option 'backpressure.pid.proportional' must be a non-negative number, got -0.1",
    ],
    [
      { backpressure: { pid: { integral: Number.NaN } } },
      "option 'backpressure.pid.integral' must be a non-negative number, got NaN",
    ],
    [
      { backpressure: { pid: { derived: -1 } } },
      "option 'backpressure.pid.derived' must be a non-negative number, got -1",
    ],
    [
      { backpressure: { pid: { minRate: -5 } } },
      "option 'backpressure.pid.minRate' must be a positive number of records per second, got -5",
    ],
  ]
  for (const [options, message] of cases) {
    assert.throws(() => normalizeRateControlOptions(options as RateControlOptions), {
      code: ErrorCodes.INVALID_OPTION,
      message,
    })
  }
})
