import { FieldReader } from './field-reader.ts'
import type { JsonObject } from './json-value.ts'
import { unseal } from './sealed-json.ts'

/** An entry of the offset or commit log, checksum verified, with the batch id it records. */
export interface OpenedBatchEntry {
  /** The format the entry was written in. */
  readonly version: number
  readonly fields: JsonObject
  readonly read: FieldReader
  readonly batchId: number
}

/**
 * The common first steps of reading a log entry: verify its seal, then check that it records
 * the batch its file name says (a file copied or renamed by hand would otherwise replay the
 * wrong batch).
 */
export function openBatchEntry(
  text: string,
  file: string,
  dir: string,
  expectedBatchId: number,
): OpenedBatchEntry {
  const { version, fields } = unseal(text, file, dir)
  const read = new FieldReader(file, dir)
  const batchId = read.nonNegativeInteger(fields.batchId, 'batchId')
  if (batchId !== expectedBatchId) {
    throw read.problem(`it records batch ${batchId} but is named ${expectedBatchId}`)
  }
  return { version, fields, read, batchId }
}
