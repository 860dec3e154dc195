/**
 * Fixed-size keepers, so that what one connection holds does not grow with its packets: a
 * connection probing every second for a week keeps the same memory as one probing for a minute.
 */

/** The most recent `capacity` samples of a timing (medians are taken over them), and how many there were. */
export class SampleRing {
  count = 0;
  private readonly values: Float64Array;

  constructor(readonly capacity = 256) {
    this.values = new Float64Array(capacity);
  }

  push(x: number): void {
    this.values[this.count % this.capacity] = x;
    this.count++;
  }

  /** The kept samples (order not significant). */
  kept(): number[] {
    return Array.from(this.values.subarray(0, Math.min(this.count, this.capacity)));
  }
}

/** The first `head` items and the last `tail`, with the count of those in between. */
export class HeadTail<T> {
  total = 0;
  private readonly first: T[] = [];
  private readonly last: T[] = [];

  constructor(
    readonly head = 500,
    readonly tail = 500,
  ) {}

  push(x: T): void {
    this.total++;
    if (this.first.length < this.head) this.first.push(x);
    else {
      if (this.last.length === this.tail) this.last.shift();
      this.last.push(x);
    }
  }

  /** Kept items in order. */
  items(): T[] {
    return [...this.first, ...this.last];
  }

  get omitted(): number {
    return this.total - this.first.length - this.last.length;
  }
}
