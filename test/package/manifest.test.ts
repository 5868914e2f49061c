import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { entryPoints } from '../../scripts/api-report.ts'

const repo = join(import.meta.dirname, '..', '..')
const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'))

test('package metadata: license, repository, keywords, engines, bin', () => {
  assert.equal(manifest.license, 'Apache-2.0')
  assert.match(
    readFileSync(join(repo, 'LICENSE'), 'utf8'),
    /^ +Apache License\n +Version 2\.0, January 2004\n/,
  )
  assert.equal(manifest.repository.type, 'git')
  assert.match(manifest.repository.url, /^git\+https:\/\/.+\.git$/)
  assert.ok(manifest.homepage && manifest.bugs.url)
  assert.ok(manifest.keywords.includes('kafka') && manifest.keywords.includes('spark-streaming'))
  assert.equal(manifest.type, 'module')
  assert.deepEqual(manifest.bin, { sluice: './bin/sluice.js' })
  assert.deepEqual(manifest.files, ['dist', 'bin', 'docs', 'README.md', 'LICENSE'])
  assert.equal(manifest.scripts.prepack, 'npm run build')
})

test('engines, the README and the CLI agree on one minimum Node.js version', () => {
  const [, major, minor] = /^>=(\d+)\.(\d+)$/.exec(manifest.engines.node) ?? []
  assert.ok(major && minor, `engines.node is '>=X.Y', got ${manifest.engines.node}`)
  const readme = readFileSync(join(repo, 'README.md'), 'utf8')
  const stated = [...readme.matchAll(/Node\.js (\d+\.\d+) or newer/g)].map((m) => m[1])
  assert.deepEqual([...new Set(stated)], [`${major}.${minor}`], 'the README states the minimum of engines')
  // bin/sluice.js reads the minimum from engines (tested by running it in test/cli).
  assert.match(readFileSync(join(repo, 'bin', 'sluice.js'), 'utf8'), /\.engines\.node/)
})

test('every entry point maps to built JavaScript and declarations, and to the sources under sluice-source', () => {
  const subpaths = Object.keys(entryPoints).map((entry) =>
    entry === 'sluice' ? '.' : `.${entry.slice('sluice'.length)}`,
  )
  assert.deepEqual(Object.keys(manifest.exports), [...subpaths, './package.json'])
  for (const [entry, source] of Object.entries(entryPoints)) {
    const subpath = entry === 'sluice' ? '.' : `.${entry.slice('sluice'.length)}`
    const built = source.replace(/^src\//, './dist/').replace(/\.ts$/, '')
    assert.deepEqual(manifest.exports[subpath], {
      'sluice-source': `./${source}`,
      types: `${built}.d.ts`,
      default: `${built}.js`,
    })
  }
})

test("each example imports 'sluice' as an application does, and its header gives a command that runs it", () => {
  assert.equal(manifest.scripts.example, 'node --conditions=sluice-source')
  for (const file of readdirSync(join(repo, 'examples')).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(join(repo, 'examples', file), 'utf8')
    assert.doesNotMatch(text, /from '\.\.\/src\//, `${file} imports 'sluice', not the sources`)
    if (!text.includes('import.meta.main')) continue // a module the examples share
    const commands = [...text.matchAll(/^\/\/ {3}(.*)$/gm)].map((m) => m[1]!)
    assert.ok(commands.length > 0, `${file} has a command in its header`)
    for (const command of commands)
      assert.match(command, new RegExp(`npm run example -- examples/${file}$`), file)
  }
})
