/**
 * Fixed-size keepers, so that what one connection holds does not grow with its packets: a
 * connection probing every second for a week keeps the same memory as one probing for a minute.
 */

let scratch = new Float64Array(256);
/** SampleRing.medianDistance's work buffer (medianOf sorts a copy of it in `scratch`). */
let distances = new Float64Array(256);

/**
 * Median of the first `n` values (all by default), without allocating: they are copied into a
 * reused buffer and insertion-sorted there (a few hundred values at most; Array#sort makes a
 * work array on every call, and reports take several medians per connection).
 */
export function medianOf(values: ArrayLike<number>, n = values.length): number {
  if (n === 0) return Number.NaN;
  if (scratch.length < n) scratch = new Float64Array(n);
  const s = scratch;
  for (let i = 0; i < n; i++) {
    const x = values[i]!;
    let j = i - 1;
    while (j >= 0 && s[j]! > x) {
      s[j + 1] = s[j]!;
      j--;
    }
    s[j + 1] = x;
  }
  const m = n >> 1;
  return n % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * The most recent `capacity` samples of a timing (medians are taken over them), and how many
 * there were. Grows as samples come (most connections have none or a few), then wraps.
 */
export class SampleRing {
  count = 0;
  /** Values kept: values[0..kept); the array is never shrunk, so a reused ring allocates nothing. */
  private kept = 0;
  private readonly values: number[] = [];

  constructor(readonly capacity = 256) {}

  push(x: number): void {
    if (this.kept < this.capacity) {
      if (this.kept < this.values.length) this.values[this.kept] = x;
      else this.values.push(x);
      this.kept++;
    } else this.values[this.count % this.capacity] = x;
    this.count++;
  }

  /** Empty it, to be filled again (the finished connection's rings are reused). */
  clear(): void {
    this.count = 0;
    this.kept = 0;
  }

  /** Median of the kept samples (NaN when none). */
  median(): number {
    return medianOf(this.values, this.kept);
  }

  /** Median distance of the kept samples from `center` (NaN when none), without allocating. */
  medianDistance(center: number): number {
    if (distances.length < this.kept) distances = new Float64Array(this.kept);
    const values = this.values;
    for (let i = 0; i < this.kept; i++) distances[i] = Math.abs(values[i]! - center);
    return medianOf(distances, this.kept);
  }

  /** Is every kept sample within `rel` × center + `abs` of `center`? */
  allNear(center: number, rel: number, abs: number): boolean {
    const values = this.values;
    for (let i = 0; i < this.kept; i++) if (Math.abs(values[i]! - center) > rel * center + abs) return false;
    return true;
  }

  /** Samples kept (at most `capacity`). */
  get size(): number {
    return this.kept;
  }

  /** Doubles `writeTo` takes: the count, the number kept, the values kept. */
  get encodedLength(): number {
    return 2 + this.kept;
  }

  /** The ring as doubles into `out` from `at` (the thread that makes reports reads it back); returns the offset after. */
  writeTo(out: Float64Array, at: number): number {
    out[at] = this.count;
    out[at + 1] = this.kept;
    const values = this.values;
    for (let i = 0; i < this.kept; i++) out[at + 2 + i] = values[i]!;
    return at + 2 + this.kept;
  }

  /** The ring as `writeTo` wrote it at `at`, values in the same slots; returns the offset after. */
  readFrom(src: Float64Array, at: number): number {
    const kept = src[at + 1]!;
    this.clear();
    for (let i = 0; i < kept; i++) this.push(src[at + 2 + i]!);
    this.count = src[at]!;
    return at + 2 + kept;
  }
}

/** How many values of each ring InlineRings keeps in the caller's slab. */
export const INLINE_VALUES = 4;

/**
 * Rings of recent values for many owners at once (the connection table's directions), without
 * an object per owner: the first INLINE_VALUES values of each ring sit in the caller's slab of
 * doubles, and a ring that gets more moves to an array, then keeps the most recent `capacity`
 * as SampleRing does. Most owners never spill.
 */
export class InlineRings {
  /** spills[ring][owner]: the ring's values once it outgrew the slab. */
  private readonly spills: (number[] | null)[][];

  constructor(
    rings: number,
    readonly capacity: number,
  ) {
    this.spills = Array.from({ length: rings }, () => []);
  }

  /** Room for `owners` owners. */
  grow(owners: number): void {
    for (let r = 0; r < this.spills.length; r++) {
      const spill = this.spills[r]!;
      if (spill.length < owners) this.spills[r] = spill.concat(new Array<null>(owners - spill.length).fill(null));
    }
  }

  /** Forget owner `d`'s spilled values (its inline ones are the caller's to clear). */
  clear(d: number): void {
    for (const spill of this.spills) spill[d] = null;
  }

  /** Keep x as the n-th value (from 0) of owner d's ring `ring`, whose inline values start at S[at]. */
  keep(S: Float64Array, at: number, d: number, ring: number, n: number, x: number): void {
    if (n < INLINE_VALUES) {
      S[at + n] = x;
      return;
    }
    const spill = this.spills[ring]!;
    let values = spill[d] ?? null;
    if (values === null) {
      values = [];
      for (let i = 0; i < INLINE_VALUES; i++) values.push(S[at + i]!);
      spill[d] = values;
    }
    if (values.length < this.capacity) values.push(x);
    else values[n % this.capacity] = x;
  }

  /** Fill `into` with the ring (n pushed so far), in the order pushed while it has not wrapped. */
  load(S: Float64Array, at: number, d: number, ring: number, n: number, into: SampleRing): void {
    into.clear();
    if (n === 0) return;
    const spilled = this.spills[ring]![d] ?? null;
    if (spilled !== null) {
      // The slots as they stand; SampleRing's medians and bounds do not depend on the order.
      for (let i = 0; i < spilled.length; i++) into.push(spilled[i]!);
    } else {
      for (let i = 0; i < n && i < INLINE_VALUES; i++) into.push(S[at + i]!);
    }
    into.count = n;
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

  /** These items, kept as `push` kept them, with `omitted` more that were counted only. */
  static of<T>(items: readonly T[], omitted: number, head = 500, tail = 500): HeadTail<T> {
    const h = new HeadTail<T>(head, tail);
    for (const x of items) h.push(x);
    h.total += omitted;
    return h;
  }
}
