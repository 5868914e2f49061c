#!/usr/bin/env node
// The `sluice` command. sluice is written in TypeScript that Node 24 runs directly; when
// this shim starts on an older Node (the machine's default), it re-runs itself on the
// Node 24 binary that the project installs as a devDependency.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const [major, minor] = process.versions.node.split('.').map(Number)
const canStripTypes = major > 22 || (major === 22 && minor >= 18)

if (canStripTypes) {
  await import(join(here, '..', 'src', 'cli', 'main.ts'))
} else {
  const candidates = [
    join(here, '..', 'node_modules', '.bin', 'node'),
    join(here, '..', '..', '.bin', 'node'),
  ]
  const node24 = candidates.find((path) => existsSync(path))
  if (!node24) {
    console.error(`sluice needs Node.js >= 22.18 (found ${process.versions.node}); run 'npm install' first`)
    process.exit(1)
  }
  const result = spawnSync(node24, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
  })
  process.exit(result.status ?? 1)
}
