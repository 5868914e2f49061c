import { ErrorCodes, SluiceError } from '../core/errors.ts'

/** The on-disk / wire form of an OffsetRange: offsets as decimal strings, never JSON numbers. */
export interface OffsetRangeJson {
  readonly topic: string
  readonly partition: number
  readonly fromOffset: string
  readonly untilOffset: string
}

/** An offset as a bigint, a safe integer or a decimal string. */
export type OffsetLike = bigint | number | string

/**
 * The records `[fromOffset, untilOffset)` of one Kafka partition: from inclusive, until
 * exclusive. A batch of the direct stream is a list of these, one per partition; it is the
 * whole description of the batch, which is why a failed batch can be re-run exactly.
 */
export class OffsetRange {
  readonly topic: string
  readonly partition: number
  readonly fromOffset: bigint
  readonly untilOffset: bigint

  private constructor(topic: string, partition: number, fromOffset: bigint, untilOffset: bigint) {
    this.topic = topic
    this.partition = partition
    this.fromOffset = fromOffset
    this.untilOffset = untilOffset
    Object.freeze(this)
  }

  /** Validates and builds a range; offsets may be given as bigint, safe integer or decimal string. */
  static create(
    topic: string,
    partition: number,
    fromOffset: OffsetLike,
    untilOffset: OffsetLike,
  ): OffsetRange {
    const where = `${typeof topic === 'string' ? topic : String(topic)}-${partition}`
    if (typeof topic !== 'string' || topic.length === 0) {
      throw invalidRange(`offset range ${where}: topic must be a non-empty string`)
    }
    if (!Number.isInteger(partition) || partition < 0) {
      throw invalidRange(`offset range ${where}: partition must be a non-negative integer, got ${partition}`)
    }
    const from = toOffset(fromOffset, `offset range ${where}: fromOffset`)
    const until = toOffset(untilOffset, `offset range ${where}: untilOffset`)
    if (from > until) {
      throw invalidRange(`offset range ${where} [${from}, ${until}): fromOffset must not exceed untilOffset`)
    }
    return new OffsetRange(topic, partition, from, until)
  }

  static fromJSON(json: OffsetRangeJson): OffsetRange {
    return OffsetRange.create(json.topic, json.partition, json.fromOffset, json.untilOffset)
  }

  /** Number of offsets in the range (records, when the partition's offsets are consecutive). */
  get count(): number {
    return Number(this.untilOffset - this.fromOffset)
  }

  get isEmpty(): boolean {
    return this.fromOffset === this.untilOffset
  }

  toJSON(): OffsetRangeJson {
    return {
      topic: this.topic,
      partition: this.partition,
      fromOffset: this.fromOffset.toString(),
      untilOffset: this.untilOffset.toString(),
    }
  }

  equals(other: OffsetRange): boolean {
    return (
      this.topic === other.topic &&
      this.partition === other.partition &&
      this.fromOffset === other.fromOffset &&
      this.untilOffset === other.untilOffset
    )
  }

  toString(): string {
    return `${this.topic}-${this.partition} [${this.fromOffset}, ${this.untilOffset})`
  }
}

function toOffset(value: OffsetLike, what: string): bigint {
  let offset: bigint
  if (typeof value === 'bigint') offset = value
  else if (typeof value === 'number' && Number.isSafeInteger(value)) offset = BigInt(value)
  else if (typeof value === 'string' && /^-?\d+$/.test(value)) offset = BigInt(value)
  else throw invalidRange(`${what} must be an integer offset, got ${JSON.stringify(String(value))}`)
  if (offset < 0n) throw invalidRange(`${what} must not be negative, got ${offset}`)
  return offset
}

function invalidRange(message: string): SluiceError {
  return new SluiceError(ErrorCodes.INVALID_ARGUMENT, message)
}
