// The JVM peer: bench/java/WordCountLoop.java compiled with javac against the Kafka jars the
// local broker already uses, into a cache directory keyed by the source's hash (compiled once
// per machine and source version, outside the repository).
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { Logger } from '../src/core/logger.ts'
import { defaultKafkaVersion, ensureKafkaJars, kafkaCacheDir } from '../src/local-kafka/jars.ts'
import { runCommand } from '../src/local-servers/child-process.ts'
import type { CaseCommand } from './case-process.ts'

const source = join(import.meta.dirname, 'java', 'WordCountLoop.java')

/** Compiles the Java word count loop if needed; returns how to run it over a topic. */
export async function javaWordCount(logger: Logger): Promise<(args: readonly string[]) => CaseCommand> {
  const libs = await ensureKafkaJars(defaultKafkaVersion, logger)
  const hash = createHash('sha256').update(readFileSync(source)).digest('hex').slice(0, 16)
  const classes = join(dirname(kafkaCacheDir(defaultKafkaVersion)), 'bench-java', hash)
  const classpath = `${classes}:${join(libs, '*')}`
  if (!existsSync(join(classes, 'WordCountLoop.class'))) {
    mkdirSync(classes, { recursive: true })
    const result = await runCommand('javac', ['-d', classes, '-cp', classpath, source])
    if (result.status !== 0) {
      throw new Error(
        `javac failed on ${source} (is a JDK installed? apt-get install openjdk-17-jdk-headless):\n${result.output}`,
      )
    }
  }
  return (args) => ({ command: 'java', args: ['-cp', classpath, 'WordCountLoop', ...args] })
}
