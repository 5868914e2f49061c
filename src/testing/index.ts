/// <reference types="node" preserve="true" />
/**
 * 'sluice/testing': run streaming jobs in tests deterministically, batch by batch, without
 * waiting for real time. Give a StreamingContext a `ManualClock` (option `clock`), drive its
 * batches with a `BatchDriver`, and collect what a stream produced with `collectBatches`.
 */

// First, so that an unsupported Node.js is named before any other module of sluice runs.
import '../core/node-version.ts'

export { ManualClock } from '../scheduler/manual-clock.ts'
export type { CollectedBatches } from './batch-driver.ts'
export { BatchDriver, collectBatches } from './batch-driver.ts'
