/**
 * The one way a Kafka partition becomes a map or set key, everywhere in sluice (source
 * positions, sinks' stored offsets, checkpoint checks). Kafka topic names cannot contain ':'
 * (only letters, digits, '.', '_' and '-'), so the key is unambiguous. It lives in core because
 * layers that must not import the Kafka boundary (checkpoint) need it too.
 */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}:${partition}`
}
