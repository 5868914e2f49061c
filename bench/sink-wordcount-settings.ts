// Shared by the sink word count bench and its case processes.

/**
 * At most 25,000 records per partition per batch (200,000 over 8 partitions), due every
 * 100 ms: a batch takes longer than that, so the stream is always behind and the figures are
 * processing throughput, not the batch clock.
 */
export const batchIntervalMs = 100
export const maxRatePerPartition = 250_000
