/**
 * From a finalised connection's bookkeeping to its report: the probe timeline, the settings
 * each side's probes reveal, and the verdict.
 */
import { FATE_ALIVE, FATE_DEAD, FATE_RESET, FATE_WAITING, type Connection, type Direction, type ProbeRecord } from './flows.js';
import { SampleRing } from './bounded.js';
import { heartbeatOf } from './heartbeat.js';
import { connectionFindings, DEFAULT_MIDDLEBOX_TIMEOUT, type LintOptions } from './lint.js';
import type { Confidence, ConnectionReport, KeepaliveSettings, Probe, Side, Verdict } from './model.js';
import { seconds } from '../report/units.js';

/** Known defaults: idle, interval, count (primer: "The three knobs"). */
const KNOWN_DEFAULTS = [
  { name: 'linux', idle: 7200, interval: 75, count: 9 },
  { name: 'windows', idle: 7200, interval: 1, count: 10 },
  { name: 'macos', idle: 7200, interval: 75, count: 8 },
] as const;

let isoDay = Number.NaN;
let isoDate = '';

/** "00" … "99". */
const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : `${i}`));
/** Zeros that pad a nanosecond count of n digits to nine: ZEROS[9 - n]. */
const ZEROS = Array.from({ length: 10 }, (_, i) => '0'.repeat(i));

function two(n: number): string {
  return TWO_DIGITS[n] ?? (n < 10 ? `0${n}` : `${n}`);
}

/** Largest |seconds| a JavaScript Date holds (±8.64e15 ms, ECMA-262 §21.4.1.1). */
const MAX_DATE_SECONDS = 8.64e12;

/** "YYYY-MM-DDTHH:MM:SS." of recent seconds, direct-mapped: a report names the same few seconds again and again. */
const SECOND_CACHE = 1024;
const secondKeys = new Float64Array(SECOND_CACHE).fill(Number.NaN);
const secondTexts: string[] = new Array<string>(SECOND_CACHE).fill('');

function isoSecond(sec: number): string {
  const i = sec & (SECOND_CACHE - 1);
  if (secondKeys[i] === sec) return secondTexts[i]!;
  const day = Math.floor(sec / 86400);
  if (day !== isoDay) {
    isoDay = day;
    isoDate = new Date(day * 86400 * 1000).toISOString().split('T')[0]!;
  }
  const t = sec - day * 86400;
  const text = `${isoDate}T${two(Math.floor(t / 3600))}:${two(Math.floor(t / 60) % 60)}:${two(t % 60)}.`;
  secondKeys[i] = sec;
  secondTexts[i] = text;
  return text;
}

/**
 * ISO-8601 UTC with nanoseconds. The text of each second is cached (UTC has no leap seconds in
 * POSIX time, so the time of day is plain arithmetic). A corrupt timestamp beyond any calendar
 * (a damaged if_tsresol, say) is written as seconds since 1970 instead, so the report still says
 * what the file held.
 */
export function isoTime(sec: number, nsec: number): string {
  if (!(Math.abs(sec) <= MAX_DATE_SECONDS)) return `${sec}.${String(nsec).padStart(9, '0')}s since 1970 (out of calendar range)`;
  const ns = String(nsec);
  return `${isoSecond(sec)}${ns.length >= 9 ? ns : ZEROS[9 - ns.length]! + ns}Z`;
}

/** Seconds, rounded to the microsecond for the report. */
export function roundSeconds(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function median(ring: SampleRing): number {
  return ring.median();
}

/** high: 3+ samples within 10 % of their median; medium: 1–2 samples; low: samples disagree. */
function confidenceOf(ring: SampleRing): Confidence {
  if (ring.size === 0) return 'none';
  if (!ring.allNear(ring.median(), 0.1, 0.005)) return 'low';
  return ring.size >= 3 ? 'high' : 'medium';
}

function near(x: number | null, want: number): boolean {
  return x !== null && Math.abs(x - want) <= 0.1 * want;
}

/** Gaps longer than idle by this much (relative, plus timer slack) reveal the interval. */
function clearlyLonger(x: number, than: number): boolean {
  return x > than * 1.1 + 0.01;
}

/** "over 5.04 s and up to 7.05 s", or "up to 7.05 s" after a single probe, in the given units. */
export function userTimeoutRange(u: { above: number; atMost: number }, unit: (x: number) => string = secs): string {
  return u.above > 0 ? `over ${unit(u.above)} and up to ${unit(u.atMost)}` : `up to ${unit(u.atMost)}`;
}

/** The user timeouts that end probing where a prober gave up, in words. */
export function userTimeoutText(u: { above: number; atMost: number }): string {
  return `a TCP_USER_TIMEOUT ${userTimeoutRange(u)} (from the last segment received) stops Linux probing here too, whatever TCP_KEEPCNT is`;
}

export function inferSettings(dir: Direction): KeepaliveSettings | null {
  if (dir.probes === 0) return null;
  const fresh = dir.idleSamples;
  const afterAnswer = dir.afterAnswerSamples;
  const retries = dir.intervalSamples;
  const unknown: KeepaliveSettings['unknown'] = {};
  const notes: string[] = [];
  const answeredGap = afterAnswer.count > 0 ? median(afterAnswer) : null;

  let interval: number | null = null;
  let intervalConfidence: Confidence = 'none';
  let intervalAtMost: number | null = null;
  if (retries.count > 0) {
    interval = median(retries);
    intervalConfidence = confidenceOf(retries);
  }

  let idle: number | null = null;
  let idleConfidence: Confidence = 'none';
  if (fresh.count > 0) {
    idle = median(fresh);
    idleConfidence = confidenceOf(fresh);
  } else if (answeredGap !== null && (interval === null || clearlyLonger(answeredGap, interval))) {
    // Only gaps after answered probes: they are max(idle, interval), and most likely idle.
    idle = answeredGap;
    idleConfidence = 'low';
    notes.push(`idle measured only after answered probes, where Linux waits max(idle, interval): ${secs(answeredGap)} is the larger of the two`);
  } else if (answeredGap !== null) {
    unknown.idle = `probes came only after answered probes, every ${secs(answeredGap)} (= the interval), so idle is at most that`;
  } else {
    unknown.idle = 'no probe followed a captured segment from the peer (the capture starts mid-episode)';
  }

  if (interval === null && answeredGap !== null && idle !== null && fresh.count > 0) {
    if (clearlyLonger(answeredGap, idle)) {
      // Answered probes came further apart than idle: Linux waited out the interval.
      interval = answeredGap;
      intervalConfidence = confidenceOf(afterAnswer) === 'high' ? 'medium' : 'low';
      notes.push(`interval seen as the gap after answered probes (${secs(answeredGap)}, longer than idle): Linux waits max(idle, interval) after an answered probe`);
    } else {
      intervalAtMost = roundSeconds(answeredGap);
    }
  }
  if (interval === null) {
    unknown.interval =
      intervalAtMost !== null
        ? `every probe was answered; answered probes came every ${secs(intervalAtMost)}, so the interval is at most that`
        : 'every probe was answered, so the retry interval never showed';
  }

  const count = dir.gaveUpAfter > 0 ? dir.gaveUpAfter : null;
  if (count === null) {
    unknown.count =
      dir.fate === FATE_WAITING
        ? `the capture ended after ${dir.probeOrdinal} unanswered probe(s), before the prober gave up`
        : 'the prober never gave up within the capture';
  }
  const style = dir.oneByteProbes === 0 ? 'linux' : dir.emptyProbes === 0 ? 'windows' : 'mixed';
  // Linux gives up when TCP_USER_TIMEOUT (if set) has passed since the last segment received,
  // checked at each keepalive tick once a probe is out (tcp_keepalive_timer), and then ignores
  // TCP_KEEPCNT: the same wire as a count. Seen on the ka-user-timeout recording.
  let userTimeout: KeepaliveSettings['userTimeout'] = null;
  if (count !== null && style === 'linux' && Number.isFinite(dir.gaveUpElapsed)) {
    const above = count >= 2 && Number.isFinite(dir.lastProbeElapsed) ? roundSeconds(dir.lastProbeElapsed) : 0;
    userTimeout = { above, atMost: roundSeconds(dir.gaveUpElapsed) };
    notes.push(`not necessarily TCP_KEEPCNT ${count}: ${userTimeoutText(userTimeout)}`);
  }
  const idleR = idle === null ? null : roundSeconds(idle);
  const intervalR = interval === null ? null : roundSeconds(interval);
  let defaults: KeepaliveSettings['defaults'] = null;
  for (const d of KNOWN_DEFAULTS) {
    if (near(idleR, d.idle) && (intervalR === null || near(intervalR, d.interval)) && (count === null || count === d.count)) {
      // Windows and Linux share the idle; only the interval or count tells them apart.
      if (intervalR === null && count === null && d.name !== 'linux') continue;
      defaults = d.name;
      break;
    }
  }
  return {
    idle: idleR,
    interval: intervalR,
    intervalAtMost,
    count,
    countAtLeast: dir.maxOrdinal > 0 ? dir.maxOrdinal : null,
    userTimeout,
    style,
    defaults,
    confidence: { idle: idleConfidence, interval: intervalConfidence, count: count !== null ? 'high' : 'none' },
    samples: { idle: fresh.count, interval: retries.count, afterAnswer: afterAnswer.count },
    probes: dir.probes,
    acked: dir.ackedProbes,
    unanswered: dir.probes - dir.ackedProbes - dir.resetProbes,
    unknown,
    notes,
  };
}

function probeReport(conn: Connection, p: ProbeRecord): Probe {
  return {
    frame: p.frame,
    time: isoTime(p.tsSec, p.tsNsec),
    from: conn.sideOf(p.fromA),
    payloadBytes: p.payloadBytes,
    sinceLastActivity: p.sinceLastActivity === null ? null : roundSeconds(p.sinceLastActivity),
    ordinal: p.ordinal,
    reply: {
      kind: p.reply,
      frame: p.reply === 'none' ? null : p.replyFrame,
      latency: p.reply === 'none' ? null : roundSeconds(p.replyT - p.t),
    },
  };
}

/**
 * The connection's verdict is the fate of its last keepalive episode: an RST answer or a
 * prober giving up ends the connection, and a capture ending during unanswered probes leaves
 * it open; otherwise answered probes (or later traffic) mean the peer was alive.
 */
export function verdictOf(conn: Connection): Verdict {
  const a = conn.dirA.fate;
  const b = conn.dirB.fate;
  if (a === FATE_RESET || b === FATE_RESET) return 'reset';
  if (a === FATE_DEAD || b === FATE_DEAD) return 'dead';
  if (a === FATE_WAITING || b === FATE_WAITING) return 'undetermined';
  if (a === FATE_ALIVE || b === FATE_ALIVE) return 'alive';
  return conn.closedBy !== null ? 'closed' : 'no-keepalive';
}

/** Durations in sentences as the renderers write the same figures elsewhere ("1.024 s", "27 µs"). */
const secs = seconds;

const VERDICT_WORDS: Record<Verdict, string> = { alive: 'Alive', dead: 'Dead', reset: 'Reset', undetermined: 'Undetermined', closed: 'Closed', 'no-keepalive': 'No keepalive' };

/** What one side's probes show, as a clause starting with `the` ("The" when it opens the sentence); null when it sent none. */
function sideSentence(conn: Connection, side: Side, the: string): string | null {
  const dir = conn.direction(side);
  if (dir.probes === 0) return null;
  const peer = side === 'client' ? 'server' : 'client';
  const acked = dir.ackedProbes;
  const idle =
    dir.idleSamples.count > 0
      ? `after ${secs(median(dir.idleSamples))} idle`
      : dir.afterAnswerSamples.count > 0
        ? `every ${secs(median(dir.afterAnswerSamples))} after each answer`
        : 'with no captured activity before';
  const s = `${the} ${side} sent ${dir.probes} keepalive probe${dir.probes === 1 ? '' : 's'} (${idle})`;
  if (dir.fate === FATE_RESET) {
    return `${s}; the ${peer} answered frame ${dir.resetProbeFrame} with RST (frame ${dir.resetReplyFrame}): it no longer knew the connection (rebooted or aborted)`;
  }
  if (dir.fate === FATE_DEAD) {
    const gap = dir.intervalSamples.count > 0 ? ` ${secs(median(dir.intervalSamples))} apart` : '';
    return `${s}; the last ${dir.gaveUpAfter} went unanswered${gap}, so the ${side} gave up and reset the connection (frame ${dir.gaveUpFrame}): the ${peer} was unreachable`;
  }
  if (dir.fate === FATE_WAITING) return `${s}; the capture ended with the last ${dir.probeOrdinal} unanswered, before the ${side} gave up or heard back`;
  if (acked > 0) return `${s}; the ${peer} answered ${acked === dir.probes ? 'every one' : `${acked} of them`} with an ACK`;
  return s;
}

function explain(conn: Connection, verdict: Verdict): string {
  const client = sideSentence(conn, 'client', 'The');
  const server = sideSentence(conn, 'server', client === null ? 'The' : 'the');
  if (client === null && server === null) {
    const how = conn.closedBy === 'fin' ? 'closed with FIN' : conn.closedBy === 'rst' ? 'reset' : 'still open at the end of the capture';
    return `No keepalive probes in ${secs(conn.lastT - conn.firstT)} of capture; the connection was ${how}.`;
  }
  const s = client !== null && server !== null ? `${client}; ${server}` : (client ?? server)!;
  return `${VERDICT_WORDS[verdict]}: ${s}.`;
}

/**
 * The connection's report. With `probeList` false the probes are counted (`probesOmitted`) but
 * not listed: renderers that show none (CSV) skip building a thousand probe objects per connection.
 */
export function connectionReport(conn: Connection, lint: LintOptions = { middleboxTimeout: DEFAULT_MIDDLEBOX_TIMEOUT }, probeList = true): ConnectionReport {
  const verdict = verdictOf(conn);
  const report: ConnectionReport = {
    client: conn.client,
    server: conn.server,
    rolesFrom: conn.rolesFrom,
    firstFrame: conn.firstFrame,
    lastFrame: conn.lastFrame,
    firstTime: isoTime(conn.firstSec, conn.firstNsec),
    lastTime: isoTime(conn.lastSec, conn.lastNsec),
    packets: conn.packets,
    probes: probeList ? conn.probes.items().map((p) => probeReport(conn, p)) : [],
    probesOmitted: probeList ? conn.probes.omitted : conn.dirA.probes + conn.dirB.probes,
    keepalive: { client: inferSettings(conn.direction('client')), server: inferSettings(conn.direction('server')) },
    zeroWindowProbes: conn.dirA.zeroWindowProbes + conn.dirB.zeroWindowProbes,
    heartbeat: heartbeatOf(conn.direction('client').beats, conn.direction('server').beats),
    longestSilence: roundSeconds(conn.maxGap),
    findings: [],
    closedBy: conn.closedBy,
    verdict,
    explanation: explain(conn, verdict),
  };
  report.findings = connectionFindings(report, conn.maxGap, lint);
  return report;
}
