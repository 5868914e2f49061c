import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { extname } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface Asset {
  readonly body: Buffer
  readonly contentType: string
}

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
}

/** The pages' own files, served as they are: plain ES modules and CSS, no build step. */
const ownFiles = [
  'page.html',
  'style.css',
  'app.js',
  'api.js',
  'charts.js',
  'format.js',
  'layout.js',
  'overview.js',
  'batches.js',
  'batch.js',
  'partitions.js',
  'favicon.svg',
]

/**
 * The chart library, served from its npm package: uPlot's prebuilt browser bundle and
 * stylesheet, resolved through Node's module resolution so whatever version npm installed
 * is the one served.
 */
const vendorFiles: Record<string, string> = {
  'vendor/uPlot.iife.min.js': 'uplot/dist/uPlot.iife.min.js',
  'vendor/uPlot.min.css': 'uplot/dist/uPlot.min.css',
}

/** Reads every asset once, when the server starts: a handful of small files held in memory. */
export async function loadAssets(): Promise<ReadonlyMap<string, Asset>> {
  const require = createRequire(import.meta.url)
  const paths: [string, string][] = [
    ...ownFiles.map((name): [string, string] => [
      name,
      fileURLToPath(new URL(`ui/${name}`, import.meta.url)),
    ]),
    ...Object.entries(vendorFiles).map(([name, specifier]): [string, string] => [
      name,
      require.resolve(specifier),
    ]),
  ]
  const assets = new Map<string, Asset>()
  await Promise.all(
    paths.map(async ([name, path]) => {
      const body = await readFile(path)
      assets.set(name, { body, contentType: contentTypes[extname(path)] ?? 'application/octet-stream' })
    }),
  )
  return assets
}
