/**
 * What each recording does and when, in seconds after the connection is established. The client
 * sends 100 bytes at 0.05 s and the server echoes them, so both sides' idle clocks start from
 * data; then the scenario lets keepalive run. Each plan ends a little after the last packet
 * the kernel is expected to send (Linux timers fire a few milliseconds late, about 20 ms per
 * probe on the recordings made here; the margins allow for that).
 */
import type { Verdict } from '../analysis/model.js';
import type { KeepaliveKnobs, PeerAction } from './peer.js';

export const SCENARIOS = ['alive', 'dead-peer', 'peer-reboot', 'both-ends', 'zero-window'] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** A change to the server's routing at time `t`. */
export interface Step {
  t: number;
  blackhole: boolean;
}

export interface Plan {
  scenario: Scenario;
  /** One sentence: what happens. */
  description: string;
  /** What the analysis should conclude, in words. */
  expected: string;
  verdict: Verdict;
  client: { keepalive: KeepaliveKnobs | null; actions: PeerAction[] };
  server: { keepalive: KeepaliveKnobs | null; actions: PeerAction[]; echo: boolean; read: boolean; rcvbuf?: number };
  steps: Step[];
  /** Seconds after the connection is established when the capture stops. */
  end: number;
}

const DATA_AT = 0.05;
/** Linux's lateness per timer expiry, generously. */
const LATE = 0.03;

function s(x: number): string {
  return `${x} s`;
}

/**
 * Unanswered probes a Linux prober sends before its RST. Its keepalive timer ticks idle, then
 * every interval, after the last segment received; without TCP_USER_TIMEOUT it gives up at the
 * tick after TCP_KEEPCNT probes; with one it ignores the count and gives up at the first tick
 * at least that long after the segment, once a probe is out (tcp_keepalive_timer; seen on the
 * ka-user-timeout recording: idle 1, interval 2, count 9, user timeout 6 s: 3 probes).
 */
export function probesBeforeGivingUp(k: KeepaliveKnobs): number {
  if (k.userTimeout === undefined) return k.count;
  return Math.max(1, Math.ceil((k.userTimeout - k.idle) / k.interval - 1e-9));
}

export function plan(scenario: Scenario, k: KeepaliveKnobs): Plan {
  const hello: PeerAction = { t: DATA_AT, do: 'send', bytes: 100 };
  const afterAnswer = Math.max(k.idle, k.interval);
  switch (scenario) {
    case 'alive': {
      // Three answered probes: idle after the data, then every max(idle, interval).
      const close = DATA_AT + k.idle + 2 * afterAnswer + 3 * LATE + 0.35;
      return {
        scenario,
        description: `the server answers every probe; the client closes normally after three`,
        expected: `ALIVE: a probe ${s(k.idle)} after the data, then one every ${s(afterAnswer)} (max(idle, interval)), each answered by an ACK`,
        verdict: 'alive',
        client: { keepalive: k, actions: [hello, { t: close, do: 'close' }] },
        server: { keepalive: null, actions: [], echo: true, read: true },
        steps: [],
        end: close + 0.4,
      };
    }
    case 'dead-peer': {
      const probes = probesBeforeGivingUp(k);
      const reset = DATA_AT + k.idle + probes * k.interval + (probes + 1) * LATE;
      const why =
        k.userTimeout === undefined
          ? ''
          : `; TCP_USER_TIMEOUT ${s(k.userTimeout)}, not TCP_KEEPCNT ${k.count}, decides: the RST goes at the first keepalive tick at least that long after the last data`;
      return {
        scenario,
        description: `the server vanishes at 0.3 s (everything it sends to the client is blackholed in its namespace)`,
        expected: `DEAD: ${probes} unanswered probes ${s(k.interval)} apart from ${s(k.idle)} after the data, then the client's RST ${s(k.interval)} after the last (ETIMEDOUT for the application)${why}`,
        verdict: 'dead',
        client: { keepalive: k, actions: [hello] },
        server: { keepalive: null, actions: [], echo: true, read: true },
        steps: [{ t: 0.3, blackhole: true }],
        end: reset + 0.5,
      };
    }
    case 'peer-reboot':
      // TCP_KEEPIDLE is at least 1 s, so all of this happens before the first probe.
      return {
        scenario,
        description: `the server forgets the connection at 0.35 s (SO_LINGER 0 close while its RST is blackholed from 0.2 to 0.6 s), as a rebooted host would`,
        expected: `RESET: the first probe, ${s(k.idle)} after the data, is answered by RST (ECONNRESET for the application)`,
        verdict: 'reset',
        client: { keepalive: k, actions: [hello] },
        server: { keepalive: null, actions: [{ t: 0.35, do: 'abort' }], echo: true, read: true },
        steps: [
          { t: 0.2, blackhole: true },
          { t: 0.6, blackhole: false },
        ],
        end: DATA_AT + k.idle + LATE + 0.5,
      };
    case 'both-ends': {
      // The server's idle is one second longer so the two schedules are told apart.
      const server = { ...k, idle: k.idle + 1 };
      const serverSecond = DATA_AT + server.idle + Math.max(server.idle, server.interval) + 2 * LATE;
      return {
        scenario,
        description: `keepalive on both sockets: the client with idle ${s(k.idle)}, the server with idle ${s(server.idle)}; each answers the other`,
        expected: `ALIVE, both sides probing: the client every ${s(afterAnswer)}, the server every ${s(Math.max(server.idle, server.interval))}, each probe answered`,
        verdict: 'alive',
        client: { keepalive: k, actions: [hello] },
        server: { keepalive: server, actions: [], echo: true, read: true },
        steps: [],
        end: serverSecond + 0.5,
      };
    }
    case 'zero-window':
      // A 2 KiB receive buffer that is never read: the window closes within milliseconds and
      // the client's kernel probes it (RTO-based backoff: about 0.2, 0.4, 0.8, 1.6 s apart).
      return {
        scenario,
        description: `the server never reads (SO_RCVBUF 2048) while the client writes as fast as it can from 0.1 s: the window closes`,
        expected: `NO-KEEPALIVE: zero-window probes with growing gaps, and no keepalive probe although keepalive is on (Linux does not send keepalives while data is outstanding)`,
        verdict: 'no-keepalive',
        client: { keepalive: k, actions: [{ t: 0.1, do: 'fill' }] },
        server: { keepalive: null, actions: [], echo: false, read: false, rcvbuf: 2048 },
        steps: [],
        end: Math.max(4.1, 0.1 + k.idle + k.interval + 0.5),
      };
  }
}
