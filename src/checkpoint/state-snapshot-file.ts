import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { describeValue } from '../core/describe-value.ts'
import { ErrorCodes, messageOf, SluiceError } from '../core/errors.ts'
import { canonicalJson, type JsonObject, type JsonValue } from './json-value.ts'

/**
 * A state snapshot holds every key of a stateful stream after one batch — a million keys is
 * a normal size — so unlike the other checkpoint files it is never built as one string or
 * parsed as one document. It is JSON Lines:
 *
 * ```
 * ["user-1",42]                      one line per key: [key, state] as JSON, or
 * ["user-2",7,118,1700000118000]     [key, state, seenBatch, seenTime] when timeouts are on
 * {"version":1,"format":"sluice-state",...,"entriesSha256":"…","checksum":"sha256:…"}
 * ```
 *
 * The last line is the trailer: plain JSON with the format version, what the snapshot is
 * (stream, batch, codecs, entry count), the SHA-256 of every byte before it, and a checksum
 * of its own fields computed like every other checkpoint file's (canonical JSON). The
 * trailer is written last, so a file cut short anywhere lacks a valid one; any edited byte
 * changes a hash.
 */
export const STATE_SNAPSHOT_FORMAT = 'sluice-state'

/** The snapshot file format, versioned apart from the logs: format 2 of the logs left snapshots unchanged. */
export const STATE_SNAPSHOT_VERSION = 1

/** What a snapshot says about itself; everything but the entries. */
export interface StateSnapshotHeader {
  readonly stream: string
  readonly batchId: number
  readonly batchTime: number
  /** Name of the codec that turned keys into JSON (`json` by default). */
  readonly keyCodec: string
  /** Name of the codec that turned states into JSON. */
  readonly stateCodec: string
}

/** One key: `[key, state]`, or `[key, state, seenBatch, seenTime]` for streams with timeouts. */
export type SnapshotEntry = readonly JsonValue[]

export interface StateSnapshot extends StateSnapshotHeader {
  readonly entries: readonly SnapshotEntry[]
}

/** Pieces go to the file at about this many characters: bounded memory, few system calls. */
const PIECE_LENGTH = 1 << 16

function checksumOf(payload: JsonObject): string {
  return `sha256:${createHash('sha256').update(canonicalJson(payload)).digest('hex')}`
}

/**
 * The text of a snapshot file, in pieces of about 64 KB: the entry lines as `entries` yields
 * them, then the trailer. Entries are produced lazily, so the state is never copied whole;
 * an error thrown by `entries` (a value that cannot be encoded) ends the file unfinished.
 */
export function* encodeStateSnapshot(
  header: StateSnapshotHeader,
  entries: Iterable<SnapshotEntry>,
): Generator<string> {
  const hash = createHash('sha256')
  let count = 0
  let piece = ''
  for (const entry of entries) {
    piece += `${JSON.stringify(entry)}\n`
    count++
    if (piece.length >= PIECE_LENGTH) {
      hash.update(piece)
      yield piece
      piece = ''
    }
  }
  hash.update(piece)
  const payload: JsonObject = {
    version: STATE_SNAPSHOT_VERSION,
    format: STATE_SNAPSHOT_FORMAT,
    stream: header.stream,
    batchId: header.batchId,
    batchTime: header.batchTime,
    entries: count,
    keyCodec: header.keyCodec,
    stateCodec: header.stateCodec,
    entriesSha256: hash.digest('hex'),
  }
  yield `${piece}${JSON.stringify({ ...payload, checksum: checksumOf(payload) })}\n`
}

/** Why a snapshot cannot be used; the message starts with the file name. */
export function unusableSnapshot(file: string, problem: string, cause?: unknown): SluiceError {
  return new SluiceError(ErrorCodes.STATE, `state snapshot '${file}' ${problem}`, {
    cause,
    details: { file },
  })
}

/**
 * Reads and verifies a snapshot file: the trailer must be complete, of this format version,
 * match its checksum, and the entries must hash to what it records. Fails with a STATE
 * error saying what is wrong; the caller decides whether an older snapshot can be used.
 */
export async function readStateSnapshot(file: string): Promise<StateSnapshot> {
  const hash = createHash('sha256')
  const entries: SnapshotEntry[] = []
  let malformed: string | undefined
  let last: string | undefined
  let rest = ''
  const consume = (line: string) => {
    hash.update(line)
    hash.update('\n')
    if (malformed !== undefined) return
    const problem = entryProblem(line)
    if (problem === undefined) entries.push(JSON.parse(line) as JsonValue[])
    else malformed = `entry ${entries.length + 1} ${problem}`
  }
  try {
    for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
      const text = rest + (chunk as string)
      let start = 0
      for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', start)) {
        if (last !== undefined) consume(last)
        last = text.slice(start, end)
        start = end + 1
      }
      rest = text.slice(start)
    }
  } catch (error) {
    throw unusableSnapshot(file, `could not be read: ${messageOf(error)}`, error)
  }
  if (last === undefined || rest !== '') {
    throw unusableSnapshot(file, 'is truncated: it does not end with a complete trailer line')
  }
  const trailer = parseTrailer(file, last)
  if (trailer.entriesSha256 !== hash.digest('hex')) {
    throw unusableSnapshot(
      file,
      'failed its integrity check (the entries do not match the sha256 in its trailer: truncated, edited or damaged)',
    )
  }
  // The hash matched, so these were written this way: a bug of the writer, not damage.
  if (malformed !== undefined) throw unusableSnapshot(file, `is malformed: ${malformed}`)
  if (trailer.entries !== entries.length) {
    throw unusableSnapshot(
      file,
      `is malformed: its trailer counts ${trailer.entries} entries, it holds ${entries.length}`,
    )
  }
  return { ...trailer.header, entries }
}

/** What a snapshot's trailer says of it, read without reading its entries. */
export interface StateSnapshotSummary extends StateSnapshotHeader {
  readonly entries: number
  /** The file's size in bytes. */
  readonly bytes: number
}

/** Trailers are a few hundred bytes; reading this much of the end always holds one whole. */
const TRAILER_WINDOW = 1 << 16

/**
 * Reads a snapshot's trailer only — its stream, batch, codecs and entry count — for tools
 * that show a checkpoint: its own checksum is verified, the entries are not (that takes
 * reading the whole file; the stream does it when it loads the snapshot).
 */
export async function readStateSnapshotSummary(file: string): Promise<StateSnapshotSummary> {
  let text: string
  let bytes: number
  try {
    const handle = await open(file, 'r')
    try {
      bytes = (await handle.stat()).size
      const length = Math.min(bytes, TRAILER_WINDOW)
      const buffer = Buffer.alloc(length)
      await handle.read(buffer, 0, length, bytes - length)
      text = buffer.toString('utf8')
    } finally {
      await handle.close()
    }
  } catch (error) {
    throw unusableSnapshot(file, `could not be read: ${messageOf(error)}`, error)
  }
  if (!text.endsWith('\n')) {
    throw unusableSnapshot(file, 'is truncated: it does not end with a complete trailer line')
  }
  const line = text.slice(text.lastIndexOf('\n', text.length - 2) + 1, -1)
  const trailer = parseTrailer(file, line)
  return { ...trailer.header, entries: trailer.entries, bytes }
}

/** Why an entry line is not `[key, state]` or `[key, state, seenBatch, seenTime]`, if it is not. */
function entryProblem(line: string): string | undefined {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    return 'is not valid JSON'
  }
  if (!Array.isArray(value) || (value.length !== 2 && value.length !== 4)) {
    return 'must be [key, state] or [key, state, seenBatch, seenTime]'
  }
  if (value.length === 4 && !(Number.isSafeInteger(value[2]) && Number.isSafeInteger(value[3]))) {
    return 'has a seenBatch or seenTime that is not an integer'
  }
  return undefined
}

interface Trailer {
  readonly header: StateSnapshotHeader
  readonly entries: number
  readonly entriesSha256: string
}

function parseTrailer(file: string, line: string): Trailer {
  let parsed: unknown
  try {
    parsed = JSON.parse(line)
  } catch (error) {
    throw unusableSnapshot(file, 'is truncated or damaged: its trailer line is not valid JSON', error)
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw unusableSnapshot(file, 'is damaged: its trailer line is not a JSON object')
  }
  const { checksum, ...payload } = parsed as JsonObject
  if (payload.format !== STATE_SNAPSHOT_FORMAT) {
    throw unusableSnapshot(file, `is not a state snapshot (format ${describeValue(payload.format)})`)
  }
  if (payload.version !== STATE_SNAPSHOT_VERSION) {
    throw unusableSnapshot(
      file,
      `has format version ${describeValue(payload.version)}, but this sluice reads version ${STATE_SNAPSHOT_VERSION}`,
    )
  }
  if (checksum !== checksumOf(payload)) {
    throw unusableSnapshot(
      file,
      'failed its integrity check (sha256 mismatch in its trailer: edited or damaged)',
    )
  }
  const { stream, batchId, batchTime, entries, keyCodec, stateCodec, entriesSha256 } = payload
  const integer = (value: unknown) => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
  if (
    typeof stream !== 'string' ||
    !integer(batchId) ||
    !integer(batchTime) ||
    !integer(entries) ||
    typeof keyCodec !== 'string' ||
    typeof stateCodec !== 'string' ||
    typeof entriesSha256 !== 'string'
  ) {
    throw unusableSnapshot(file, 'is malformed: its trailer lacks a field or has one of the wrong type')
  }
  return {
    header: {
      stream,
      batchId: batchId as number,
      batchTime: batchTime as number,
      keyCodec,
      stateCodec,
    },
    entries: entries as number,
    entriesSha256,
  }
}
