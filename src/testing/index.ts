// `sluice/testing`: run streaming jobs in tests deterministically, batch by batch, without
// waiting for real time.
export { ManualClock } from '../scheduler/manual-clock.ts'
export type { CollectedBatches } from './batch-driver.ts'
export { BatchDriver, collectBatches } from './batch-driver.ts'
