/**
 * The teaching scenarios: each builds one TCP connection with the project's synthesizer (real
 * frames, valid checksums, the options and timings real stacks use) and says what it is meant
 * to show. Nothing here describes frames one by one: the frame-by-frame explanation is derived
 * from the capture and its analysis (explain.ts), so it stays true if a scenario changes.
 */
import type { Side, Verdict } from '../analysis/model.js';
import { Conversation, type EndStack } from '../synth/conversation.js';
import { Wire, type KeepaliveKnobs } from './wire.js';

export interface ProberConfig extends KeepaliveKnobs {
  os: 'linux' | 'windows';
  /** How the knobs were set, in the system's own words. */
  how: string;
}

export interface HeartbeatConfig {
  from: Side;
  period: number;
  request: string;
  reply: string;
}

/** What `keepalive analyze` must conclude on the capture (the tests hold the demos to it). */
export interface Expectation {
  verdicts: Verdict[];
  /**
   * Per probing side, the knobs the capture shows (within 10 %; `userTimeout`: inside the range
   * the give-up allows).
   */
  observable: Partial<Record<Side, ('idle' | 'interval' | 'count' | 'userTimeout')[]>>;
  findings: string[];
  style?: 'linux' | 'windows';
  defaults?: 'linux' | 'windows';
}

export interface DemoScenario {
  name: string;
  /** One line for the list. */
  summary: string;
  title: string;
  /** The story: who the ends are, what happens to them, and why it matters. */
  story: string[];
  /** Each side's keepalive settings (absent: SO_KEEPALIVE off, the default everywhere). */
  keepalive: Partial<Record<Side, ProberConfig>>;
  heartbeat?: HeartbeatConfig;
  /** Names for the two ends, as the story calls them. */
  roles: Record<Side, string>;
  /** What to point at in class, or to try in Wireshark. */
  lookFor: string[];
  expect: Expectation;
  build(): Conversation;
}

/** 2026-01-12 09:00:00 UTC: every demo starts at the same instant. */
export const DEMO_START = Date.UTC(2026, 0, 12, 9, 0, 0) / 1000;

export const CLIENT_ADDR = '192.0.2.10';
export const SERVER_ADDR = '198.51.100.20';

const LINUX_CLIENT: EndStack = { ttl: 64, windowScale: 7, synWindow: 64240, window: 502, tsClockHz: 1000 };
const LINUX_SERVER: EndStack = { ttl: 64, windowScale: 7, synWindow: 65160, window: 509, tsClockHz: 1000 };
/** Windows 10/11: TTL 128, window scale 8, no TCP timestamps unless enabled. */
const WINDOWS_CLIENT: EndStack = { ttl: 128, windowScale: 8, synWindow: 64240, window: 1026 };

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** RTT 12.4 ms (a server in the next region), Linux timers a few ms late. */
const WAN = { rtt: 0.0124, rttJitter: 0.0003, timerSlack: [0.001, 0.006] as [number, number] };

function conversation(o: { clientPort: number; serverPort: number; clientIsn: number; serverIsn: number; rtt: number; client?: EndStack; server?: EndStack; timestamps?: boolean; ipIds: [number, number]; tsVals: [number, number] }): Conversation {
  return new Conversation({
    client: CLIENT_ADDR,
    server: SERVER_ADDR,
    clientPort: o.clientPort,
    serverPort: o.serverPort,
    start: DEMO_START,
    clientIsn: o.clientIsn,
    serverIsn: o.serverIsn,
    rtt: o.rtt,
    timestamps: o.timestamps ?? true,
    clientStack: { ...(o.client ?? LINUX_CLIENT), ipId: o.ipIds[0], tsVal: o.tsVals[0] },
    serverStack: { ...(o.server ?? LINUX_SERVER), ipId: o.ipIds[1], tsVal: o.tsVals[1] },
  });
}

/** The client's application closes at t: FIN, the server's FIN once its application reads the end, the last ACK. */
function closeFromClient(w: Wire, t: number): void {
  w.fin('client', t);
  const serverFin = w.sentAt('server', w.reaches('server', t) + 0.00021);
  w.fin('server', serverFin);
  w.ack('client', serverFin + w.turnaround());
}

const REQUEST = text('STATUS\n');
/** What the uploader sends: sensor readings, one CSV line each. */
const UPLOAD = Array.from({ length: 240 }, (_, i) => `2026-01-12T08:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z,sensor-17,${(21 + ((i * 7) % 40) / 10).toFixed(1)}\n`).join('');
const HEARTBEAT: HeartbeatConfig = { from: 'client', period: 5, request: '*1\r\n$4\r\nPING\r\n', reply: '+PONG\r\n' };
const RESPONSE = text('OK 42 jobs queued, 3 workers idle\n');

/** Handshake at 0, a request and its answer: the last segment before the connection goes quiet. */
function opening(w: Wire): number {
  const established = w.handshake(0);
  return w.exchange('client', established + 0.0004, REQUEST, RESPONSE, 0.0011, 0.00004);
}

const LINUX_60_10_5: ProberConfig = { os: 'linux', idle: 60, interval: 10, count: 5, how: 'setsockopt(SO_KEEPALIVE, 1), TCP_KEEPIDLE 60, TCP_KEEPINTVL 10, TCP_KEEPCNT 5' };

const SCENARIOS: DemoScenario[] = [
  {
    name: 'alive',
    summary: 'Linux keepalive 60/10/5 on a healthy connection: every probe answered, one every 60 s',
    title: 'A healthy idle connection, kept in check by Linux keepalive',
    roles: { client: 'the application server', server: 'the status service' },
    story: [
      'An application server keeps a connection to a status service open between requests, as a connection pool does. It enabled keepalive with TCP_KEEPIDLE 60 s, TCP_KEEPINTVL 10 s and TCP_KEEPCNT 5. After one request and its answer the connection goes quiet.',
      "Nothing is wrong here: every probe is answered. The point is the rhythm. The first probe leaves 60 s after the last segment the client received, not after the last one it sent. Each answer restarts that idle clock, so the next probe comes 60 s after the answer: answered probes come every max(idle, interval), here every 60 s, never every 10 s.",
    ],
    keepalive: { client: LINUX_60_10_5 },
    lookFor: [
      'The probe carries no data and a sequence number one below the next byte the client would send: it lies just left of the server’s window, so the server must answer with an ACK (RFC 9293 §3.10.7.4).',
      'The answering ACK acknowledges probe seq + 1: nothing new, just "I am here".',
      'In Wireshark: the display filter tcp.analysis.keep_alive || tcp.analysis.keep_alive_ack shows exactly the probes and their answers.',
    ],
    expect: { verdicts: ['alive'], observable: { client: ['idle'] }, findings: [] },
    build() {
      const conv = conversation({ clientPort: 51724, serverPort: 8000, clientIsn: 0x3c1f9a27, serverIsn: 0xa4e0712b, rtt: WAN.rtt, ipIds: [0x4c21, 0x9e07], tsVals: [0x1a2b3c4d, 0x66f0a001] });
      const w = new Wire(conv, { ...WAN, seed: 1 });
      const timer = w.keepalive('client', 0, LINUX_60_10_5);
      opening(w);
      w.run(Infinity, () => timer.answered >= 5);
      timer.stop();
      closeFromClient(w, w.now + 12.5);
      w.run();
      return conv;
    },
  },
  {
    name: 'dead-peer',
    summary: 'the server loses power: 5 unanswered probes 10 s apart, then the client gives up with an RST',
    title: 'A peer that vanished: unanswered probes, then the prober gives up',
    roles: { client: 'the application server', server: 'the status service' },
    story: [
      'The same connection as in "alive" (TCP_KEEPIDLE 60 s, TCP_KEEPINTVL 10 s, TCP_KEEPCNT 5), but 30 s after the last request the server loses power. It sends nothing: no FIN, no RST. Without keepalive the client would keep this ESTABLISHED connection forever.',
      'At 60 s of silence the client probes. No answer, so it probes again every 10 s. After 5 unanswered probes, one interval after the last, Linux gives up: it sends an RST (in case the peer can still hear it) and the application’s next read or write fails with ETIMEDOUT.',
      'So a dead peer is noticed idle + count × interval after the last sign of life: 60 + 5 × 10 = 110 s here.',
    ],
    keepalive: { client: LINUX_60_10_5 },
    lookFor: [
      'The unanswered probes all carry the same sequence number: the client has sent nothing new.',
      'The RST leaves one interval after the last probe: Linux waits for that probe’s answer before giving up.',
    ],
    expect: { verdicts: ['dead'], observable: { client: ['idle', 'interval', 'count'] }, findings: ['probes-unanswered'] },
    build() {
      const conv = conversation({ clientPort: 51730, serverPort: 8000, clientIsn: 0x5d0e33a1, serverIsn: 0x18c4f2e9, rtt: WAN.rtt, ipIds: [0x1f3a, 0x7c55], tsVals: [0x0b1c2d3e, 0x2e1d0c4b] });
      const w = new Wire(conv, { ...WAN, seed: 2 });
      w.keepalive('client', 0, LINUX_60_10_5);
      const quiet = opening(w);
      w.setState('server', quiet + 30, 'gone');
      w.run();
      return conv;
    },
  },
  {
    name: 'peer-reboot',
    summary: 'the server reboots while the connection is idle: the first probe is answered with RST',
    title: 'A peer that rebooted: the probe meets an RST',
    roles: { client: 'the application server', server: 'the status service' },
    story: [
      'The same connection again (TCP_KEEPIDLE 60 s), but 40 s after the last request the server crashes and reboots. When it is back it has no memory of the connection.',
      'The client’s first probe reaches a host that does not know it. A segment for a connection that does not exist is answered with an RST whose sequence number is the segment’s acknowledgement number (RFC 9293 §3.10.7.1). The client drops the connection at once; its application sees ECONNRESET.',
      'This is keepalive’s fastest verdict: one probe and one round trip, as soon as the idle time is up.',
    ],
    keepalive: { client: LINUX_60_10_5 },
    lookFor: ['The RST’s sequence number equals the probe’s acknowledgement number, and the RST itself carries no ACK.', 'Wireshark has no keep_alive_ack for an RST: only an ACK counts as an answer there.'],
    expect: { verdicts: ['reset'], observable: { client: ['idle'] }, findings: ['peer-reset'] },
    build() {
      const conv = conversation({ clientPort: 51736, serverPort: 8000, clientIsn: 0x7a9b0c1d, serverIsn: 0xc0ffee11, rtt: WAN.rtt, ipIds: [0x2b6d, 0x0e91], tsVals: [0x3344aa01, 0x55aa0102] });
      const w = new Wire(conv, { ...WAN, seed: 3 });
      w.keepalive('client', 0, LINUX_60_10_5);
      const quiet = opening(w);
      w.setState('server', quiet + 40, 'rebooted');
      w.run();
      return conv;
    },
  },
  {
    name: 'windows',
    summary: 'a Windows client with its defaults (7200/1/10) and a dead peer: one garbage octet per probe',
    title: 'Windows keepalive: one garbage octet, 2 hours idle, then 10 probes 1 s apart',
    roles: { client: 'the Windows client', server: 'the server' },
    story: [
      'A Windows client enabled SO_KEEPALIVE and kept the system defaults: KeepAliveTime 2 hours (7,200,000 ms) and KeepAliveInterval 1 s; since Vista Windows sends 10 probes before it gives up. Ten minutes after the last exchange the server’s network fails for good.',
      'Windows probes differently from Linux: each probe carries one garbage octet (0x00) at sequence number SND.NXT − 1, for old stacks that ignored empty segments. The byte was already acknowledged, so the receiver just answers with an ACK, as for an empty probe.',
      'After 2 hours of silence the probes come 1 s apart; 10 go unanswered and Windows drops the connection (the application sees WSAENETRESET) and sends an RST. Detection takes 7200 + 10 × 1 = 7210 s. The frames also show the Windows stack: TTL 128, window scale 8 and no TCP timestamps.',
    ],
    keepalive: { client: { os: 'windows', idle: 7200, interval: 1, count: 10, how: 'SO_KEEPALIVE with the system defaults (KeepAliveTime 7,200,000 ms, KeepAliveInterval 1000 ms; 10 probes)' } },
    lookFor: ['Each probe is 1 byte long (tcp.len == 1) and the byte is 0x00.', 'Interval 1 s: Windows gives a dead peer only 10 s after the 2-hour idle.'],
    expect: { verdicts: ['dead'], observable: { client: ['idle', 'interval', 'count'] }, findings: ['os-defaults', 'idle-exceeds-middlebox', 'probes-unanswered'], style: 'windows', defaults: 'windows' },
    build() {
      const conv = conversation({ clientPort: 50321, serverPort: 8000, clientIsn: 0x9f3e2d1c, serverIsn: 0x4b5a6978, rtt: WAN.rtt, client: WINDOWS_CLIENT, timestamps: false, ipIds: [0x6e10, 0x3d22], tsVals: [0, 0] });
      const w = new Wire(conv, { ...WAN, timerSlack: [0.001, 0.015], seed: 4 });
      w.keepalive('client', 0, { idle: 7200, interval: 1, count: 10 }, { garbageOctet: true });
      const quiet = opening(w);
      w.setState('server', quiet + 600, 'gone');
      w.run();
      return conv;
    },
  },
  {
    name: 'zero-window',
    summary: 'the receiver stops reading: Linux zero-window probes that look exactly like keepalives',
    title: 'Zero-window probes: the look-alike (and why Wireshark 4.0 calls them keepalives)',
    roles: { client: 'the uploader', server: 'the slow consumer' },
    story: [
      'The client uploads data to a server whose application has stopped reading. The server’s receive buffer fills and it advertises a window of 0: "send nothing more". Neither side has keepalive enabled.',
      'The client still has data to send, so it runs its persist timer and probes the window: first after the retransmission timeout (at least 200 ms; about 212 ms here), then at 2×, 4×, 8×, 16× that. Linux sends these zero-window probes with the very function that sends keepalives (tcp_xmit_probe_skb): no data, sequence number SND.UNA − 1. On the wire they are indistinguishable from keepalive probes.',
      'Wireshark 4.0 therefore labels them "TCP Keep-Alive": its rule looks only at the segment (0 or 1 byte, seq = next − 1, no SYN/FIN/RST) and not at the window the receiver last advertised. They are told apart by that window being 0 and by the doubling gaps. keepalive counts them as zero-window probes, not keepalives.',
    ],
    keepalive: {},
    lookFor: [
      'Compare a frame here with a keepalive probe in "alive": the same flags, the same seq = next − 1, no data.',
      'The server’s answers keep advertising window 0 (Wireshark: TCP ZeroWindow) until its application reads and a window update reopens it.',
      'The gaps double: 0.21, 0.42, 0.85, 1.7, 3.4 s. Keepalive probes never back off like that.',
    ],
    expect: { verdicts: ['no-keepalive'], observable: {}, findings: [] },
    build() {
      const conv = conversation({
        clientPort: 51742,
        serverPort: 8000,
        clientIsn: 0x2468ace0,
        serverIsn: 0x13579bdf,
        rtt: WAN.rtt,
        // A small receive buffer (SO_RCVBUF): a window of 45 × 128 = 5760 bytes.
        server: { ...LINUX_SERVER, window: 45 },
        ipIds: [0x5a01, 0x7b02],
        tsVals: [0x0a0b0c0d, 0x1a1b1c1d],
      });
      const w = new Wire(conv, { ...WAN, seed: 5 });
      const established = w.handshake(0);
      const chunk = (i: number): Uint8Array => text(UPLOAD.slice(i * 1440, (i + 1) * 1440));
      const sent: number[] = [];
      for (let i = 0; i < 4; i++) {
        sent.push(established + 0.0006 + i * 0.00003);
        w.send('client', sent[i]!, chunk(i));
      }
      // The receiver acknowledges every second full segment; its window shrinks as its buffer
      // fills (SO_RCVBUF small: 45 × 128 = 5760 bytes), down to 0.
      const ackOf = (i: number): number => w.sentAt('server', w.reaches('server', sent[i]!) + w.turnaround());
      w.ack('server', ackOf(1), 22);
      const zeroAt = ackOf(3);
      w.ack('server', zeroAt, 0);
      // Linux's persist timer: the first zero-window probe one RTO after the window closed, then
      // doubling (tcp_probe_timer, tcp_probe0_when). Each probe is answered with the window: 0.
      const rto = 0.2 + WAN.rtt;
      let at = zeroAt;
      for (let k = 0; k < 5; k++) {
        at += rto * 2 ** k + w.slack();
        const when = at;
        w.segment('client', when, 'zero-window-probe', (dt) => conv.keepaliveProbe(true, dt));
      }
      // The application reads at last: a window update, and the upload goes on.
      const update = at + 1.1;
      w.ack('server', update, 45);
      const t = update + w.turnaround();
      w.send('client', t, chunk(4));
      w.send('client', t + 0.00003, chunk(5));
      w.ack('server', w.sentAt('server', w.reaches('server', t + 0.00003) + w.turnaround()), 23);
      w.run();
      return conv;
    },
  },
  {
    name: 'app-heartbeat',
    summary: 'a Redis client sends PING every 5 s and the server answers PONG: no TCP keepalive at all',
    title: 'An application heartbeat instead of TCP keepalive',
    roles: { client: 'the Redis client', server: 'the Redis server' },
    story: [
      'A Redis client keeps its connection alive itself: every 5 s it sends PING (as the RESP array *1 $4 PING) and the server answers +PONG. SO_KEEPALIVE is off (the default), so there are no keepalive probes at all.',
      'A heartbeat costs more than keepalive (a request, a reply and an ACK every few seconds, each with data the applications must read and write) but it proves more: the PONG comes from the Redis server’s event loop, so a deadlocked or stalled server is noticed too. Keepalive only proves the peer’s kernel is up. Any traffic also refreshes NAT and load-balancer idle timers, so a 5 s heartbeat keeps the path open as well.',
    ],
    keepalive: {},
    heartbeat: HEARTBEAT,
    lookFor: ['The client acknowledges each PONG about 40 ms later: Linux’s delayed ACK, waiting in case it has data to send anyway.', 'keepalive reports the heartbeat (period, sizes, who sends) and no keepalive.'],
    expect: { verdicts: ['no-keepalive', 'closed'], observable: {}, findings: [] },
    build() {
      const conv = conversation({ clientPort: 51748, serverPort: 6379, clientIsn: 0x0badcafe, serverIsn: 0x5eed1e55, rtt: 0.0008, ipIds: [0x3001, 0x8002], tsVals: [0x00c0ffee, 0x00beef00] });
      const w = new Wire(conv, { rtt: 0.0008, rttJitter: 0.00005, timerSlack: [0.0005, 0.003], seed: 6 });
      const established = w.handshake(0);
      let t = established + 0.0008;
      for (let beat = 0; beat < 10; beat++) {
        // The delayed-ACK timer: 40 ms, plus a little.
        w.exchange('client', t, text(HEARTBEAT.request), text(HEARTBEAT.reply), 0.00006, 0.04 + w.slack());
        t += HEARTBEAT.period + w.slack();
      }
      closeFromClient(w, t - 3);
      w.run();
      return conv;
    },
  },
  {
    name: 'both-ends',
    summary: 'both ends run keepalive on their own clocks (20 s and 45 s); each answers the other',
    title: 'Both ends probe, each on its own clock',
    roles: { client: 'the database client', server: 'the database server' },
    story: [
      'Both ends enabled keepalive, as a database client and its server often do (libpq’s keepalives_idle on one side, the server’s tcp_keepalives_idle on the other): the client with TCP_KEEPIDLE 20 s, the server with 45 s, both with TCP_KEEPINTVL 5 s and TCP_KEEPCNT 4.',
      'Each end’s idle clock runs from the last segment it received and accepted. The peer’s probe does not count: it lies left of the window and is dropped before the ACK processing that would restart the clock; it is only answered. So the server’s probe at 45 s does not delay the client’s next probe, and the client’s probes every 20 s never stop the server from probing at 45 s, 90 s, 135 s.',
      'What does restart a clock is the ACK that answers that end’s own probe: each side probes every idle seconds after the answer to its previous probe.',
    ],
    keepalive: {
      client: { os: 'linux', idle: 20, interval: 5, count: 4, how: 'TCP_KEEPIDLE 20, TCP_KEEPINTVL 5, TCP_KEEPCNT 4 (libpq keepalives_idle=20, keepalives_interval=5, keepalives_count=4)' },
      server: { os: 'linux', idle: 45, interval: 5, count: 4, how: 'TCP_KEEPIDLE 45, TCP_KEEPINTVL 5, TCP_KEEPCNT 4 (tcp_keepalives_idle = 45 in the server’s configuration)' },
    },
    lookFor: ['Filter on one side’s probes (tcp.analysis.keep_alive && ip.src == 198.51.100.20) and look at the gaps: they do not notice the other side’s probes.'],
    expect: { verdicts: ['alive'], observable: { client: ['idle'], server: ['idle'] }, findings: [] },
    build() {
      const conv = conversation({ clientPort: 51754, serverPort: 8000, clientIsn: 0x6a09e667, serverIsn: 0xbb67ae85, rtt: WAN.rtt, ipIds: [0x1111, 0x2222], tsVals: [0x3c6ef372, 0x510e527f] });
      const w = new Wire(conv, { ...WAN, seed: 7 });
      const client = w.keepalive('client', 0, { idle: 20, interval: 5, count: 4 });
      const established = w.handshake(0);
      const server = w.keepalive('server', w.reaches('server', established), { idle: 45, interval: 5, count: 4 });
      w.exchange('client', established + 0.0004, REQUEST, RESPONSE, 0.0011, 0.00004);
      w.run(150);
      client.stop();
      server.stop();
      closeFromClient(w, 152.5);
      w.run();
      return conv;
    },
  },
  {
    name: 'user-timeout',
    summary: 'a dead peer with TCP_USER_TIMEOUT 30 s: the client gives up after 4 probes, not TCP_KEEPCNT 9',
    title: 'TCP_USER_TIMEOUT: when the count does not decide',
    roles: { client: 'the gRPC client', server: 'the gRPC server' },
    story: [
      'A client sets TCP_KEEPIDLE 10 s, TCP_KEEPINTVL 5 s and TCP_KEEPCNT 9, and also TCP_USER_TIMEOUT 30 s, as gRPC does with its keepalive timeout (gRPC proposal A18). 5 s after the last request the server’s host loses power.',
      'The probes start 10 s after the last segment the client received and repeat every 5 s, unanswered. With TCP_USER_TIMEOUT set, Linux ignores TCP_KEEPCNT: at each keepalive tick it gives up once that long has passed since the last segment received (and a probe is out). At 30 s it has sent 4 probes, not 9, and resets the connection: the application sees ETIMEDOUT 25 s sooner than 10 + 9 × 5 = 55 s.',
      'On the wire this is the same as TCP_KEEPCNT 4 without a user timeout. keepalive says both: the count it saw, and the user timeouts that would give up at the same tick.',
    ],
    keepalive: { client: { os: 'linux', idle: 10, interval: 5, count: 9, userTimeout: 30, how: 'TCP_KEEPIDLE 10, TCP_KEEPINTVL 5, TCP_KEEPCNT 9, TCP_USER_TIMEOUT 30000 ms' } },
    lookFor: [
      'Four unanswered probes 5 s apart, then the RST 30 s after the last segment received: fewer probes than TCP_KEEPCNT.',
      'keepalive analyze notes that a TCP_USER_TIMEOUT over 25 s and up to 30 s gives up here too; keepalive check --expect-user-timeout 30s passes on it, --expect-count 9 fails and says why.',
    ],
    expect: { verdicts: ['dead'], observable: { client: ['idle', 'interval', 'userTimeout'] }, findings: ['probes-unanswered'], style: 'linux' },
    build() {
      const conv = conversation({ clientPort: 51770, serverPort: 50051, clientIsn: 0x2f6b1c93, serverIsn: 0x7d14a0e5, rtt: WAN.rtt, ipIds: [0x3a1d, 0x5e92], tsVals: [0x10f3a7c2, 0x6a09e667] });
      const w = new Wire(conv, { ...WAN, seed: 9 });
      w.keepalive('client', 0, { idle: 10, interval: 5, count: 9, userTimeout: 30 });
      const quiet = opening(w);
      w.setState('server', quiet + 5, 'gone');
      w.run();
      return conv;
    },
  },
  {
    name: 'linux-defaults',
    summary: 'Linux defaults (7200/75/9) and a NAT that forgot the connection: 7875 s to notice',
    title: 'Linux defaults: how long a dead peer really goes unnoticed',
    roles: { client: 'the client', server: 'the server' },
    story: [
      'The client enabled SO_KEEPALIVE and left the system defaults: net.ipv4.tcp_keepalive_time 7200 s, tcp_keepalive_intvl 75 s, tcp_keepalive_probes 9. Between the two ends sits a home router whose NAT forgets idle connections after 300 s. Five minutes after the last exchange the mapping is gone; from then on nothing the client sends reaches the server.',
      'The first probe leaves only after 2 hours of silence, long after the NAT forgot the connection, so it cannot get through. Nine probes 75 s apart go unanswered, and one interval after the last the client gives up.',
      'A dead path goes unnoticed for 7200 + 9 × 75 = 7875 s (2 h 11 min 15 s) after the last exchange. With an idle time below the NAT’s 300 s (say 60 s), the probes would have kept the mapping alive, and a truly dead peer would be found in minutes.',
    ],
    keepalive: { client: { os: 'linux', idle: 7200, interval: 75, count: 9, how: 'SO_KEEPALIVE with the sysctl defaults: tcp_keepalive_time 7200, tcp_keepalive_intvl 75, tcp_keepalive_probes 9' } },
    lookFor: ['Over two hours between the last exchange and the first probe, and only ten frames after it: the capture is small, the wait is long.', 'keepalive flags the idle time as longer than a 300 s middlebox timeout (--middlebox-timeout changes the figure).'],
    expect: { verdicts: ['dead'], observable: { client: ['idle', 'interval', 'count'] }, findings: ['os-defaults', 'idle-exceeds-middlebox', 'probes-unanswered'], style: 'linux', defaults: 'linux' },
    build() {
      const conv = conversation({ clientPort: 51760, serverPort: 8000, clientIsn: 0x9b05688c, serverIsn: 0x1f83d9ab, rtt: WAN.rtt, ipIds: [0x4242, 0x1234], tsVals: [0x5be0cd19, 0x428a2f98] });
      const w = new Wire(conv, { ...WAN, seed: 8 });
      w.keepalive('client', 0, { idle: 7200, interval: 75, count: 9 });
      const quiet = opening(w);
      w.setState('server', quiet + 300, 'gone');
      w.run();
      return conv;
    },
  },
];

export function scenarios(): readonly DemoScenario[] {
  return SCENARIOS;
}

export function scenario(name: string): DemoScenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}

export const SCENARIO_NAMES: readonly string[] = SCENARIOS.map((s) => s.name);
