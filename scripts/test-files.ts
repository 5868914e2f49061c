// Which test files a run covers, and which servers each needs. A test file needs a server
// when it imports, directly or through any module it imports, the module that hands that
// server out:
//   test/helpers/kafka.ts         the run's Kafka broker (KAFKA_BOOTSTRAP)
//   test/helpers/postgres.ts      the run's PostgreSQL (PG_URL)
//   test/helpers/own-servers.ts   servers the test starts itself (a broker it restarts, the CLI's)
// Every other test file is a unit test: it runs with no server started, in seconds.
// The Python API's tests (python/tests/**/test_*.py, run by pytest) declare their needs as
// pytest markers instead: `pytestmark = pytest.mark.kafka` (or `.postgres`) in the file;
// python/tests/conftest.py fails a test that uses the broker without declaring it.
import { globSync, readFileSync, statSync } from 'node:fs'
import { dirname, relative, resolve } from 'node:path'

export type Server = 'kafka' | 'postgres' | 'own'

const root = resolve(import.meta.dirname, '..')

/** The modules whose import declares a need, relative to the repository root. */
const servers: Record<string, Server> = {
  'test/helpers/kafka.ts': 'kafka',
  'test/helpers/postgres.ts': 'postgres',
  'test/helpers/own-servers.ts': 'own',
}

/** Whether a test file (or a folder of them) holds the Python API's tests, run by pytest. */
export function isPythonTest(path: string): boolean {
  return path.endsWith('.py') || relative(root, resolve(root, path)).split('/')[0] === 'python'
}

/** `npm test` arguments (files or folders) to test files, relative to the repository root. */
export function testFiles(paths: readonly string[]): string[] {
  const folder = (path: string) =>
    `${path.replace(/\/$/, '')}/**/${isPythonTest(path) ? 'test_*.py' : '*.test.ts'}`
  const patterns =
    paths.length === 0
      ? ['test/**/*.test.ts', 'python/tests/**/test_*.py']
      : paths.map((path) => (statSync(path, { throwIfNoEntry: false })?.isDirectory() ? folder(path) : path))
  const files = new Set<string>()
  for (const pattern of patterns) {
    const matched = globSync(pattern, { cwd: root })
    if (matched.length === 0) throw new Error(`no test file matches '${pattern}'`)
    for (const file of matched) files.add(relative(root, resolve(root, file)))
  }
  return [...files].sort()
}

// Static imports and re-exports (`from '...'`), side-effect imports and dynamic imports of
// relative paths. Type-only imports count too: they are harmless, and rare in tests.
const importPattern = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm

const importsOf = new Map<string, string[]>()

/** The `.ts` modules `file` imports by relative path, relative to the repository root. */
function imports(file: string): string[] {
  let found = importsOf.get(file)
  if (found === undefined) {
    const source = readFileSync(resolve(root, file), 'utf8')
    found = [...source.matchAll(importPattern)]
      .map(([, specifier]) => relative(root, resolve(root, dirname(file), specifier!)))
      .filter((path) => path.endsWith('.ts'))
    importsOf.set(file, found)
  }
  return found
}

const pytestMarkerPattern = /\bpytest\.mark\.(kafka|postgres)\b/g

/** The servers a pytest file declares with markers. */
function pytestServers(file: string): Set<Server> {
  const source = readFileSync(resolve(root, file), 'utf8')
  return new Set([...source.matchAll(pytestMarkerPattern)].map(([, server]) => server as Server))
}

/** The servers `file` (relative to the repository root) needs: those of every module it reaches. */
export function serversNeeded(file: string): Set<Server> {
  if (isPythonTest(file)) return pytestServers(file)
  const needs = new Set<Server>()
  const reached = new Set([file])
  for (const module of reached) {
    const server = servers[module]
    if (server) needs.add(server)
    for (const imported of imports(module)) reached.add(imported)
  }
  return needs
}
