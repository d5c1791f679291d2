// The local executor's queue: higher priority first, first-in first-out within a priority.
// One array-backed FIFO per distinct priority, so push, first and remove are O(1) amortized
// (remove marks a slot dead; dead slots are skipped and compacted away lazily).

/** A queued item's place in the queue; pass it back to `remove`. */
export interface QueueSlot<T> {
  readonly item: T;
  readonly priority: number;
  live: boolean;
}

interface Bucket<T> {
  slots: Array<QueueSlot<T>>;
  head: number;
  live: number;
}

/** Compact a bucket's array once this many dead slots sit before its head (and they are at least half of it). */
const COMPACT_AFTER = 1024;

/** A priority queue of FIFOs: `first()` is the oldest item of the highest priority. */
export class PriorityFifo<T> {
  private readonly buckets = new Map<number, Bucket<T>>();
  /** Priorities that have live items, highest first. */
  private readonly priorities: number[] = [];
  private liveCount = 0;

  /** Live items in the queue. */
  get size(): number {
    return this.liveCount;
  }

  /** Appends an item behind every other item of its priority. */
  push(item: T, priority: number): QueueSlot<T> {
    let bucket = this.buckets.get(priority);
    if (!bucket) {
      bucket = { slots: [], head: 0, live: 0 };
      this.buckets.set(priority, bucket);
      this.priorities.splice(this.insertionIndex(priority), 0, priority);
    }
    const slot: QueueSlot<T> = { item, priority, live: true };
    bucket.slots.push(slot);
    bucket.live++;
    this.liveCount++;
    return slot;
  }

  /** The oldest live item of the highest priority, without removing it. */
  first(): QueueSlot<T> | undefined {
    const priority = this.priorities[0];
    if (priority === undefined) return undefined;
    const bucket = this.buckets.get(priority)!;
    this.skipDead(bucket);
    return bucket.slots[bucket.head];
  }

  /** Removes a live slot (anywhere in the queue); removing a dead slot does nothing. */
  remove(slot: QueueSlot<T>): void {
    if (!slot.live) return;
    slot.live = false;
    this.liveCount--;
    const bucket = this.buckets.get(slot.priority)!;
    bucket.live--;
    if (bucket.live === 0) {
      this.buckets.delete(slot.priority);
      this.priorities.splice(this.priorities.indexOf(slot.priority), 1);
    } else {
      this.skipDead(bucket);
    }
  }

  /**
   * The first live slot after the head that satisfies `accept`, examining at most `budget` slots
   * (dead ones included) so the search stays bounded however long the queue is.
   */
  findBehindFirst(budget: number, accept: (item: T) => boolean): QueueSlot<T> | undefined {
    let remaining = budget;
    let seenHead = false;
    for (const priority of this.priorities) {
      const bucket = this.buckets.get(priority)!;
      for (let i = bucket.head; i < bucket.slots.length; i++) {
        if (remaining-- <= 0) return undefined;
        const slot = bucket.slots[i]!;
        if (!slot.live) continue;
        if (!seenHead) seenHead = true;
        else if (accept(slot.item)) return slot;
      }
    }
    return undefined;
  }

  /** Calls `visit` for every live item in queue order; `visit` must not change the queue. */
  forEach(visit: (item: T) => void): void {
    for (const priority of this.priorities) {
      const bucket = this.buckets.get(priority)!;
      for (let i = bucket.head; i < bucket.slots.length; i++) {
        const slot = bucket.slots[i]!;
        if (slot.live) visit(slot.item);
      }
    }
  }

  /** Removes every item, returning them in queue order. */
  drain(): T[] {
    const items: T[] = [];
    for (const priority of this.priorities) {
      const bucket = this.buckets.get(priority)!;
      for (let i = bucket.head; i < bucket.slots.length; i++) {
        const slot = bucket.slots[i]!;
        if (!slot.live) continue;
        slot.live = false;
        items.push(slot.item);
      }
    }
    this.buckets.clear();
    this.priorities.length = 0;
    this.liveCount = 0;
    return items;
  }

  private skipDead(bucket: Bucket<T>): void {
    while (bucket.head < bucket.slots.length && !bucket.slots[bucket.head]!.live) bucket.head++;
    if (bucket.head >= COMPACT_AFTER && bucket.head * 2 >= bucket.slots.length) {
      bucket.slots = bucket.slots.slice(bucket.head);
      bucket.head = 0;
    }
  }

  /** Where `priority` goes in the descending list (binary search). */
  private insertionIndex(priority: number): number {
    let low = 0;
    let high = this.priorities.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.priorities[mid]! > priority) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
