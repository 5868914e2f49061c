// The public entry (src/index.ts) as users meet it: through the docs' imports and the examples.
// Every other test imports modules under src/ directly, so only these see the entry as a whole.
// (Which names it exports, and their types, is the API report's business.)
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { test } from 'node:test'
import * as sluice from '../src/index.ts'

const root = resolve(import.meta.dirname, '..')
const read = (path: string) => readFileSync(join(root, path), 'utf8')

/** The names a list of import or export specifiers brings in, as values or as types only. */
function specifiers(list: string, typeOnly: boolean): { name: string; type: boolean }[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const type = typeOnly || s.startsWith('type ')
      const name = s.replace(/^type\s+/, '').split(/\s+as\s+/)
      return { name: name.at(-1)!, type }
    })
}

/** What src/index.ts exports, from its `export [type] { … } from '…'` statements. */
function entryExports(): Map<string, 'value' | 'type'> {
  const source = read('src/index.ts')
  assert.doesNotMatch(source, /export \*/, 'the entry names every export: no `export *`')
  const exports = new Map<string, 'value' | 'type'>()
  for (const [, type, list] of source.matchAll(/export\s+(type\s+)?\{([^}]*)\}\s*from\s*'[^']+'/g)) {
    for (const s of specifiers(list!, type !== undefined)) {
      if (exports.get(s.name) !== 'value') exports.set(s.name, s.type ? 'type' : 'value')
    }
  }
  return exports
}

test('every name the README and the docs import from sluice is exported by the public entry, values as values', () => {
  const exports = entryExports()
  const documents = ['README.md', ...readdirSync(join(root, 'docs')).map((name) => `docs/${name}`)].filter(
    (p) => p.endsWith('.md'),
  )
  const imported: string[] = []
  for (const document of documents) {
    for (const [, type, list] of read(document).matchAll(
      /import\s+(type\s+)?\{([^}]*)\}\s*from\s*'sluice'/g,
    )) {
      for (const s of specifiers(list!, type !== undefined)) {
        imported.push(s.name)
        assert.ok(
          exports.has(s.name),
          `${document} imports '${s.name}' from 'sluice', which does not export it`,
        )
        if (!s.type) {
          assert.equal(
            exports.get(s.name),
            'value',
            `${document} imports '${s.name}' as a value; it is a type only`,
          )
        }
      }
    }
  }
  assert.ok(
    imported.includes('createDirectStream') && imported.includes('StreamingContext'),
    'the docs were read',
  )
  // The entry's value exports are what a user gets at run time, and nothing else is.
  const values = [...exports].filter(([, kind]) => kind === 'value').map(([name]) => name)
  assert.deepEqual(Object.keys(sluice).sort(), values.sort())
  for (const [name, value] of Object.entries(sluice)) {
    assert.notEqual(value, undefined, `'${name}' is exported as undefined`)
  }
})

test('the examples reach sluice only through its public entry', () => {
  const examples = join(root, 'examples')
  const files = readdirSync(examples).filter((name) => name.endsWith('.ts'))
  assert.ok(files.length > 0)
  for (const file of files) {
    for (const [, specifier] of read(`examples/${file}`).matchAll(/from\s*'([^']+)'/g)) {
      if (!specifier!.startsWith('.')) continue
      const target = relative(root, resolve(examples, specifier!))
      assert.ok(
        target === 'src/index.ts' || target.startsWith('examples/'),
        `examples/${file} imports ${target}: examples use sluice as users do, through src/index.ts`,
      )
    }
  }
})
