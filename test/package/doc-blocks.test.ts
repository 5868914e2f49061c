import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { tempDir } from '../helpers/temp-dir.ts'
import { blockFileName, docBlocks, explainErrors } from './doc-blocks.ts'

test('TypeScript blocks are found with the line they start on; other fences are not', (t) => {
  const repo = tempDir(t, 'docs')
  mkdirSync(join(repo, 'docs'))
  writeFileSync(join(repo, 'README.md'), '# x\n\n```ts\nconst a = 1\n```\n\n```sh\nnpm test\n```\n')
  writeFileSync(
    join(repo, 'docs', 'guide.md'),
    'text\n```text\nnot code\n```\n```typescript\nlet b\n```\n\n```ts title\nlet c\nlet d\n```\n',
  )
  const blocks = docBlocks(repo)
  assert.deepEqual(
    blocks.map((b) => [b.file, b.index, b.line, b.code]),
    [
      ['README.md', 1, 4, 'const a = 1\n'],
      ['docs/guide.md', 1, 6, 'let b\n'],
      ['docs/guide.md', 2, 10, 'let c\nlet d\n'],
    ],
  )
  assert.equal(blockFileName(blocks[2]!), 'docs-guide-md-2.ts')
})

test("tsc's errors are reported as the markdown file, line and block to fix", () => {
  const blocks = [{ file: 'README.md', index: 2, line: 83, code: '' }]
  const output =
    "blocks/README-md-2.ts(5,3): error TS2304: Cannot find name 'sink'.\n" +
    "blocks/README-md-2.ts(9,1): error TS2322: Type 'string' is not assignable to type 'number'.\n" +
    '  The expected type comes from property "batchInterval".\n'
  assert.deepEqual(explainErrors(output, blocks), [
    "README.md:87 (TypeScript block 2 of README.md, from line 83): error TS2304: Cannot find name 'sink'.",
    "README.md:91 (TypeScript block 2 of README.md, from line 83): error TS2322: Type 'string' is not assignable to type 'number'. The expected type comes from property \"batchInterval\".",
  ])
})
