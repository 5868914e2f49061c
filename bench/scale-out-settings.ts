// Shared by the scale-out bench and its member processes.

/**
 * A killed member is noticed after 10 s without a heartbeat (Kafka's default is 45 s); a
 * member learns of a rebalance from its next heartbeat, within a second.
 */
export const scaleOutGroupTimeouts = {
  sessionTimeoutMs: 10_000,
  heartbeatIntervalMs: 1_000,
  rebalanceTimeoutMs: 20_000,
}
