import assert from 'node:assert/strict'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { copyAssets } from '../../scripts/build.ts'
import { tempDir } from '../helpers/temp-dir.ts'

test('the build copies every non-TypeScript file under src/ to the same place, except excluded folders', (t) => {
  const dir = tempDir(t, 'build')
  const src = join(dir, 'src')
  const files: Record<string, string> = {
    'index.ts': 'export {}',
    'observe/ui/index.html': '<html></html>',
    'observe/ui/assets/app.css': 'body {}',
    'observe/ui/vendor/chart.js': 'export const chart = 1',
    'observe/server.ts': 'export {}',
    'local-postgres/fixture.sql': 'select 1',
  }
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(src, path)), { recursive: true })
    writeFileSync(join(src, path), content)
  }
  const dist = join(dir, 'dist')
  assert.equal(copyAssets(src, dist, [join(src, 'local-postgres')]), 3)
  assert.deepEqual(
    readdirSync(dist, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name).slice(dist.length + 1))
      .sort(),
    ['observe/ui/assets/app.css', 'observe/ui/index.html', 'observe/ui/vendor/chart.js'],
  )
  assert.equal(readFileSync(join(dist, 'observe/ui/index.html'), 'utf8'), '<html></html>')
})
