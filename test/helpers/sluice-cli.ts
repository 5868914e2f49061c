import { main } from '../../src/cli/main.ts'

/** Runs `sluice <argv>` in this process, as the shell would, and returns its exit code and output. */
export async function sluice(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  const code = await main(argv, {
    stdout: (text) => {
      stdout += text
    },
    stderr: (text) => {
      stderr += text
    },
  })
  return { code, stdout, stderr }
}
