import { invalidOption } from '../core/errors.ts'
import { numberOption } from '../core/options.ts'

/**
 * A processing-time window, counted in batches rather than milliseconds: batch ids survive
 * restarts (they come from the checkpoint) while batch times do not line up across one, so
 * a window defined on ids covers the same batches — the same offset ranges — whether or not
 * the job crashed in between.
 *
 * A window is emitted at batch `b` when `(b + 1) % slideBatches === 0` and covers batches
 * `b − lengthBatches + 1 … b`, clipped at batch 0 (the first windows of a stream are shorter).
 */
export interface WindowSpec {
  readonly lengthBatches: number
  readonly slideBatches: number
}

/** An inclusive run of batch ids; empty when `to < from`. */
export interface BatchSpan {
  readonly from: number
  readonly to: number
}

const windowDuration = numberOption({ above: 0, unit: 'milliseconds' })

function durationInBatches(option: string, given: unknown, batchInterval: number): number {
  const value = windowDuration.parse(given, option)
  if (value % batchInterval !== 0) {
    throw invalidOption(
      option,
      `must be a multiple of the batch interval (${batchInterval} ms), got ${value}`,
      { batchInterval, value },
    )
  }
  return value / batchInterval
}

/** Checks `length` and `slide` (ms, multiples of the batch interval); `slide` defaults to one batch. */
export function resolveWindow(batchInterval: number, length: unknown, slide: unknown): WindowSpec {
  return {
    lengthBatches: durationInBatches('length', length, batchInterval),
    slideBatches: slide === undefined ? 1 : durationInBatches('slide', slide, batchInterval),
  }
}

export function emitsAt(spec: WindowSpec, batchId: number): boolean {
  return (batchId + 1) % spec.slideBatches === 0
}

/** The batches of the window emitted at `batchId`. */
export function windowSpan(spec: WindowSpec, batchId: number): BatchSpan {
  return { from: Math.max(0, batchId - spec.lengthBatches + 1), to: batchId }
}

/** Batches of the previous window (emitted at `batchId − slideBatches`) that this one no longer covers. */
export function leavingSpan(spec: WindowSpec, batchId: number): BatchSpan {
  const { lengthBatches: length, slideBatches: slide } = spec
  return { from: Math.max(0, batchId - slide - length + 1), to: Math.min(batchId - slide, batchId - length) }
}

/** Batches of this window that the previous one did not cover. */
export function enteringSpan(spec: WindowSpec, batchId: number): BatchSpan {
  const { lengthBatches: length, slideBatches: slide } = spec
  return { from: Math.max(0, batchId - length + 1, batchId - slide + 1), to: batchId }
}

export function spanIds(span: BatchSpan): number[] {
  const ids: number[] = []
  for (let id = span.from; id <= span.to; id++) ids.push(id)
  return ids
}
