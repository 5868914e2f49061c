import { ErrorCodes, SluiceError } from './errors.ts'

/** The oldest Node.js sluice runs on; package.json's `engines` says the same (a test keeps them equal). */
export const minimumNodeVersion = '22.22.0'

function parts(version: string): number[] {
  return version.split('.').map((part) => Number.parseInt(part, 10) || 0)
}

/**
 * Refuses a Node.js older than `minimumNodeVersion` with an error that says so. Without it, an
 * older Node.js loads sluice and fails later, deep inside, on a missing built-in
 * (`Promise.withResolvers is not a function`), and npm only warns about `engines`.
 */
export function checkNodeVersion(version: string = process.versions.node): void {
  const have = parts(version)
  const need = parts(minimumNodeVersion)
  for (let i = 0; i < need.length; i++) {
    if ((have[i] ?? 0) > need[i]!) return
    if ((have[i] ?? 0) < need[i]!) {
      throw new SluiceError(
        ErrorCodes.UNSUPPORTED_RUNTIME,
        `sluice needs Node.js ${minimumNodeVersion} or newer; this is Node.js ${version}. Install a current Node.js (https://nodejs.org) and run again.`,
        { details: { version, minimum: minimumNodeVersion } },
      )
    }
  }
}

// Each public entry imports this module first, so the check runs before anything else of sluice.
checkNodeVersion()
