/** Sequence-number arithmetic modulo 2^32 (RFC 1982 serial numbers, as TCP uses them). */

export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** a − b as a signed distance in (−2^31, 2^31]. */
export function seqDiff(a: number, b: number): number {
  return ((a - b) | 0);
}

export function seqGt(a: number, b: number): boolean {
  return seqDiff(a, b) > 0;
}
