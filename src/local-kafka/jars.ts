import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { ErrorCodes, SluiceError } from '../core/errors.ts'
import type { Logger } from '../core/logger.ts'
import { runCommand } from '../local-servers/child-process.ts'

export const defaultKafkaVersion = '4.1.1'

/** Where resolved jars live: outside the repo, shared by every checkout on the machine. */
export function kafkaCacheDir(version: string): string {
  const base =
    process.env.SLUICE_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'sluice')
  return join(base, `kafka-${version}`)
}

function pom(version: string): string {
  const dependency = (group: string, artifact: string, v: string) =>
    `    <dependency><groupId>${group}</groupId><artifactId>${artifact}</artifactId><version>${v}</version></dependency>`
  // Kafka 4.x logs through SLF4J 1.x: pin slf4j-api and bind it to log4j2, or the broker logs nothing.
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.sluice</groupId>
  <artifactId>local-kafka</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
${dependency('org.apache.kafka', 'kafka_2.13', version)}
${dependency('org.apache.kafka', 'kafka-tools', version)}
${dependency('org.slf4j', 'slf4j-api', '1.7.36')}
${dependency('org.apache.logging.log4j', 'log4j-slf4j-impl', '2.24.3')}
  </dependencies>
</project>
`
}

/**
 * Makes sure the broker's jars are in the cache, resolving them from Maven Central once.
 * A lock directory keeps two processes (parallel test runs) from resolving at the same time.
 */
export async function ensureKafkaJars(version: string, logger: Logger): Promise<string> {
  const dir = kafkaCacheDir(version)
  const libs = join(dir, 'libs')
  const marker = join(dir, 'complete')
  if (existsSync(marker)) return libs
  mkdirSync(dir, { recursive: true })
  const lock = join(dir, 'resolving.lock')
  const deadline = Date.now() + 15 * 60_000
  for (;;) {
    try {
      mkdirSync(lock)
      break
    } catch {
      if (existsSync(marker)) return libs
      if (Date.now() > deadline) {
        throw new SluiceError(
          ErrorCodes.LOCAL_KAFKA,
          `another process has been resolving Kafka jars into ${dir} for 15 minutes; remove ${lock} if it died`,
        )
      }
      await sleep(500)
    }
  }
  try {
    if (existsSync(marker)) return libs
    await requireTool('mvn', ['-v'], 'Maven (apt-get install maven)')
    logger.info('resolving Apache Kafka jars from Maven Central', { version, dir })
    writeFileSync(join(dir, 'pom.xml'), pom(version))
    rmSync(libs, { recursive: true, force: true })
    const result = await runCommand('mvn', [
      '-B',
      '-q',
      '-f',
      join(dir, 'pom.xml'),
      'org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies',
      '-DincludeScope=runtime',
      `-DoutputDirectory=${libs}`,
    ])
    const jars = existsSync(libs) ? readdirSync(libs).filter((f) => f.endsWith('.jar')) : []
    if (result.status !== 0 || !jars.some((j) => j.startsWith(`kafka_2.13-${version}`))) {
      throw new SluiceError(
        ErrorCodes.LOCAL_KAFKA,
        `resolving Apache Kafka ${version} with Maven failed (exit ${result.status}):\n${result.output.slice(-3000)}`,
      )
    }
    writeFileSync(marker, `${new Date().toISOString()}\n`)
    return libs
  } finally {
    rmSync(lock, { recursive: true, force: true })
  }
}

/** Fails with a message naming the missing tool and how to install it. */
export async function requireTool(command: string, args: string[], what: string): Promise<string> {
  try {
    const result = await runCommand(command, args)
    if (result.status !== 0) {
      throw new SluiceError(
        ErrorCodes.LOCAL_KAFKA,
        `'${command} ${args.join(' ')}' failed: ${result.output.trim()}`,
      )
    }
    return result.output
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new SluiceError(ErrorCodes.LOCAL_KAFKA, `'${command}' was not found on PATH: install ${what}`, {
        cause: error,
      })
    }
    throw error
  }
}

/** Kafka 4 brokers need Java 17 or newer. */
export async function requireJava(): Promise<void> {
  const output = await requireTool(
    'java',
    ['-version'],
    'a Java 17+ runtime (apt-get install openjdk-17-jre-headless)',
  )
  const match = /version "(\d+)(?:\.(\d+))?/.exec(output)
  const major = match ? Number(match[1] === '1' ? match[2] : match[1]) : Number.NaN
  if (!(major >= 17)) {
    throw new SluiceError(
      ErrorCodes.LOCAL_KAFKA,
      `Apache Kafka 4 needs Java 17 or newer, but 'java -version' says: ${output.split('\n')[0]}`,
    )
  }
}
