// The engine process a Python driver starts: `node engine-main.ts <fd>`, where fd is this
// process's end of a socket pair the driver made. Everything happens in the DriverSession;
// this file only opens the channel and exits when the driver is gone.
import { Socket } from 'node:net'
import { createLogger } from '../core/logger.ts'
import { DriverSession } from './driver-session.ts'

const fd = Number(process.argv[2])
const logger = createLogger().child({ component: 'python-engine' })
if (!Number.isInteger(fd) || fd < 3) {
  logger.error('usage: engine-main.ts <channel fd>: the Python driver starts the engine', {
    argv: process.argv,
  })
  process.exit(2)
}
const session = new DriverSession(new Socket({ fd, readable: true, writable: true }), logger)
await session.closed
process.exit(0)
