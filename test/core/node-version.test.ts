import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { ErrorCodes, type SluiceError } from '../../src/core/errors.ts'
import { checkNodeVersion, minimumNodeVersion } from '../../src/core/node-version.ts'

test("the minimum is package.json's engines", () => {
  const engines = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).engines
    .node
  assert.equal(engines, `>=${minimumNodeVersion.replace(/\.0$/, '')}`)
})

for (const version of ['20.19.5', '22.21.9', '18.0.0', '22.9.0']) {
  test(`Node.js ${version} is refused, naming both versions`, () => {
    assert.throws(
      () => checkNodeVersion(version),
      (error: SluiceError) => {
        assert.equal(error.code, ErrorCodes.UNSUPPORTED_RUNTIME)
        assert.equal(
          error.message,
          `sluice needs Node.js ${minimumNodeVersion} or newer; this is Node.js ${version}. Install a current Node.js (https://nodejs.org) and run again.`,
        )
        return true
      },
    )
  })
}

for (const version of ['22.22.0', '22.22.1', '22.100.0', '23.0.0', '24.11.1', '100.0.0']) {
  test(`Node.js ${version} is accepted`, () => {
    checkNodeVersion(version)
  })
}
