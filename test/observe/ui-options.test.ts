import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Registry } from 'prom-client'
import { ErrorCodes } from '../../src/core/errors.ts'
import { resolveUiOptions } from '../../src/observe/ui-options.ts'

test('true gives the defaults: port 4040 on loopback, 1000 batches, 10 intervals', () => {
  assert.deepEqual(resolveUiOptions(true), {
    port: 4040,
    host: '127.0.0.1',
    historySize: 1000,
    readinessIntervals: 10,
    registry: undefined,
  })
  assert.equal(resolveUiOptions(false), undefined)
  assert.equal(resolveUiOptions(undefined), undefined)
})

test('settings are taken as given', () => {
  const registry = new Registry()
  assert.deepEqual(
    resolveUiOptions({ port: 0, host: '::1', historySize: 5, registry, readinessIntervals: 2 }),
    { port: 0, host: '::1', historySize: 5, registry, readinessIntervals: 2 },
  )
})

test('bad settings fail with a message naming the setting', () => {
  const cases: [unknown, RegExp][] = [
    ['yes', /^option 'ui' must be true, false or an object of UI settings, got "yes"$/],
    [
      { prot: 4040 },
      /^option 'ui.prot' is not a UI setting \(known: port, host, historySize, registry, readinessIntervals\)$/,
    ],
    [
      { port: 70_000 },
      /^option 'ui.port' must be an integer from 0 to 65535 \(0: any free port\), got 70000$/,
    ],
    [{ port: '4040' }, /^option 'ui.port' must be an integer .*got "4040"$/],
    [{ host: '' }, /^option 'ui.host' must be a host name or address, got ""$/],
    [{ historySize: 0 }, /^option 'ui.historySize' must be an integer from 1 to 100000, got 0$/],
    [
      { readinessIntervals: 1.5 },
      /^option 'ui.readinessIntervals' must be an integer from 1 to 1000000, got 1.5$/,
    ],
    [{ registry: {} }, /^option 'ui.registry' must be a prom-client Registry, got an object$/],
  ]
  for (const [option, message] of cases) {
    assert.throws(
      () => resolveUiOptions(option),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, ErrorCodes.INVALID_OPTION)
        assert.match(error.message, message)
        return true
      },
    )
  }
})
