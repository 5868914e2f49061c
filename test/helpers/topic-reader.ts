// Reads a topic with Kafka's own Java consumer (TopicReader.java, compiled once against the
// broker's jars): the independent judge of what sluice wrote. Reading sluice's output with
// sluice's own reader would let a wrong read_committed filter approve its own mistakes.
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { silentLogger } from '../../src/core/logger.ts'
import { defaultKafkaVersion, ensureKafkaJars, kafkaCacheDir } from '../../src/local-kafka/jars.ts'
import { bootstrap } from './kafka.ts'

const run = promisify(execFile)
const source = join(import.meta.dirname, 'TopicReader.java')

export type Isolation = 'read_committed' | 'read_uncommitted'

export interface ConsumedRecord {
  readonly partition: number
  readonly offset: bigint
  readonly key: string | null
  readonly value: string | null
  /** Present only when the record has headers: name and value (UTF-8), in order. */
  readonly headers?: readonly (readonly [string, string | null])[]
}

let compiled: Promise<{ classes: string; libs: string }> | undefined

/** Compiles TopicReader.java once per version of its source, into the jar cache. */
function compile(): Promise<{ classes: string; libs: string }> {
  compiled ??= (async () => {
    const libs = await ensureKafkaJars(defaultKafkaVersion, silentLogger)
    const hash = createHash('sha256').update(readFileSync(source)).digest('hex').slice(0, 16)
    const classes = join(kafkaCacheDir(defaultKafkaVersion), 'test-topic-reader', hash)
    if (existsSync(classes)) return { classes, libs }
    mkdirSync(join(classes, '..'), { recursive: true })
    // Compiled aside, then renamed: parallel test files never see a half-written directory.
    const building = mkdtempSync(`${classes}.building-`)
    try {
      await run('javac', ['-nowarn', '-cp', `${libs}/*`, '-d', building, source]).catch((error: unknown) => {
        const e = error as NodeJS.ErrnoException & { stderr?: string }
        throw new Error(
          e.code === 'ENOENT'
            ? 'javac was not found: the tests read Kafka with its Java consumer; install a JDK (apt-get install openjdk-17-jdk-headless)'
            : `compiling ${source} failed: ${e.stderr ?? e.message}`,
        )
      })
      try {
        renameSync(building, classes)
      } catch (error) {
        if (!existsSync(classes)) throw error // else another test file compiled it first
      }
    } finally {
      rmSync(building, { recursive: true, force: true })
    }
    return { classes, libs }
  })()
  return compiled
}

const text = (field: string) => (field === '-' ? null : Buffer.from(field, 'base64').toString('utf8'))

/**
 * Every record of each topic as Kafka's Java consumer sees it at `isolation`, in partition
 * and offset order. Waits until no transaction is open on the topic first (up to 60 s in all).
 * One JVM serves all the reads of a call.
 */
export async function consumeTopics(
  reads: readonly { readonly topic: string; readonly isolation: Isolation }[],
): Promise<ConsumedRecord[][]> {
  const { classes, libs } = await compile()
  const { stdout } = await run(
    'java',
    [
      '-Xmx256m',
      '-XX:TieredStopAtLevel=1',
      '-Dlog4j2.level=error',
      '-cp',
      `${classes}:${libs}/*`,
      'TopicReader',
      bootstrap().join(','),
      '60000',
      ...reads.flatMap((r) => [r.topic, r.isolation]),
    ],
    { maxBuffer: 1 << 30 },
  )
  const results: ConsumedRecord[][] = [[]]
  for (const line of stdout.split('\n')) {
    if (line === '') continue
    if (line === 'end') {
      results.push([])
      continue
    }
    const [partition, offset, key, value, headers] = line.split(' ')
    results.at(-1)!.push({
      partition: Number(partition),
      offset: BigInt(offset!),
      key: text(key!),
      value: text(value!),
      ...(headers === '-'
        ? {}
        : {
            headers: headers!.split('|').map((h): [string, string | null] => {
              const [name, headerValue] = h.split(':')
              return [text(name!)!, text(headerValue!)]
            }),
          }),
    })
  }
  results.pop() // after the last `end`
  if (results.length !== reads.length)
    throw new Error(`TopicReader answered ${results.length} of ${reads.length} reads`)
  return results.map((records) =>
    records.sort(
      (a, b) => a.partition - b.partition || (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0),
    ),
  )
}

/** Every record of `topic` as Kafka's Java consumer sees it at `isolation` (read_committed by default). */
export async function consumeTopic(
  topic: string,
  isolation: Isolation = 'read_committed',
): Promise<ConsumedRecord[]> {
  const [records] = await consumeTopics([{ topic, isolation }])
  return records!
}
