/**
 * The command framework of `sluice`: a tree of command groups (`kafka`, `checkpoint`...) whose
 * leaves are commands with their own positionals, flags, help and validation. Adding a
 * command is declaring one `defineCommand({...})` and listing it in its group; the framework
 * gives it `--help`, usage errors and exit codes:
 *
 * - `--help`/`-h` anywhere, and `sluice --version`: print to stdout, exit 0.
 * - An unknown command or flag, a flag without its value, a value that does not parse, a
 *   missing or an extra positional: one line naming it, then the usage, on stderr; exit 2.
 * - A command's own failure: `sluice: <message> [<code>]` on stderr, exit 1 (or the code the
 *   command returns); exit 2 when it is an ArgumentError (a path that names the wrong thing).
 *   Never a stack trace.
 *
 * Arguments are tokenized by node:util's parseArgs (non-strict, with tokens) and checked
 * here, so every message is ours and the same on every Node version. A command imports
 * what it runs on (the Kafka client, the checkpoint store) inside `run`, with `import()`,
 * so that `--help` and usage errors answer at once.
 */
import { parseArgs } from 'node:util'
import { closestName } from '../core/options.ts'
import { type FlagSpec, type FlagSpecs, type FlagValues, UsageError } from './flags.ts'

export interface CliIo {
  readonly stdout: (text: string) => void
  readonly stderr: (text: string) => void
}

export interface PositionalSpec {
  /** As shown in the usage: `<dir>`, or `[dir]` when optional. */
  readonly name: string
  readonly description: string
  readonly optional?: boolean
}

export interface CommandInput<F extends FlagSpecs> {
  readonly flags: FlagValues<F>
  /** The positionals in the order declared (optional ones may be missing). */
  readonly positionals: readonly string[]
  readonly io: CliIo
}

export interface Command<F extends FlagSpecs = FlagSpecs> {
  readonly kind: 'command'
  readonly name: string
  /** One line, for the list of its group's commands. */
  readonly summary: string
  /** A paragraph for its help; the summary when omitted. */
  readonly description?: string
  readonly positionals?: readonly PositionalSpec[]
  readonly flags: F
  /** Lines shown under "examples:" in its help. */
  readonly examples?: readonly string[]
  /** Runs the command and returns its exit code. A UsageError thrown here exits 2 with the usage. */
  run(input: CommandInput<F>): Promise<number>
}

export interface CommandGroup {
  readonly kind: 'group'
  readonly name: string
  readonly summary: string
  readonly description?: string
  readonly commands: readonly (Command | CommandGroup)[]
}

export function defineCommand<F extends FlagSpecs>(spec: Omit<Command<F>, 'kind'>): Command<F> {
  return { kind: 'command', ...spec }
}

export function defineGroup(spec: Omit<CommandGroup, 'kind'>): CommandGroup {
  return { kind: 'group', ...spec }
}

const helpFlag: FlagSpec<boolean> = { description: 'show this help', short: 'h', parse: () => true }
const versionFlag: FlagSpec<boolean> = {
  description: "print sluice's version",
  short: 'v',
  parse: () => true,
}

function flagLabel(name: string, spec: FlagSpec<unknown>): string {
  const long = `--${name}${spec.value === undefined ? '' : ` ${spec.value}`}`
  return spec.short === undefined ? long : `-${spec.short}, ${long}`
}

/** Wraps a paragraph at 88 columns for the help. */
function wrap(text: string): string {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(/\s+/)) {
    if (line !== '' && line.length + 1 + word.length > 88) {
      lines.push(line)
      line = word
    } else {
      line = line === '' ? word : `${line} ${word}`
    }
  }
  return [...lines, line].join('\n')
}

function table(rows: readonly (readonly [string, string])[]): string {
  const width = Math.max(...rows.map(([left]) => left.length)) + 3
  return rows.map(([left, right]) => `  ${left.padEnd(width)}${right}`).join('\n')
}

function usageLine(path: readonly string[], node: Command | CommandGroup): string {
  if (node.kind === 'group') return `usage: ${path.join(' ')} <command> [options]`
  const flags = Object.entries(node.flags).map(([name, spec]) => {
    const flag = `--${name}${spec.value ? ` ${spec.value}` : ''}`
    return spec.required ? flag : `[${flag}]`
  })
  const positionals = (node.positionals ?? []).map((p) => (p.optional ? `[${p.name}]` : `<${p.name}>`))
  return ['usage:', ...path, ...positionals, ...flags].join(' ')
}

/** The full help of a command or group, as `--help` prints it. */
export function helpText(path: readonly string[], node: Command | CommandGroup, intro?: string): string {
  const parts: string[] = []
  if (intro !== undefined) parts.push(intro)
  parts.push(usageLine(path, node), wrap(node.description ?? node.summary))
  if (node.kind === 'group') {
    parts.push(`commands:\n${table(node.commands.map((c) => [c.name, c.summary]))}`)
    const options: [string, string][] = [[flagLabel('help', helpFlag), helpFlag.description]]
    if (path.length === 1) options.push([flagLabel('version', versionFlag), versionFlag.description])
    parts.push(`options:\n${table(options)}`)
    parts.push(`Run '${path.join(' ')} <command> --help' for a command's options.`)
  } else {
    if (node.positionals?.length) {
      parts.push(
        `arguments:\n${table(node.positionals.map((p) => [p.optional ? `[${p.name}]` : `<${p.name}>`, p.description]))}`,
      )
    }
    const rows: [string, string][] = Object.entries(node.flags).map(([name, spec]) => [
      flagLabel(name, spec),
      spec.required
        ? `${spec.description} (required)`
        : spec.default === undefined || spec.value === undefined
          ? spec.description
          : `${spec.description} (default: ${String(spec.default)})`,
    ])
    rows.push([flagLabel('help', helpFlag), helpFlag.description])
    parts.push(`options:\n${table(rows)}`)
    if (node.examples?.length) parts.push(`examples:\n${node.examples.map((e) => `  ${e}`).join('\n')}`)
  }
  return `${parts.join('\n\n')}\n`
}

function usageError(
  path: readonly string[],
  node: Command | CommandGroup,
  problem: string,
  io: CliIo,
): number {
  io.stderr(
    `${path.join(' ')}: ${problem}\n${usageLine(path, node)}\n` +
      `Run '${path.join(' ')} --help' for more.\n`,
  )
  return 2
}

interface ParsedCommandLine {
  readonly flags: Record<string, unknown>
  readonly positionals: string[]
  readonly help: boolean
  readonly version: boolean
}

/** Checks argv against the flags a node knows; throws UsageError naming the first mistake. */
function parseCommandLine(argv: readonly string[], flags: FlagSpecs, root: boolean): ParsedCommandLine {
  const known: FlagSpecs = { ...flags, help: helpFlag, ...(root ? { version: versionFlag } : {}) }
  const options = Object.fromEntries(
    Object.entries(known).map(([name, spec]) => [
      name,
      {
        type: spec.value === undefined ? ('boolean' as const) : ('string' as const),
        ...(spec.short ? { short: spec.short } : {}),
      },
    ]),
  )
  const { tokens } = parseArgs({
    args: [...argv],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  })
  // `--help` wins over every mistake on the line: the user is asking how to write it.
  if (tokens.some((t) => t.kind === 'option' && known[t.name] === helpFlag && !t.inlineValue)) {
    return { flags: {}, positionals: [], help: true, version: false }
  }
  const values: Record<string, unknown> = {}
  const positionals: string[] = []
  let version = false
  for (const token of tokens) {
    if (token.kind === 'positional') {
      positionals.push(token.value)
      continue
    }
    if (token.kind !== 'option') continue
    const spec = known[token.name]
    if (spec === undefined) {
      const near = token.rawName.startsWith('--') ? closestName(token.name, Object.keys(known)) : undefined
      throw new UsageError(
        `unknown option '${token.rawName}'${near === undefined ? '' : ` (did you mean '--${near}'?)`}`,
      )
    }
    const label = `--${token.name}`
    if (spec.value === undefined) {
      if (token.inlineValue)
        throw new UsageError(`option '${label}' takes no value, got ${JSON.stringify(token.value)}`)
      if (spec === versionFlag) version = true
      else values[token.name] = true
      continue
    }
    const text = token.value
    // parseArgs takes the next argument as the value even when it is another flag (`--port --dir x`).
    if (text === undefined || (!token.inlineValue && text.startsWith('-') && text.length > 1)) {
      throw new UsageError(`option '${label}' needs a value (${spec.value})`)
    }
    if (token.name in values) throw new UsageError(`option '${label}' is given twice`)
    try {
      values[token.name] = spec.parse(text)
    } catch (error) {
      if (error instanceof UsageError) throw new UsageError(`option '${label}' ${error.message}`)
      throw error
    }
  }
  for (const [name, spec] of Object.entries(flags)) {
    if (!(name in values) && spec.default !== undefined) values[name] = spec.default
  }
  return { flags: values, positionals, help: false, version }
}

/**
 * Runs a command line against the command tree and returns the exit code. `path` is the
 * program name (`['sluice']`); `intro` heads the root help.
 */
export async function runCommandLine(
  root: CommandGroup,
  argv: readonly string[],
  io: CliIo,
  program: { readonly name: string; readonly version: string; readonly intro: string },
): Promise<number> {
  let node: Command | CommandGroup = root
  const path = [program.name]
  let rest = [...argv]
  // Walk down the groups: the first positional names the child.
  while (node.kind === 'group') {
    const group: CommandGroup = node
    const index = rest.findIndex((arg) => !arg.startsWith('-'))
    const before = index === -1 ? rest : rest.slice(0, index)
    let parsed: ParsedCommandLine
    try {
      parsed = parseCommandLine(before, {}, group === root)
    } catch (error) {
      if (error instanceof UsageError) return usageError(path, group, error.message, io)
      throw error
    }
    if (parsed.help) {
      io.stdout(helpText(path, group, group === root ? program.intro : undefined))
      return 0
    }
    if (parsed.version) {
      io.stdout(`${program.version}\n`)
      return 0
    }
    const name = index === -1 ? undefined : rest[index]!
    if (name === undefined) return usageError(path, group, 'missing command', io)
    if (name === 'help' && group === root) {
      // `sluice help kafka start` is `sluice kafka start --help`.
      rest = [...rest.slice(index + 1), '--help']
      continue
    }
    const child = group.commands.find((c) => c.name === name)
    if (child === undefined) {
      const near = closestName(
        name,
        group.commands.map((c) => c.name),
      )
      return usageError(
        path,
        group,
        `unknown command '${name}'${near === undefined ? '' : ` (did you mean '${near}'?)`}`,
        io,
      )
    }
    path.push(name)
    rest = [...before, ...rest.slice(index + 1)]
    node = child
  }
  const command: Command = node
  let parsed: ParsedCommandLine
  try {
    parsed = parseCommandLine(rest, command.flags, false)
  } catch (error) {
    if (error instanceof UsageError) return usageError(path, command, error.message, io)
    throw error
  }
  if (parsed.help) {
    io.stdout(helpText(path, command))
    return 0
  }
  const declared = command.positionals ?? []
  const missing = declared.slice(parsed.positionals.length).find((p) => !p.optional)
  if (missing !== undefined) return usageError(path, command, `missing argument <${missing.name}>`, io)
  if (parsed.positionals.length > declared.length) {
    return usageError(path, command, `unexpected argument '${parsed.positionals[declared.length]}'`, io)
  }
  const missingFlag = Object.entries(command.flags).find(
    ([name, spec]) => spec.required === true && parsed.flags[name] === undefined,
  )
  if (missingFlag !== undefined)
    return usageError(path, command, `option '--${missingFlag[0]}' is required`, io)
  try {
    return await command.run({
      flags: parsed.flags as FlagValues<FlagSpecs>,
      positionals: parsed.positionals,
      io,
    })
  } catch (error) {
    if (error instanceof UsageError) return usageError(path, command, error.message, io)
    throw error
  }
}
