/** Small formatting helpers every renderer shares, so a figure reads the same in each format. */
import type { ConnectionReport, KeepaliveSettings, Side } from '../analysis/model.js';

/**
 * Up to `digits` decimals, trailing zeros dropped: 1.010 → "1.01", 2.000 → "2". (What
 * `.replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '')` does, without two regular expressions per
 * figure: the text report writes several per probe.)
 */
export function trimmed(x: number, digits: number): string {
  const s = x.toFixed(digits);
  if (s.indexOf('.') < 0) return s;
  let end = s.length;
  while (s.charCodeAt(end - 1) === 48) end--; // '0', never past the '.'
  if (s.charCodeAt(end - 1) === 46) end--; // '.'
  return end === s.length ? s : s.slice(0, end);
}

/** A duration for people: "27 µs", "12.5 ms", "1.024 s", "7200 s". */
export function seconds(x: number | null): string {
  if (x === null) return '?';
  const a = Math.abs(x);
  if (a === 0) return '0 s';
  if (a < 0.001) return `${trimmed(x * 1e6, 0)} µs`;
  if (a < 1) return `${trimmed(x * 1000, 1)} ms`;
  if (a < 100) return `${trimmed(x, 3)} s`;
  return `${trimmed(x, 0)} s`;
}

/** Seconds as a plain number for machine-readable cells ("" for null). */
export function plainNumber(x: number | null): string {
  return x === null ? '' : String(x);
}

/** "3", "≥ 1" (a lower bound: the prober never gave up in the capture), or "?". */
export function countText(s: KeepaliveSettings): string {
  if (s.count !== null) return String(s.count);
  if (s.countAtLeast !== null) return `≥ ${s.countAtLeast}`;
  return '?';
}

export function styleText(s: KeepaliveSettings): string {
  switch (s.style) {
    case 'linux':
      return 'empty probes, as Linux sends';
    case 'windows':
      return 'one-byte probes, as Windows sends';
    default:
      return 'both empty and one-byte probes';
  }
}

/**
 * Seconds between two ISO-8601 times of the report ("2026-11-22T03:30:33.431607000Z"),
 * computed on whole seconds and fractions apart so nanoseconds survive.
 */
export function secondsBetween(from: string, to: string): number {
  const [fs, ff] = splitIso(from);
  const [ts, tf] = splitIso(to);
  return ts - fs + (tf - ff);
}

/** Where "YYYY-MM-DDTHH:MM:SS" has its separators; every other of its 19 characters is a digit. */
const ISO_SEPARATORS: Record<number, number> = { 4: 45, 7: 45, 10: 84, 13: 58, 16: 58 }; // - - T : :

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** Does `iso` match /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z$/ (the report's own times)? */
function reportTime(iso: string): boolean {
  const n = iso.length;
  if (n < 20 || iso.charCodeAt(n - 1) !== 90) return false; // Z
  for (let i = 0; i < 19; i++) {
    const code = iso.charCodeAt(i);
    const sep = ISO_SEPARATORS[i];
    if (sep !== undefined ? code !== sep : !isDigit(code)) return false;
  }
  if (n === 20) return true;
  if (n === 21 || iso.charCodeAt(19) !== 46) return false; // '.' and at least one digit
  for (let i = 20; i < n - 1; i++) if (!isDigit(iso.charCodeAt(i))) return false;
  return true;
}

/** Seconds since 1970 of recent "YYYY-MM-DDTHH:MM:SS" texts (a report names the same few seconds again and again). */
const wholeSeconds = new Map<string, number>();

/** How isoTime writes a time beyond any calendar (a damaged timestamp): "<seconds>.<9 digits>s since 1970 (…)". */
const BEYOND_CALENDAR = /^(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\.(\d{9})s since 1970 \(out of calendar range\)$/;

function splitIso(iso: string): [number, number] {
  if (!reportTime(iso)) {
    // Times beyond the calendar still subtract (their ladder is drawn, not NaN).
    const beyond = BEYOND_CALENDAR.exec(iso);
    if (beyond !== null) return [Number(beyond[1]), Number(`0.${beyond[2]}`)];
    const ms = Date.parse(iso);
    return [Math.floor(ms / 1000), (ms % 1000) / 1000];
  }
  const day = iso.slice(0, 19);
  let sec = wholeSeconds.get(day);
  if (sec === undefined) {
    if (wholeSeconds.size >= 4096) wholeSeconds.clear();
    sec = Date.parse(`${day}Z`) / 1000;
    wholeSeconds.set(day, sec);
  }
  return [sec, iso.length === 20 ? 0 : Number(`0.${iso.slice(20, -1)}`)];
}

/** The side that sent probes, when exactly one did; "both" or null otherwise. */
export function proberOf(keepalive: { client: KeepaliveSettings | null; server: KeepaliveSettings | null }): Side | 'both' | null {
  if (keepalive.client !== null && keepalive.server !== null) return 'both';
  if (keepalive.client !== null) return 'client';
  if (keepalive.server !== null) return 'server';
  return null;
}

export function peerOf(side: Side): Side {
  return side === 'client' ? 'server' : 'client';
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * Every probe of a connection and how each was answered, counting those the report does not
 * list (a connection with more than a thousand keeps only the first and last 500).
 */
export function probeCounts(c: Pick<ConnectionReport, 'keepalive' | 'probes' | 'probesOmitted'>): { total: number; ack: number; rst: number; none: number } {
  const a = c.keepalive.client;
  const b = c.keepalive.server;
  if (a === null && b === null) return { total: c.probes.length, ack: 0, rst: 0, none: 0 };
  const total = (a?.probes ?? 0) + (b?.probes ?? 0);
  const ack = (a?.acked ?? 0) + (b?.acked ?? 0);
  const none = (a?.unanswered ?? 0) + (b?.unanswered ?? 0);
  return { total, ack, rst: total - ack - none, none };
}
