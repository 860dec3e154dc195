/**
 * `keepalive record`: real kernel keepalive traffic with chosen settings. Two private network
 * namespaces joined by a veth, a Python server and client with the asked TCP_KEEPIDLE,
 * TCP_KEEPINTVL and TCP_KEEPCNT, the scenario's route changes at their times, and a live
 * capture (cap, in a child inside the client's namespace) fed into the same analysis as files.
 *
 * Bounded: the capture stops at the plan's end, every process has a deadline of its own and
 * exits when keepalive goes away, and the namespaces and processes are removed on every exit
 * path (finally, and a process 'exit' hook for paths that skip it).
 */
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureLive, type LiveEvent, type LiveResult } from '../live/session.js';
import { RecordError } from './errors.js';
import { blackhole, createPair, deletePair, pairNames, type NetnsPair } from './netns.js';
import { startPeer, type KeepaliveKnobs, type Peer, type PeerEvent } from './peer.js';
import { plan as makePlan, type Plan, type Scenario } from './scenarios.js';

export const SERVER_PORT = 9000;

export interface RecordOptions {
  scenario: Scenario;
  /** Whole seconds (the socket options take whole seconds). */
  idle: number;
  interval: number;
  count: number;
  /** The client's TCP_USER_TIMEOUT in seconds (whole milliseconds); unset by default. */
  userTimeout?: number | undefined;
  /** Capture file to write (never overwritten); default a new temporary directory's `<scenario>.pcapng`. */
  write?: string | undefined;
  onEvent?: ((event: LiveEvent) => void) | undefined;
  /** Called once the namespaces exist and the capture runs, before the connection is made. */
  onStart?: ((info: { pair: NetnsPair; plan: Plan; file: string }) => void) | undefined;
  /** Aborting it ends the recording early (Ctrl-C); what was captured is still analysed. */
  signal?: AbortSignal | undefined;
}

export interface RecordResult extends LiveResult {
  file: string;
  plan: Plan;
  pair: NetnsPair;
  /** What the two programs saw (connect, errors such as ETIMEDOUT or ECONNRESET, …). */
  peers: { client: PeerEvent[]; server: PeerEvent[] };
  interrupted: boolean;
}

/** Checks made before anything is created. */
export function validateKnobs(k: KeepaliveKnobs): void {
  const whole = (flag: string, v: number, max: number): void => {
    if (!Number.isInteger(v) || v < 1 || v > max) throw new RecordError('usage', `${flag}: ${v} is not possible: the socket option takes whole ${flag === '--count' ? 'probes' : 'seconds'}, 1 to ${max}`);
  };
  whole('--idle', k.idle, 32767);
  whole('--interval', k.interval, 32767);
  whole('--count', k.count, 127);
  if (k.userTimeout !== undefined) {
    const ms = k.userTimeout * 1000;
    if (!Number.isInteger(Math.round(ms * 1e6) / 1e6) || ms < 1 || ms > 2 ** 31 - 1) {
      throw new RecordError('usage', `--user-timeout: ${k.userTimeout} s is not possible: TCP_USER_TIMEOUT takes whole milliseconds, 1 ms to ${2 ** 31 - 1} ms`);
    }
  }
}

/** The pieces of a recording in progress, for the cleanup that must run whatever happens. */
interface Live {
  pair: NetnsPair;
  peers: Peer[];
}
const running = new Set<Live>();
let exitHook = false;

/** Synchronous last resort on process exit: kill our peers, delete our namespaces. */
function cleanupOnExit(): void {
  for (const r of running) {
    for (const p of r.peers) p.killNow();
    deletePair(r.pair);
  }
  running.clear();
}

function sleepUntil(wallMs: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, Math.max(0, wallMs - Date.now()));
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export async function recordScenario(options: RecordOptions): Promise<RecordResult> {
  const knobs: KeepaliveKnobs = { idle: options.idle, interval: options.interval, count: options.count, userTimeout: options.userTimeout };
  validateKnobs(knobs);
  if (knobs.userTimeout !== undefined && options.scenario === 'zero-window') {
    // There the retransmission timer, not keepalive, runs, and the user timeout would end the connection.
    throw new RecordError('usage', '--user-timeout: not with the zero-window scenario (TCP_USER_TIMEOUT would end its zero-window probing, which is not keepalive)');
  }
  if (process.platform !== 'linux') throw new RecordError('setup', 'record needs Linux network namespaces');
  if (process.getuid?.() !== 0) {
    throw new RecordError('not-root', 'record creates network namespaces and needs root: run it as root (sudo keepalive record …)');
  }
  if (options.signal?.aborted) throw new RecordError('usage', 'recording cancelled before it started');
  const plan = makePlan(options.scenario, knobs);
  const tempDir = options.write === undefined ? mkdtempSync(join(tmpdir(), 'keepalive-record-')) : null;
  const file = options.write ?? join(tempDir!, `${options.scenario}.pcapng`);
  let ok = false;
  const pair = pairNames();
  const state: Live = { pair, peers: [] };
  running.add(state);
  if (!exitHook) {
    exitHook = true;
    process.on('exit', cleanupOnExit);
  }
  // Our own stop: the plan's end, or the caller's signal.
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let capture: Promise<LiveResult> | null = null;
  const timers: NodeJS.Timeout[] = [];
  try {
    createPair(pair);
    let ready!: () => void;
    const isReady = new Promise<void>((r) => (ready = r));
    capture = captureLive({ iface: pair.clientIface, netns: pair.client, write: file, onEvent: options.onEvent, onReady: () => ready(), signal: stop.signal });
    // A capture that fails to start rejects here; one that starts resolves isReady first.
    await Promise.race([isReady, capture]);
    options.onStart?.({ pair, plan, file });
    if (options.signal?.aborted) stop.abort();

    // Everything has a deadline of its own, well after the plan's end.
    const deadline = Date.now() / 1000 + plan.end + 15;
    const server = startPeer(pair.server, 'server', {
      role: 'server',
      addr: pair.serverAddr,
      port: SERVER_PORT,
      keepalive: plan.server.keepalive,
      rcvbuf: plan.server.rcvbuf,
      read: plan.server.read,
      echo: plan.server.echo,
      actions: plan.server.actions,
      deadline,
    });
    state.peers.push(server);
    await server.waitFor('listening', 5000);
    const client = startPeer(pair.client, 'client', {
      role: 'client',
      addr: pair.serverAddr,
      port: SERVER_PORT,
      keepalive: plan.client.keepalive,
      actions: plan.client.actions,
      deadline,
    });
    state.peers.push(client);
    const established = await client.waitFor('established', 5000);
    // The plan's clock starts when the connection is up, in the client's own words.
    const t0 = established.wall * 1000;
    for (const step of plan.steps) {
      timers.push(
        setTimeout(() => {
          try {
            blackhole(pair, step.blackhole);
          } catch {
            // the recording goes on; the analysis will show what happened
          }
        }, Math.max(0, t0 + step.t * 1000 - Date.now())),
      );
    }
    await sleepUntil(t0 + plan.end * 1000, stop.signal);
    const interrupted = options.signal?.aborted === true;
    stop.abort();
    const result = await capture;
    ok = true;
    return {
      ...result,
      file,
      plan,
      pair,
      peers: { client: client.events, server: server.events },
      interrupted,
    };
  } finally {
    for (const t of timers) clearTimeout(t);
    options.signal?.removeEventListener('abort', onAbort);
    stop.abort();
    if (capture !== null) await capture.catch(() => undefined);
    await Promise.all(state.peers.map((p) => p.stop()));
    deletePair(pair);
    running.delete(state);
    if (!ok && tempDir !== null) {
      try {
        rmdirSync(tempDir);
      } catch {
        // it holds a partial capture: keep it
      }
    }
  }
}
