// The Python half of `npm test`: a virtual environment in .sluice/python-venv with the
// Python package's dependencies (from python/pyproject.toml, reinstalled when it changes),
// then mypy over the package (strict, configured in python/pyproject.toml; a type error fails
// the run), then pytest over python/tests against the broker and PostgreSQL the run started. The
// tests use the working tree's package and engine (PYTHONPATH, SLUICE_ENGINE);
// python/tests/test_install.py checks the real `pip install ./python` separately.
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const root = join(import.meta.dirname, '..')
const venv = join(root, '.sluice', 'python-venv')
const venvPython = join(venv, 'bin', 'python')
const stampFile = join(venv, 'sluice-deps.sha256')

function run(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  cwd = root,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: 'inherit', env })
    child.once('error', reject)
    child.once('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)))
  })
}

async function mustRun(command: string, args: readonly string[]): Promise<void> {
  const code = await run(command, args)
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${code}`)
}

/** Creates the venv if missing and installs the package's runtime and test dependencies when they changed. */
export async function preparePythonEnv(): Promise<string> {
  const pyproject = readFileSync(join(root, 'python', 'pyproject.toml'), 'utf8')
  const stamp = createHash('sha256').update(pyproject).digest('hex')
  if (!existsSync(venvPython)) {
    console.log('python tests: creating .sluice/python-venv')
    await mustRun(process.env.PYTHON ?? 'python3', ['-m', 'venv', venv])
  }
  if (!existsSync(stampFile) || readFileSync(stampFile, 'utf8') !== stamp) {
    console.log('python tests: installing the Python package dependencies')
    const listDeps =
      'import tomllib,sys; p=tomllib.load(open(sys.argv[1],"rb"))["project"]; ' +
      'print("\\n".join(p["dependencies"]+p["optional-dependencies"]["test"]))'
    const deps = await new Promise<string>((resolve, reject) => {
      const child = spawn(venvPython, ['-c', listDeps, join(root, 'python', 'pyproject.toml')])
      let out = ''
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString()
      })
      child.once('error', reject)
      child.once('close', (code) =>
        code === 0 ? resolve(out) : reject(new Error('cannot read pyproject.toml')),
      )
    })
    await mustRun(venvPython, [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      ...deps.split('\n').filter(Boolean),
    ])
    writeFileSync(stampFile, stamp)
  }
  return venvPython
}

/**
 * Runs mypy over the package, then pytest over `files` (test files under python/). Of `npm test`'s node flags, a name
 * pattern becomes pytest's -k and a test timeout its --timeout (pytest-timeout); every test
 * has a limit, so a deadlock fails instead of hanging the run (pyproject.toml's thread method
 * ends the run with every stack, which no test can swallow).
 */
export async function runPythonTests(
  files: readonly string[],
  flags: readonly string[] = [],
): Promise<number> {
  const python = await preparePythonEnv()
  // The package's type hints are part of its API (py.typed): mypy reads its settings and the
  // files to check from python/pyproject.toml.
  const mypyEnv = { ...pythonTestEnv(), MYPY_CACHE_DIR: join(root, '.sluice', 'mypy-cache') }
  const typed = await run(python, ['-m', 'mypy'], mypyEnv, join(root, 'python'))
  if (typed !== 0) {
    console.error('python tests: mypy found type errors in python/sluice (see above)')
    return typed
  }
  const flag = (name: string) => flags.find((f) => f.startsWith(`--${name}=`))?.slice(name.length + 3)
  const pattern = flag('test-name-pattern')
  const timeoutMs = Number(flag('test-timeout') ?? defaultTimeoutMs)
  return run(
    python,
    [
      '-m',
      'pytest',
      '-q',
      '-p',
      'no:cacheprovider',
      `--timeout=${Math.ceil(timeoutMs / 1000)}`,
      ...(pattern ? ['-k', pattern] : []),
      ...files,
    ],
    pythonTestEnv(),
  )
}

/** Crash tests restart whole jobs several times: a longer limit than node tests' default. */
const defaultTimeoutMs = 600_000

/** The working tree's package and engine, on the project's Node 24 (the one running this script). */
export function pythonTestEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PYTHONPATH: join(root, 'python'),
    SLUICE_ENGINE: join(root, 'src', 'python', 'engine-main.ts'),
    SLUICE_NODE: process.execPath,
    PYTHONDONTWRITEBYTECODE: '1',
  }
}
