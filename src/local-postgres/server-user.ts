import { existsSync } from 'node:fs'
import { chown } from 'node:fs/promises'
import { ErrorCodes, SluiceError } from '../core/errors.ts'
import { type CommandResult, runCommand } from '../local-servers/child-process.ts'

/**
 * Who runs initdb, pg_ctl and postgres. Both refuse to run as root, so a root caller (CI,
 * containers) runs them as the `postgres` system user that Debian's package creates, and
 * hands the cluster directory to that user; anyone else runs them as themselves.
 */
export interface ServerUser {
  /** `postgres` when switching users, else undefined (the current user). */
  readonly name: string | undefined
  run(command: string, args: readonly string[]): Promise<CommandResult>
  /** Gives `path` to the server user (no-op when not switching users). */
  own(path: string): Promise<void>
}

const systemUser = 'postgres'

export async function serverUser(): Promise<ServerUser> {
  if (process.getuid?.() !== 0) {
    return { name: undefined, run: (command, args) => runCommand(command, args), own: async () => {} }
  }
  const uid = await idOf('-u')
  const gid = await idOf('-g')
  // runuser is util-linux's su for root without PAM prompts; su is the fallback where it is missing.
  const runuser = ['/usr/sbin/runuser', '/sbin/runuser', '/usr/bin/runuser'].find((p) => existsSync(p))
  return {
    name: systemUser,
    run: (command, args) =>
      runuser !== undefined
        ? runCommand(runuser, ['-u', systemUser, '--', command, ...args])
        : runCommand('su', [systemUser, '-s', '/bin/sh', '-c', [command, ...args].map(shellQuote).join(' ')]),
    own: (path) => chown(path, uid, gid),
  }
}

async function idOf(flag: '-u' | '-g'): Promise<number> {
  const result = await runCommand('id', [flag, systemUser]).catch(
    (error: Error): CommandResult => ({ status: 1, output: error.message }),
  )
  const id = Number(result.output.trim())
  if (result.status !== 0 || !Number.isInteger(id)) {
    throw new SluiceError(
      ErrorCodes.LOCAL_POSTGRES,
      `PostgreSQL refuses to run as root and there is no '${systemUser}' system user to run it as ` +
        `(id ${flag} ${systemUser}: ${result.output.trim()}); install Debian's 'postgresql' package, ` +
        'which creates it, or run as an ordinary user',
    )
  }
  return id
}

/** Single-quotes an argument for /bin/sh. */
function shellQuote(arg: string): string {
  return `'${arg.replaceAll("'", `'\\''`)}'`
}
