import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCodes } from '../../src/core/errors.ts'
import { silentLogger } from '../../src/core/logger.ts'
import { attachObservability } from '../../src/stream/observability-hook.ts'
import { StreamingContext } from '../../src/stream/streaming-context.ts'

const notAvailable = {
  code: ErrorCodes.INVALID_OPTION,
  message:
    "option 'ui': the web UI and metrics server are not available in this build of sluice (src/observe is missing)",
}

test('ui: without the observe module (or without its attachObservability), start fails saying the UI is not in this build', async () => {
  await assert.rejects(attachObservability({}, true, '../observe/no-such-module.ts'), notAvailable)
  await assert.rejects(attachObservability({}, { port: 0 }, './stop-request.ts'), notAvailable)
})

test('ui: a malformed value fails at construction', () => {
  assert.throws(
    () => new StreamingContext({ appName: 'a', batchInterval: 10, logger: silentLogger, ui: 4040 as never }),
    {
      code: ErrorCodes.INVALID_OPTION,
      message:
        "new StreamingContext: option 'ui' must be true, false or { port, host, historySize, registry }, got a number (4040)",
    },
  )
})
