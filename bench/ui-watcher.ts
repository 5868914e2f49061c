// A watcher of a benchmark job's web UI and metrics, in another process the way an open UI
// page and a Prometheus server watch a real job (bench/cases/ui-poller.ts). One process
// serves a whole run: starting a process from a job with a large heap costs the job a
// copy-on-write fault per page it writes afterwards, which is no cost of the UI.
import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { nodeCase, onOneCore } from './case-process.ts'
import type { BatchRecording } from './ui-stand-in.ts'

export interface WatcherReport {
  readonly requests: number
  readonly cpuMs: number
}

export class UiWatcher {
  readonly #process: ChildProcess
  readonly #lines: AsyncIterator<string>

  private constructor(child: ChildProcess) {
    this.#process = child
    this.#lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]()
  }

  /** Starts the watcher's process, on CPU `core` when given (and taskset exists). */
  static start(core?: number): UiWatcher {
    const plain = nodeCase(join(import.meta.dirname, 'cases', 'ui-poller.ts'), [])
    const { command, args } = (core === undefined ? undefined : onOneCore(plain, core)) ?? plain
    return new UiWatcher(spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] }))
  }

  /** Starts watching the UI at `url`; resolves once the watcher follows its events. */
  async watch(url: string): Promise<void> {
    this.#process.stdin!.write(`watch ${url}\n`)
    await this.#reply()
  }

  /** Gives the watcher the batch its stand-in UI replays (bench/ui-stand-in.ts). */
  async record(recording: BatchRecording): Promise<void> {
    this.#process.stdin!.write(`record ${JSON.stringify(recording)}\n`)
    await this.#reply()
  }

  /** Starts a stand-in UI in the watcher's process and watches it, until `unwatch`. */
  async watchStandIn(): Promise<void> {
    this.#process.stdin!.write('watch-stand-in\n')
    await this.#reply()
  }

  /** Stops watching; returns the requests made and the CPU time used since `watch`. */
  async unwatch(): Promise<WatcherReport> {
    this.#process.stdin!.write('unwatch\n')
    return JSON.parse(await this.#reply()) as WatcherReport
  }

  close(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.#process.once('exit', () => resolve()))
    this.#process.stdin!.end()
    return exited
  }

  async #reply(): Promise<string> {
    const { value, done } = await this.#lines.next()
    if (done) throw new Error('the UI watcher exited')
    return String(value)
  }
}
