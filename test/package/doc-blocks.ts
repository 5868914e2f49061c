// The TypeScript code blocks of README.md and docs/*.md, which the installed-package test
// type-checks against the built declarations, as a user's code would be. A block must stand
// on its own: its imports, and its placeholders declared in it
// (`declare const connectionString: string`). Fence a block that is not TypeScript a user
// could write (a data shape, a sketch of internals) as ```text instead.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

export interface DocBlock {
  /** The markdown file, relative to the repository: `docs/sinks.md`. */
  readonly file: string
  /** 1-based, counting the file's TypeScript blocks. */
  readonly index: number
  /** Line of the file where the block's code starts (the line after the fence). */
  readonly line: number
  readonly code: string
}

export function docBlocks(repo: string): DocBlock[] {
  const files = [
    'README.md',
    ...readdirSync(join(repo, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ]
  const blocks: DocBlock[] = []
  for (const file of files.sort()) {
    const text = readFileSync(join(repo, file), 'utf8')
    let index = 0
    for (const match of text.matchAll(/^```(?:ts|typescript)\b[^\n]*\n([\s\S]*?)^```/gm)) {
      index++
      const line = text.slice(0, match.index).split('\n').length + 1
      blocks.push({ file, index, line, code: match[1]! })
    }
  }
  return blocks
}

/** The name of the block's file in the type-checked project: `docs-sinks-md-3.ts`. */
export function blockFileName(block: DocBlock): string {
  return `${block.file.replace(/[^A-Za-z0-9]+/g, '-')}-${block.index}.ts`
}

/**
 * Turns tsc's `file(line,col): error ...` lines about block files into messages that say
 * which markdown file, block and line to fix.
 */
export function explainErrors(output: string, blocks: readonly DocBlock[]): string[] {
  const byName = new Map(blocks.map((b) => [blockFileName(b), b]))
  const messages: string[] = []
  for (const raw of output.split('\n')) {
    const match = /^(?:.*\/)?([^/(]+\.ts)\((\d+),(\d+)\): (.*)$/.exec(raw)
    if (!match) {
      if (raw.trim() !== '' && messages.length > 0) messages[messages.length - 1] += ` ${raw.trim()}`
      else if (raw.trim() !== '') messages.push(raw)
      continue
    }
    const block = byName.get(match[1]!)
    if (!block) {
      messages.push(raw)
      continue
    }
    const line = block.line + Number(match[2]) - 1
    messages.push(
      `${block.file}:${line} (TypeScript block ${block.index} of ${block.file}, from line ${block.line}): ${match[4]}`,
    )
  }
  return messages
}
