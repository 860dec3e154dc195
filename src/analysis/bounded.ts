/**
 * Fixed-size keepers, so that what one connection holds does not grow with its packets: a
 * connection probing every second for a week keeps the same memory as one probing for a minute.
 */

/**
 * The most recent `capacity` samples of a timing (medians are taken over them), and how many
 * there were. Grows as samples come (most connections have none or a few), then wraps.
 */
export class SampleRing {
  count = 0;
  private readonly values: number[] = [];

  constructor(readonly capacity = 256) {}

  push(x: number): void {
    if (this.values.length < this.capacity) this.values.push(x);
    else this.values[this.count % this.capacity] = x;
    this.count++;
  }

  /** The kept samples (order not significant). */
  kept(): number[] {
    return this.values.slice();
  }
}

/** The first `head` items and the last `tail`, with the count of those in between. */
export class HeadTail<T> {
  total = 0;
  private readonly first: T[] = [];
  /** Made when the head is full (most connections never get there). */
  private last: T[] | null = null;

  constructor(
    readonly head = 500,
    readonly tail = 500,
  ) {}

  push(x: T): void {
    this.total++;
    if (this.first.length < this.head) this.first.push(x);
    else {
      const last = (this.last ??= []);
      if (last.length === this.tail) last.shift();
      last.push(x);
    }
  }

  /** Kept items in order. */
  items(): T[] {
    return this.last === null ? this.first.slice() : [...this.first, ...this.last];
  }

  get omitted(): number {
    return this.total - this.first.length - (this.last?.length ?? 0);
  }
}
