import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs'

/** Small state files are replaced whole so a reader never sees half of one. */
export function writeFileAtomicSync(path: string, content: string): void {
  const temp = `${path}.${process.pid}.tmp`
  const fd = openSync(temp, 'w')
  try {
    writeSync(fd, content)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(temp, path)
}
