import { connect, createServer, type Socket } from 'node:net'
import type { TestContext } from 'node:test'

/** PostgreSQL's simple-query message for `COMMIT`: 'Q', int32 length (4 + 7), "COMMIT\0". */
const commitMessage = Buffer.from([0x51, 0, 0, 0, 11, ...Buffer.from('COMMIT'), 0])

export interface CommitCuttingProxy {
  /** The proxy's port on 127.0.0.1: connect to it instead of the server. */
  readonly port: number
  /**
   * Arms the cut: the next COMMIT any client sends reaches the server, and when the server
   * answers, both sockets are destroyed instead of the answer being passed on — the
   * transaction committed, the client never hears it. Resolves once that happened.
   */
  cutNextCommit(): Promise<void>
}

/**
 * A TCP proxy in front of PostgreSQL that can lose exactly one COMMIT's answer: the moment
 * when "did my transaction commit?" has no answer on the client's side.
 */
export async function commitCuttingProxy(
  t: TestContext,
  target: { host: string; port: number },
): Promise<CommitCuttingProxy> {
  let armed: (() => void) | undefined
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host)
    sockets.add(client).add(upstream)
    let cutting: (() => void) | undefined
    const close = () => {
      client.destroy()
      upstream.destroy()
    }
    client.on('error', close).on('close', close)
    upstream.on('error', close).on('close', close)
    client.on('data', (chunk: Buffer) => {
      if (armed !== undefined && chunk.includes(commitMessage)) {
        cutting = armed
        armed = undefined
      }
      upstream.write(chunk)
    })
    upstream.on('data', (chunk: Buffer) => {
      if (cutting !== undefined) {
        // The server has answered the COMMIT (it is done); the client must never know.
        close()
        cutting()
        return
      }
      client.write(chunk)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => server.close(resolve))
  })
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('the proxy has no TCP address')
  return {
    port: address.port,
    cutNextCommit: () =>
      new Promise<void>((resolve) => {
        armed = resolve
      }),
  }
}
