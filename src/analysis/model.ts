import type { Heartbeat } from './heartbeat.js';

export type { Heartbeat } from './heartbeat.js';
/** The records the analysis produces: the JSON report's contract (version 1) and the library API. */

export type Side = 'client' | 'server';
export type ReplyKind = 'ack' | 'rst' | 'none';
export type Verdict = 'alive' | 'dead' | 'reset' | 'closed' | 'undetermined' | 'no-keepalive';
export type Confidence = 'high' | 'medium' | 'low' | 'none';

export interface ProbeReply {
  kind: ReplyKind;
  frame: number | null;
  /** Seconds from the probe to its reply. */
  latency: number | null;
}

export interface Probe {
  frame: number;
  /** ISO-8601 with the capture's full resolution. */
  time: string;
  from: Side;
  payloadBytes: number;
  /** Seconds since the prober last received and accepted a segment from its peer (Linux's idle clock); null when no such segment was captured. */
  sinceLastActivity: number | null;
  /** 1 for the first probe after activity, 2 for the next unanswered one, … */
  ordinal: number;
  reply: ProbeReply;
}

export interface KeepaliveSettings {
  /** Seconds from the last accepted segment to the first probe (median over episodes). */
  idle: number | null;
  /** Seconds between unanswered probes (median). */
  interval: number | null;
  /**
   * Upper bound on the interval when the capture cannot show it: answered probes came every
   * `intervalAtMost` seconds, and Linux waits max(idle, interval) after an answered probe.
   */
  intervalAtMost: number | null;
  /** Unanswered probes before the prober gave up, when the capture shows it doing so. */
  count: number | null;
  /** The most unanswered-then-continued probes seen in a row: a lower bound on the count. */
  countAtLeast: number | null;
  /**
   * When a Linux prober gave up (`count` known): the TCP_USER_TIMEOUT values that would have
   * ended probing at the same point, whatever TCP_KEEPCNT is (Linux gives up at the first timer
   * tick at least that long after the last segment received, once a probe is out): over
   * `above` (seconds from that segment to the last probe; 0 when it gave up after one) up to
   * `atMost` (to the RST). Null otherwise.
   */
  userTimeout: { above: number; atMost: number } | null;
  style: 'linux' | 'windows' | 'mixed';
  /** Known operating-system defaults the observed values match, if any. */
  defaults: 'linux' | 'windows' | 'macos' | null;
  confidence: { idle: Confidence; interval: Confidence; count: Confidence };
  /** Probes this side sent, answered by ACK, and left unanswered (RST answers are the rest). */
  probes: number;
  acked: number;
  unanswered: number;
  /** How many gaps each figure rests on (`afterAnswer`: gaps from a probe's ACK to the next probe). */
  samples: { idle: number; interval: number; afterAnswer: number };
  /** Why a figure is null, in words. */
  unknown: { idle?: string; interval?: string; count?: string };
  /** Caveats on the figures that are given, in words. */
  notes: string[];
}

export interface ConnectionReport {
  client: string;
  server: string;
  /** How client and server were told apart: the SYN, or a guess from the ports when the handshake was not captured. */
  rolesFrom: 'syn' | 'syn-ack' | 'port';
  firstFrame: number;
  lastFrame: number;
  firstTime: string;
  lastTime: string;
  packets: number;
  /** The probes: all of them, or the first 500 and the last 500 of a connection that sent more. */
  probes: Probe[];
  /** Probes sent but not listed (beyond the first and last 500). */
  probesOmitted: number;
  keepalive: { client: KeepaliveSettings | null; server: KeepaliveSettings | null };
  zeroWindowProbes: number;
  /** An application heartbeat keeping the connection alive (PING/PONG, empty frames), or null. */
  heartbeat: Heartbeat | null;
  /** Longest silence between two segments of the connection (s). */
  longestSilence: number;
  /** What this means for the person who must change something. */
  findings: Finding[];
  /** How the connection ended within the capture. */
  closedBy: 'fin' | 'rst' | null;
  verdict: Verdict;
  /** One sentence a person can read. */
  explanation: string;
}

export interface Finding {
  /** Stable rule name: idle-exceeds-middlebox, silent-gap, os-defaults, probes-unanswered, peer-reset, keepalive-and-heartbeat. */
  rule: string;
  severity: 'info' | 'warning' | 'error';
  message: string;
}

export interface Summary {
  files: string[];
  packets: number;
  tcpSegments: number;
  connections: number;
  keepaliveProbes: number;
  zeroWindowProbes: number;
  firstTime: string | null;
  lastTime: string | null;
  /** One per rule that fired in any connection. */
  findings: Finding[];
  warnings: string[];
}

export interface Report {
  version: 1;
  summary: Summary;
  connections: ConnectionReport[];
}

/** Events as they happen, for live output and for tests that compare frame by frame. */
export type KeepaliveEventKind = 'probe' | 'zero-window-probe' | 'reply-ack' | 'reply-rst' | 'gave-up' | 'connection-end';
export interface KeepaliveEvent {
  kind: KeepaliveEventKind;
  frame: number;
  connection: { client: string; server: string };
  from: Side;
}
