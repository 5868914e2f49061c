#!/usr/bin/env node
// The `sluice` command. Plain JavaScript that any Node.js can parse, so that on a Node.js
// older than sluice needs it can say so instead of failing on newer syntax. The minimum
// comes from package.json's `engines`, the one place it is written down.
//
// Installed, it runs the built CLI in dist/. In a clone of the repository (src/ exists next
// to it) it runs the TypeScript sources directly, and when the machine's Node.js is too old
// it re-runs itself on the Node.js 24 the repository installs as a development dependency.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = new URL('../', import.meta.url)
const engines = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')).engines.node
const minimum = /(\d+)\.(\d+)/.exec(engines)
const [major, minor] = process.versions.node.split('.').map(Number)
const tooOld = major < Number(minimum[1]) || (major === Number(minimum[1]) && minor < Number(minimum[2]))
const sources = new URL('src/cli/main.ts', root)
const inRepository = existsSync(fileURLToPath(sources))

if (tooOld) {
  const repositoryNode = fileURLToPath(new URL('node_modules/.bin/node', root))
  if (inRepository && existsSync(repositoryNode)) {
    const result = spawnSync(repositoryNode, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
      stdio: 'inherit',
    })
    process.exit(result.status === null ? 1 : result.status)
  }
  process.stderr.write(
    `sluice needs Node.js ${minimum[1]}.${minimum[2]} or newer; this is Node.js ${process.versions.node}.\n` +
      'Install a current Node.js (https://nodejs.org) and run the command again.\n',
  )
  process.exit(1)
}

const { main } = await import(inRepository ? sources.href : new URL('dist/cli/main.js', root).href)
process.exitCode = await main(process.argv.slice(2))
