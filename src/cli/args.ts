/** A tiny argv parser: `--name value`, `--name=value` and `--flag`; positionals kept in order. */
export interface ParsedArgs {
  readonly positionals: string[]
  readonly flags: Map<string, string | true>
}

export function parseArgs(argv: readonly string[], valued: ReadonlySet<string>): ParsedArgs {
  const positionals: string[] = []
  const flags = new Map<string, string | true>()
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (!arg.startsWith('--')) {
      positionals.push(arg)
      continue
    }
    const eq = arg.indexOf('=')
    if (eq > 0) {
      flags.set(arg.slice(2, eq), arg.slice(eq + 1))
    } else if (valued.has(arg.slice(2))) {
      const value = argv[i + 1]
      if (value === undefined || value.startsWith('--')) throw new Error(`${arg} needs a value`)
      flags.set(arg.slice(2), value)
      i++
    } else {
      flags.set(arg.slice(2), true)
    }
  }
  return { positionals, flags }
}
