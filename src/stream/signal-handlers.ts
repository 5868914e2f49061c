/**
 * Installs SIGINT and SIGTERM handlers for a running stream. While they are installed the
 * process no longer dies on those signals: `onSignal` decides (the first one asks for a
 * graceful stop, the next one forces it). Returns the function that removes them, after
 * which the process's default behaviour is back.
 */
export function installSignalHandlers(onSignal: (signal: NodeJS.Signals, count: number) => void): () => void {
  let count = 0
  const handler = (signal: NodeJS.Signals) => onSignal(signal, ++count)
  process.on('SIGINT', handler)
  process.on('SIGTERM', handler)
  return () => {
    process.off('SIGINT', handler)
    process.off('SIGTERM', handler)
  }
}
