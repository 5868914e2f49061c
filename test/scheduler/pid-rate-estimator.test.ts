import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes } from '../../src/core/errors.ts'
import { PidRateEstimator } from '../../src/scheduler/pid-rate-estimator.ts'

// All cases use a 1000 ms batch interval and Spark's defaults unless said otherwise:
// Kp = 1, Ki = 0.2, Kd = 0, minRate = 100.

test('the first batch only calibrates: no rate yet', () => {
  const estimator = new PidRateEstimator(1000)
  assert.equal(estimator.compute(1000, 1000, 500, 0), undefined)
  // processingRate = 1000 records / 500 ms = 2000 records/s becomes the latest rate.
  assert.deepEqual(estimator.exportState(), {
    firstRun: false,
    latestTime: 1000,
    latestRate: 2000,
    latestError: 0,
  })
})

test('a sequence of batches gives the hand-computed rates', () => {
  const estimator = new PidRateEstimator(1000)
  assert.equal(estimator.compute(1000, 1000, 500, 0), undefined) // latestRate = 2000, latestError = 0
  // processingRate = 1000 / 1000 ms = 1000/s; error = 2000 − 1000 = 1000;
  // historicalError = 500 ms · 1000/s / 1000 ms = 500; dError irrelevant (Kd = 0)
  // newRate = 2000 − 1·1000 − 0.2·500 = 900
  assert.equal(estimator.compute(2000, 1000, 1000, 500), 900)
  // processingRate = 900 / 600 ms = 1500/s; error = 900 − 1500 = −600;
  // historicalError = 200 · 1500 / 1000 = 300; newRate = 900 + 600 − 0.2·300 = 1440
  assert.equal(estimator.compute(3000, 900, 600, 200), 1440)
  assert.deepEqual(estimator.exportState(), {
    firstRun: false,
    latestTime: 3000,
    latestRate: 1440,
    latestError: -600,
  })
})

test('the derivative term uses the error change per second since the last update', () => {
  const estimator = new PidRateEstimator(1000, { derived: 0.5 })
  assert.equal(estimator.compute(1000, 2000, 1000, 0), undefined) // latestRate = 2000/s
  // 2 s later: processingRate = 1500/s; error = 500; historicalError = 0;
  // dError = (500 − 0) / 2 s = 250; newRate = 2000 − 500 − 0 − 0.5·250 = 1375
  assert.equal(estimator.compute(3000, 1500, 1000, 0), 1375)
  // 1 s later: processingRate = 1375 / 1100 ms = 1250/s; error = 125;
  // historicalError = 100 · 1250 / 1000 = 125; dError = (125 − 500) / 1 s = −375;
  // newRate = 1375 − 125 − 0.2·125 − 0.5·(−375) = 1412.5
  assert.equal(estimator.compute(4000, 1375, 1100, 100), 1412.5)
})

test('the rate never falls below minRate', () => {
  const estimator = new PidRateEstimator(1000)
  estimator.compute(1000, 1000, 500, 0) // latestRate = 2000/s
  // processingRate = 100/s; error = 1900; historicalError = 10000 · 100 / 1000 = 1000;
  // 2000 − 1900 − 0.2·1000 = −100, floored to minRate 100
  assert.equal(estimator.compute(2000, 100, 1000, 10_000), 100)
  const custom = new PidRateEstimator(1000, { minRate: 250 })
  custom.compute(1000, 1000, 500, 0)
  assert.equal(custom.compute(2000, 100, 1000, 10_000), 250)
})

test('batches with no records, no processing time or no new time are ignored and change nothing', () => {
  const estimator = new PidRateEstimator(1000)
  assert.equal(estimator.compute(1000, 0, 500, 0), undefined) // no records: not even a calibration
  assert.equal(estimator.compute(1000, 1000, 0, 0), undefined) // zero processing time
  assert.deepEqual(estimator.exportState(), {
    firstRun: true,
    latestTime: -1,
    latestRate: -1,
    latestError: -1,
  })
  estimator.compute(1000, 1000, 500, 0)
  const calibrated = estimator.exportState()
  assert.equal(estimator.compute(1000, 1000, 1000, 500), undefined) // same time
  assert.equal(estimator.compute(999, 1000, 1000, 500), undefined) // earlier time
  assert.equal(estimator.compute(2000, 0, 1000, 500), undefined)
  assert.equal(estimator.compute(2000, 1000, 0, 500), undefined)
  assert.equal(estimator.compute(2000, -5, 1000, 500), undefined)
  assert.deepEqual(estimator.exportState(), calibrated)
  // The next valid batch sees the same state as if the ignored ones never came.
  assert.equal(estimator.compute(2000, 1000, 1000, 500), 900)
})

test('state exported as JSON and restored continues the same sequence', () => {
  const first = new PidRateEstimator(1000)
  first.compute(1000, 1000, 500, 0)
  first.compute(2000, 1000, 1000, 500)
  const saved = JSON.parse(JSON.stringify(first.exportState()))
  const restored = new PidRateEstimator(1000)
  restored.restoreState(saved)
  assert.equal(restored.compute(3000, 900, 600, 200), 1440)
})

test('invalid saved state is refused with a STATE error', () => {
  const estimator = new PidRateEstimator(1000)
  assert.throws(() => estimator.restoreState('x'), {
    code: ErrorCodes.STATE,
    message: 'saved PID rate estimator state is invalid: expected an object, got "x"',
  })
  assert.throws(
    () => estimator.restoreState({ firstRun: false, latestTime: 1, latestRate: null, latestError: 0 }),
    {
      code: ErrorCodes.STATE,
      message: 'saved PID rate estimator state is invalid: latestRate must be a finite number, got null',
    },
  )
  assert.throws(
    () => estimator.restoreState({ firstRun: 'no', latestTime: 1, latestRate: 1, latestError: 0 }),
    {
      code: ErrorCodes.STATE,
      message: 'saved PID rate estimator state is invalid: firstRun must be a boolean, got "no"',
    },
  )
})

test('invalid construction options fail with the option named (Spark rules)', () => {
  const cases: [() => unknown, string][] = [
    [
      () => new PidRateEstimator(0),
      "option 'batchInterval' must be a positive number of milliseconds, got 0",
    ],
    [
      () => new PidRateEstimator(Number.NaN),
      "option 'batchInterval' must be a positive number of milliseconds, got NaN",
    ],
    [
      () => new PidRateEstimator(1000, { proportional: -1 }),
      "option 'backpressure.pid.proportional' must be at least 0, got -1",
    ],
    [
      () => new PidRateEstimator(1000, { integral: -0.2 }),
      "option 'backpressure.pid.integral' must be at least 0, got -0.2",
    ],
    [
      () => new PidRateEstimator(1000, { derived: Number.POSITIVE_INFINITY }),
      "option 'backpressure.pid.derived' must be a finite number, got a number (Infinity)",
    ],
    [
      () => new PidRateEstimator(1000, { minRate: 0 }),
      "option 'backpressure.pid.minRate' must be greater than 0 (records per second), got 0",
    ],
  ]
  for (const [construct, message] of cases) {
    assert.throws(construct, { code: ErrorCodes.INVALID_OPTION, message })
  }
  // Zero gains are allowed, as in Spark.
  assert.deepEqual(new PidRateEstimator(1000, { proportional: 0, integral: 0 }).settings, {
    proportional: 0,
    integral: 0,
    derived: 0,
    minRate: 100,
  })
})

test('measurements must be finite numbers', () => {
  const estimator = new PidRateEstimator(1000)
  assert.throws(() => estimator.compute(1000, 10, 10, Number.NaN), {
    code: ErrorCodes.INVALID_ARGUMENT,
    message: 'schedulingDelay must be a finite number, got NaN',
  })
})
