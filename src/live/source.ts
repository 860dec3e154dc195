/**
 * Live frame sources: libpcap through cap in this process, or in a child process inside a named
 * network namespace. Both hand frames on as the file readers do: one reused `Frame` whose bytes
 * are a view (into cap's packet buffer, or into the chunk read from the child), valid until the
 * handler returns.
 *
 * Timestamps: cap does not pass libpcap's `pkthdr.ts` on, so each frame is stamped when cap's
 * callback runs, from the monotonic clock anchored to the wall clock at process start
 * (`performance.timeOrigin + performance.now()`), to the microsecond. cap runs in immediate
 * mode and calls back once per frame, so a stamp is late by the event loop's delay (well under
 * a millisecond when idle, more under load or while the loop is busy elsewhere), and frames
 * handed over in one batch get nearly equal stamps.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Frame } from '../capture/frame.js';
import { newFrame } from '../capture/frame.js';
import { describeDevices, LiveError, linkTypeOf, loadCap, openError, type CapDevice, type CapHandle, type LiveErrorKind } from './cap.js';
import { kernelDrops, newSockets, socketDescriptors } from './drops.js';
import { MSG_DEVICES, MSG_ERROR, MSG_READY, MSG_STATS, WireDecoder } from './wire.js';

/** cap's snaplen (fixed in its open()); frames never exceed it. */
export const CAP_SNAPLEN = 65535;
/**
 * libpcap's ring: with snaplen 65535 every slot takes 64 KiB whatever the frame's size, so this
 * many bytes hold about 512 frames before the kernel drops.
 */
export const DEFAULT_BUFFER_BYTES = 32 << 20;

export interface SourceOptions {
  /** Interface name as libpcap knows it (`lo`, `eth0`, `any`). */
  iface: string;
  /** BPF capture filter (pcap-filter(7)); empty for everything. */
  filter?: string;
  /** Bytes of kernel ring buffer. */
  bufferSize?: number;
  /** Capture inside this named network namespace (`ip netns`); needs root. */
  netns?: string;
  /** Where cap is loaded from (tests). */
  capModule?: string;
}

export interface SourceStats {
  /** Frames the kernel dropped because the capture ring was full (pcap_stats' ps_drop). */
  kernelDrops: number | null;
  /** Frames that passed the filter, dropped ones included (pcap_stats' ps_recv). */
  kernelReceived?: number | null | undefined;
  /** Why the drop count is unknown. */
  dropsUnavailable?: string | undefined;
}

export interface FrameSource {
  readonly iface: string;
  /** LINKTYPE_* of the frames. */
  readonly linkType: number;
  /** Resolves once the source has stopped: after `stop()`, or when it ended by itself. */
  readonly done: Promise<SourceStats>;
  /**
   * Stop and release the capture; no frame is delivered after the promise resolves. With
   * `drain` (the default) frames already waiting in the kernel's ring are delivered first.
   */
  stop(drain?: boolean): Promise<SourceStats>;
}

export type FrameHandler = (frame: Frame) => void;

export async function openSource(options: SourceOptions, onFrame: FrameHandler): Promise<FrameSource> {
  return options.netns !== undefined ? openNetnsSource(options, onFrame) : openCapSource(options, onFrame);
}

/** Interfaces libpcap can open here (in this process's network namespace). */
export function listDevices(capModule?: string): CapDevice[] {
  const cap = loadCap(capModule);
  try {
    return cap.Cap.deviceList();
  } catch (err) {
    throw new LiveError('capture', `cannot list interfaces: ${(err as Error).message}`);
  }
}

/** Interfaces libpcap can open inside a named network namespace (asks a child there). */
export function listDevicesIn(netns: string, capModule?: string): CapDevice[] {
  const r = spawnSync('ip', ['netns', 'exec', netns, process.execPath, childScript(), JSON.stringify({ list: true, capModule })], { maxBuffer: 16 << 20, timeout: 30_000 });
  if (r.error !== undefined) throw new LiveError('netns', `cannot list interfaces in network namespace ${netns}: ${r.error.message}`);
  let devices: CapDevice[] | null = null;
  let error: LiveError | null = null;
  new WireDecoder(() => 0, {
    frame: () => {},
    message: (type, value) => {
      const v = (value ?? {}) as Record<string, unknown>;
      if (type === MSG_DEVICES) devices = value as CapDevice[];
      else if (type === MSG_ERROR) error = new LiveError((v.kind as LiveErrorKind) ?? 'capture', String(v.message));
    },
  }).push(r.stdout);
  if (error !== null) throw error;
  if (devices === null) {
    const why = r.stderr.toString().split('\n').map((l) => l.trim()).filter((l) => l !== '')[0] ?? `exit status ${r.status}`;
    throw new LiveError('netns', `cannot list interfaces in network namespace ${netns}: ${why}`);
  }
  return devices;
}

/**
 * cap's failed open() leaves a half-made pcap handle whose destructor would stop a libuv poll
 * handle that was never initialised; keeping the object alive keeps the destructor from ever
 * running (the process is about to report the error anyway).
 */
const failedHandles: CapHandle[] = [];

/** Stamp a frame with the wall clock, to the microsecond (see the file comment). */
export function stampNow(frame: Frame): void {
  const ms = performance.timeOrigin + performance.now();
  let sec = Math.floor(ms / 1000);
  let usec = Math.round((ms - sec * 1000) * 1000);
  if (usec >= 1_000_000) {
    sec++;
    usec -= 1_000_000;
  }
  frame.tsSec = sec;
  frame.tsNsec = usec * 1000;
}

export function openCapSource(options: SourceOptions, onFrame: FrameHandler): FrameSource {
  const cap = loadCap(options.capModule);
  const iface = options.iface;
  const filter = options.filter ?? '';
  const devices = listDevices(options.capModule);
  if (!devices.some((d) => d.name === iface)) {
    throw new LiveError('no-such-device', `no interface named '${iface}'; available: ${describeDevices(devices)}`);
  }
  const before = socketDescriptors();
  const handle = new cap.Cap();
  const buffer = Buffer.alloc(CAP_SNAPLEN + 1);
  let capName: string;
  try {
    capName = handle.open(iface, filter, options.bufferSize ?? DEFAULT_BUFFER_BYTES, buffer);
  } catch (err) {
    failedHandles.push(handle);
    throw openError(String((err as Error).message ?? err), iface, filter, devices);
  }
  const sockets = newSockets(before);
  let linkType: number;
  try {
    linkType = linkTypeOf(capName);
  } catch (err) {
    handle.close();
    throw err;
  }
  const frame = newFrame();
  frame.data = buffer;
  frame.linkType = linkType;
  let stopped = false;
  let delivered = 0;
  handle.on('packet', (nbytes: number) => {
    if (stopped) return;
    delivered++;
    stampNow(frame);
    frame.capLen = nbytes;
    // cap does not pass the wire length on; with snaplen 65535 only loopback's GSO
    // super-frames are ever cut, and the decoders take lengths from the IP header.
    frame.origLen = nbytes;
    frame.fileOffset = 0;
    onFrame(frame);
  });
  let resolveDone!: (s: SourceStats) => void;
  const done = new Promise<SourceStats>((r) => (resolveDone = r));
  let stopping: Promise<SourceStats> | null = null;
  const finish = (): SourceStats => {
    stopped = true;
    // Read the drop count while the socket still exists.
    const d = kernelDrops(sockets);
    const stats: SourceStats = { kernelDrops: d.drops, kernelReceived: d.received, dropsUnavailable: d.unavailable };
    handle.close();
    handle.removeAllListeners('packet');
    resolveDone(stats);
    return stats;
  };
  return {
    iface,
    linkType,
    done,
    stop(drain = true): Promise<SourceStats> {
      if (stopping === null) {
        if (!drain) {
          stopping = Promise.resolve(finish());
        } else {
          // cap dispatches what the ring holds when libuv polls its descriptor: let the loop
          // turn until a turn brings nothing new (at most a quarter of a second).
          stopping = (async () => {
            const until = Date.now() + 250;
            for (let seen = -1; seen !== delivered && Date.now() < until; ) {
              seen = delivered;
              await new Promise<void>((r) => setTimeout(r, 1));
            }
            return finish();
          })();
        }
      }
      return stopping;
    },
  };
}

/** dist/live/child.js, also when this module runs from src/ (the tests): build first. */
export function childScript(): string {
  const here = fileURLToPath(import.meta.url);
  const js = here.endsWith('.ts') ? here.replace(/([\\/])src([\\/]live[\\/])source\.ts$/, '$1dist$2child.js') : here.replace(/source\.js$/, 'child.js');
  if (!existsSync(js)) throw new LiveError('capture', `${js} is missing: build the project first (npx tsc -p .)`);
  return js;
}

/** Lines libpcap prints itself (cap's open() warns when an interface has no IPv4 address). */
const NOISE = /^Warning: .* - This may not actually work$/;

function openNetnsSource(options: SourceOptions, onFrame: FrameHandler): Promise<FrameSource> {
  const netns = options.netns!;
  const args = JSON.stringify({ iface: options.iface, filter: options.filter ?? '', bufferSize: options.bufferSize ?? DEFAULT_BUFFER_BYTES, capModule: options.capModule });
  let child: ChildProcess;
  try {
    // Its own process group: a Ctrl-C at the terminal reaches only the parent, which stops
    // the child in order (stdin closed → stats → exit).
    child = spawn('ip', ['netns', 'exec', netns, process.execPath, childScript(), args], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  } catch (err) {
    throw new LiveError('netns', `cannot start a capture in network namespace ${netns}: ${(err as Error).message}`);
  }
  let linkType = -1;
  let stats: SourceStats | null = null;
  let error: LiveError | null = null;
  let stderr = '';
  let stopped = false;
  let readyResolve!: () => void;
  let readyReject!: (e: Error) => void;
  const ready = new Promise<void>((res, rej) => {
    readyResolve = res;
    readyReject = rej;
  });
  const decoder = new WireDecoder(() => linkType, {
    frame: (f) => {
      if (!stopped) onFrame(f);
    },
    message: (type, value) => {
      const v = (value ?? {}) as Record<string, unknown>;
      if (type === MSG_READY) {
        linkType = Number(v.linkType);
        readyResolve();
      } else if (type === MSG_STATS) {
        stats = {
          kernelDrops: typeof v.kernelDrops === 'number' ? v.kernelDrops : null,
          kernelReceived: typeof v.kernelReceived === 'number' ? v.kernelReceived : null,
          dropsUnavailable: typeof v.dropsUnavailable === 'string' ? v.dropsUnavailable : undefined,
        };
      } else if (type === MSG_ERROR) {
        error = new LiveError((v.kind as LiveErrorKind) ?? 'capture', String(v.message ?? 'capture failed'));
        readyReject(error);
      }
    },
  });
  child.stdout!.on('data', (chunk: Buffer) => decoder.push(chunk));
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => {
    stderr += s;
    if (stderr.length > 65_536) stderr = stderr.slice(-65_536);
  });
  // The child stops when its standard input closes; a write to it after it died is no news.
  child.stdin!.on('error', () => {});
  const exited = new Promise<number | null>((res) => {
    child.on('error', (err) => {
      readyReject(new LiveError('netns', `cannot start a capture in network namespace ${netns}: ${err.message}`));
      res(null);
    });
    child.on('close', (code) => res(code));
  });
  const done = exited.then((code): SourceStats => {
    const why = stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !NOISE.test(l));
    if (linkType < 0) {
      readyReject(error ?? new LiveError('netns', `cannot capture in network namespace ${netns}: ${why[0] ?? `exit status ${code}`}`));
    }
    return stats ?? { kernelDrops: null, dropsUnavailable: `the capture process ended without reporting (${why[0] ?? `exit status ${code}`})` };
  });
  return ready.then(
    (): FrameSource => ({
      iface: options.iface,
      get linkType() {
        return linkType;
      },
      done,
      async stop(): Promise<SourceStats> {
        // The child drains its ring before it reports (child.ts).
        if (!stopped) {
          child.stdin!.end();
          const timer = setTimeout(() => {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          }, 5000);
          const s = await done;
          clearTimeout(timer);
          // Frames that were in flight when the child stopped are still delivered above;
          // only then does delivery end.
          stopped = true;
          return s;
        }
        return done;
      },
    }),
    async (err: Error) => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      throw err;
    },
  );
}
