// `npm run build` (and `npm pack`, through prepack): compiles src/ to dist/ — JavaScript,
// declarations and source maps — with tsconfig.build.json, then copies every other file
// under src/ (web UI pages, styles, images...) to the same place under dist/, so that code
// finding its assets next to itself (`new URL('./ui/index.html', import.meta.url)`) works
// the same from the sources and from the built package. Folders the build leaves out
// (development servers only the tests use) are left out of the copy too.
import { spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'

const root = join(import.meta.dirname, '..')
const src = join(root, 'src')
const dist = join(root, 'dist')

const config = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8')) as { exclude?: string[] }
const excluded = (config.exclude ?? []).map((path) => join(root, path))

/** Copies every file under `from` that is not TypeScript to the same place under `to`; returns how many. */
export function copyAssets(from: string, to: string, excludedFolders: readonly string[] = []): number {
  let copied = 0
  for (const entry of readdirSync(from, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name.endsWith('.ts')) continue
    const file = join(entry.parentPath, entry.name)
    if (excludedFolders.some((folder) => file.startsWith(`${folder}/`))) continue
    const target = join(to, relative(from, file))
    mkdirSync(dirname(target), { recursive: true })
    cpSync(file, target)
    copied++
  }
  return copied
}

if (import.meta.main) {
  rmSync(dist, { recursive: true, force: true })
  const tsc = spawnSync(
    join(root, 'node_modules', '.bin', 'tsc'),
    ['-p', join(root, 'tsconfig.build.json')],
    {
      stdio: 'inherit',
    },
  )
  if (tsc.status !== 0) process.exit(tsc.status ?? 1)
  const assets = copyAssets(src, dist, excluded)
  console.log(`built dist/ (${assets} asset file${assets === 1 ? '' : 's'} copied)`)
}
