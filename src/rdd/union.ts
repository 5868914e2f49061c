import { ErrorCodes, SluiceError } from '../core/errors.ts'
import type { LineageStep } from './lineage-step.ts'
import type { Rdd } from './rdd.ts'

/** A UnionRdd: the parents' partitions one after another, nothing moved or merged. */
export function unionStep<T>(rdds: readonly Rdd<T>[]): LineageStep<T> {
  const starts: number[] = []
  let numPartitions = 0
  for (const rdd of rdds) {
    starts.push(numPartitions)
    numPartitions += rdd.numPartitions
  }

  const locate = (partition: number): { parent: Rdd<T>; local: number } => {
    for (let i = rdds.length - 1; i >= 0; i--) {
      const start = starts[i]!
      const parent = rdds[i]!
      if (partition >= start && partition < start + parent.numPartitions) {
        return { parent, local: partition - start }
      }
    }
    throw new SluiceError(
      ErrorCodes.INVALID_ARGUMENT,
      `UnionRdd has no partition ${partition} (it has ${numPartitions})`,
      { details: { partition, numPartitions } },
    )
  }

  return {
    name: 'UnionRdd',
    parents: rdds,
    numPartitions,
    computeChunks: (partition, ctx) => {
      const { parent, local } = locate(partition)
      return parent.computeChunks(local, ctx)
    },
    describePartition: (partition) => {
      const { parent, local } = locate(partition)
      return `partition ${partition} (${parent} ${parent.describePartition(local)})`
    },
  }
}
