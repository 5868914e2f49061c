import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { test } from 'node:test'
import { ErrorCodes, type SluiceError } from '../../src/core/errors.ts'
import { silentLogger } from '../../src/core/logger.ts'
import { startLocalKafka } from '../../src/local-kafka/broker.ts'
import { serverProperties } from '../../src/local-kafka/config.ts'
import { freePort } from '../../src/local-servers/ports.ts'
import { serverDir } from '../helpers/own-servers.ts'

test('a port already in use fails with an error naming the port, before java starts', async (t) => {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => server.close())
  const port = (server.address() as { port: number }).port
  await assert.rejects(
    startLocalKafka({ dir: serverDir(t, 'local-kafka'), port, logger: silentLogger }),
    (error: SluiceError) =>
      error.code === ErrorCodes.LOCAL_KAFKA &&
      error.message.startsWith(`port ${port} on 127.0.0.1 is already in use`),
  )
})

test('a bad setting fails the storage format with an error that quotes Kafka', async (t) => {
  await assert.rejects(
    startLocalKafka({
      dir: serverDir(t, 'local-kafka'),
      logger: silentLogger,
      brokerConfig: { 'num.network.threads': 'not-a-number' },
    }),
    (error: SluiceError) =>
      error.code === ErrorCodes.LOCAL_KAFKA &&
      error.message.includes("formatting the broker's storage") &&
      error.message.includes('Invalid value not-a-number for configuration num.network.threads'),
  )
})

test('a broker that dies at start-up fails fast with an error naming its log files', async (t) => {
  // The listener is pointed at a port someone else holds, which only the running broker finds out.
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => server.close())
  const busy = (server.address() as { port: number }).port
  const dir = serverDir(t, 'local-kafka')
  const port = await freePort()
  const controllerPort = await freePort()
  await assert.rejects(
    startLocalKafka({
      dir,
      port,
      controllerPort,
      logger: silentLogger,
      brokerConfig: {
        listeners: `PLAINTEXT://127.0.0.1:${busy},CONTROLLER://127.0.0.1:${controllerPort}`,
        'advertised.listeners': `PLAINTEXT://127.0.0.1:${busy}`,
      },
    }),
    (error: SluiceError) =>
      error.code === ErrorCodes.LOCAL_KAFKA &&
      error.message.includes('exited during start-up (a port was already in use)') &&
      error.message.includes(join(dir, 'logs', 'server.log')),
  )
})

test('server.properties describes a single-node KRaft broker on the chosen ports', () => {
  const text = serverProperties({ port: 1234, controllerPort: 5678, dataDir: '/d', logsDir: '/l' })
  assert.match(text, /^process\.roles=broker,controller$/m)
  assert.match(text, /^controller\.quorum\.voters=1@127\.0\.0\.1:5678$/m)
  assert.match(text, /^listeners=PLAINTEXT:\/\/127\.0\.0\.1:1234,CONTROLLER:\/\/127\.0\.0\.1:5678$/m)
  assert.match(text, /^auto\.create\.topics\.enable=false$/m)
  assert.match(text, /^log\.dirs=\/d$/m)
})
