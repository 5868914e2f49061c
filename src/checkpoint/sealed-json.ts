import { createHash } from 'node:crypto'
import {
  CHECKPOINT_FORMAT_VERSION,
  damagedFile,
  READABLE_FORMAT_VERSIONS,
  unknownFormatVersion,
} from './checkpoint-errors.ts'
import { canonicalJson, type JsonObject } from './json-value.ts'

/**
 * A checkpoint file is a JSON object with a `version` and a `checksum` over everything
 * else. The checksum covers the canonical form (sorted keys, no whitespace), so the file
 * itself can stay pretty-printed for humans while any edit or truncation is caught.
 */
const CHECKSUM_PREFIX = 'sha256:'

function checksumOf(payload: JsonObject): string {
  return CHECKSUM_PREFIX + createHash('sha256').update(canonicalJson(payload)).digest('hex')
}

/** Text of a checkpoint file holding `fields`, stamped with the format version and checksum. */
export function seal(fields: JsonObject): string {
  const payload: JsonObject = { version: CHECKPOINT_FORMAT_VERSION, ...fields }
  return `${JSON.stringify({ ...payload, checksum: checksumOf(payload) }, null, 2)}\n`
}

/** A checkpoint file's fields (without `version` and `checksum`) and the format it was written in. */
export interface Unsealed {
  readonly version: number
  readonly fields: JsonObject
}

/**
 * The fields of a checkpoint file after checking that it parses, has a format version this
 * code reads, and matches its checksum. The version is checked first: a future format may
 * checksum differently, and "unknown version" is the more useful message then.
 */
export function unseal(text: string, file: string, dir: string): Unsealed {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw damagedFile(file, dir, 'is not valid JSON (truncated or damaged)', error)
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw damagedFile(file, dir, 'does not hold a JSON object')
  }
  const { checksum, ...payload } = parsed as JsonObject
  if (payload.version === undefined) throw damagedFile(file, dir, 'has no format version')
  const { version } = payload
  if (typeof version !== 'number' || !READABLE_FORMAT_VERSIONS.includes(version)) {
    throw unknownFormatVersion(file, dir, version)
  }
  if (typeof checksum !== 'string') throw damagedFile(file, dir, 'has no checksum')
  if (checksum !== checksumOf(payload)) {
    throw damagedFile(file, dir, 'failed its integrity check (sha256 mismatch: edited or damaged)')
  }
  const { version: _version, ...fields } = payload
  return { version, fields }
}
