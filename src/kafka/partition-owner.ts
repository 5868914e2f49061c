/**
 * Who may write a batch's partitions when several processes share a topic: the fencing token
 * a batch carries to its sink. The SQL sink stores it per partition and requires it of every
 * batch; the Kafka sink sends it with the batch's transactional offset commit (KIP-447), where
 * the group coordinator checks it. A process that lost its partitions holds an older token, so
 * its late batches are refused.
 */
export interface PartitionOwner {
  /**
   * 'group': a member of a Kafka consumer group (the token is the group's generation);
   * 'split': an instance of a static split (the token is the deployment's epoch).
   */
  readonly kind: 'group' | 'split'
  /** The consumer group (kind 'group'); for a split, the label of the deployment (`split-<instances>`). */
  readonly groupId: string
  /**
   * The group generation the partitions were assigned in, or the split's deployment epoch.
   * A new owner raises it; a batch that finds a higher one was overtaken.
   */
  readonly generation: number
  /**
   * The coordinator's member id, or a split instance's id for this run of the process. Within
   * one generation a newer member of the same instance (a static member restarted, a split
   * instance restarted) takes the partitions over from the older one.
   */
  readonly memberId: string
  /** The static member's `group.instance.id`, if it has one. */
  readonly instanceId?: string | undefined
}

/** `group 'wc' generation 7 member m-1` — for messages. */
export function describeOwner(owner: PartitionOwner): string {
  return owner.kind === 'group'
    ? `member '${owner.memberId}' of group '${owner.groupId}' (generation ${owner.generation})`
    : `instance '${owner.memberId}' of ${owner.groupId} (epoch ${owner.generation})`
}
