// For tests that start servers of their own (a broker they restart, the CLI's broker, the
// local server helpers themselves) rather than use the run's shared ones. Importing this
// module is what marks a test file as needing servers: `npm test -- --unit` leaves it out.
import { chmodSync } from 'node:fs'
import type { TestContext } from 'node:test'
import { silentLogger } from '../../src/core/logger.ts'
import { type LocalKafka, type LocalKafkaOptions, startLocalKafka } from '../../src/local-kafka/broker.ts'
import { tempDir } from './temp-dir.ts'

/**
 * A directory for a server the test starts, removed when the test ends, after `release`
 * (which stops what still runs there). Anyone may enter it: as root, PostgreSQL runs as
 * the 'postgres' user, which must reach its data directory inside.
 */
export function serverDir(t: TestContext, name: string, release?: (dir: string) => unknown): string {
  const dir = tempDir(t, name, release)
  chmodSync(dir, 0o755)
  return dir
}

/**
 * A Kafka broker of the test's own (it may restart, kill or stop it), stopped when the test
 * ends. `security` makes it a SASL_SSL broker (see docs/local-kafka.md).
 */
export async function privateBroker(
  t: TestContext,
  options: { readonly heapMb?: number; readonly security?: LocalKafkaOptions['security'] } = {},
): Promise<LocalKafka> {
  let broker: LocalKafka | undefined
  const dir = serverDir(t, 'private-kafka', () => broker?.stop())
  broker = (await startLocalKafka({ dir, logger: silentLogger, heapMb: options.heapMb ?? 512, ...options }))
    .kafka
  return broker
}
