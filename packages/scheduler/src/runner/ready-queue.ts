/** A binary heap of items ordered by higher priority first, then insertion order (FIFO). */
export class ReadyQueue<T> {
  private readonly items: Array<{ priority: number; seq: number; value: T }> = [];
  private seq = 0;

  get size(): number {
    return this.items.length;
  }

  push(value: T, priority: number): void {
    const items = this.items;
    items.push({ priority, seq: this.seq++, value });
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): T | undefined {
    const items = this.items;
    if (items.length === 0) return undefined;
    const top = items[0]!;
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let best = i;
        if (left < items.length && this.before(left, best)) best = left;
        if (right < items.length && this.before(right, best)) best = right;
        if (best === i) break;
        this.swap(i, best);
        i = best;
      }
    }
    return top.value;
  }

  /** Removes every item matching `predicate`; returns them. */
  removeWhere(predicate: (value: T) => boolean): T[] {
    const kept = this.items.filter((item) => !predicate(item.value));
    const removed = this.items.filter((item) => predicate(item.value)).map((item) => item.value);
    this.items.length = 0;
    for (const item of kept.sort((a, b) => b.priority - a.priority || a.seq - b.seq)) this.items.push(item);
    return removed;
  }

  private before(a: number, b: number): boolean {
    const x = this.items[a]!;
    const y = this.items[b]!;
    return x.priority > y.priority || (x.priority === y.priority && x.seq < y.seq);
  }

  private swap(a: number, b: number): void {
    const items = this.items;
    const tmp = items[a]!;
    items[a] = items[b]!;
    items[b] = tmp;
  }
}
