/**
 * `keepalive run -- CMD`: run a command in a private network namespace of its own (its loopback
 * only, so the clients and servers it starts talk inside it), capture that namespace's traffic
 * live for as long as the command runs, and hand back the analysis with how the command ended.
 *
 * Order of events: namespace (lo up, keepalive sysctls when asked) → capture running in it (the
 * child-process capture of `live --netns`) → the command, as the user behind sudo, with our
 * standard input, output and error → it exits → whatever it left running in the namespace is
 * stopped → a short settle so the last segments reach the capture → capture stopped → namespace
 * removed. The namespace and every process in it are removed on every exit path: `finally`,
 * and a process `exit` hook for paths that skip it. Only SIGKILL of keepalive itself can leave
 * a namespace behind.
 *
 * `isolate: false` captures on an existing interface of this namespace instead (a service
 * started elsewhere) while the command runs here.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { constants } from 'node:os';
import { captureLive, type LiveEvent, type LiveResult } from '../live/session.js';
import { RunError } from './errors.js';
import {
  createNamespace,
  deleteNamespace,
  killNamespaceProcessesNow,
  namespaceName,
  namespacePids,
  readKernelKeepalive,
  setKernelKeepalive,
  stopNamespaceProcesses,
  type KernelKeepalive,
} from './namespace.js';
import { asUser, checkCommand, checkIsolationPrivileges, invokingUser, userEnv, type DropTool, type RunAs } from './system.js';

export const DEFAULT_SETTLE_SECONDS = 0.5;

export interface RunOptions {
  /** The command and its arguments, exactly as they are to reach it. */
  command: string[];
  /** Run it in a private network namespace of its own (default), or here while capturing on `iface`. */
  isolate?: boolean | undefined;
  /** With `isolate: false`: the interface to capture on (`lo`, `eth0`, `any`). */
  iface?: string | undefined;
  /** BPF capture filter (pcap-filter(7)). */
  filter?: string | undefined;
  /** The namespace's own net.ipv4.tcp_keepalive_time/intvl/probes (whole seconds; probes 1–127). Isolated runs only. */
  kernel?: Partial<KernelKeepalive> | undefined;
  /** Also write the frames to this capture file (never overwritten). */
  write?: string | undefined;
  /** Only connections with this port / address at either end. */
  port?: number | undefined;
  host?: string | undefined;
  /** Kernel capture buffer, bytes. */
  bufferSize?: number | undefined;
  /** Seconds the capture goes on after the command exits (default 0.5). */
  settleSeconds?: number | undefined;
  /** Whom to run the command as; default the user behind sudo (SUDO_UID/SUDO_GID) when root, else as this process is. */
  runAs?: RunAs | null | undefined;
  /** How to drop to `runAs` (default setpriv, or python3 where setpriv is missing). */
  dropTool?: DropTool | 'auto' | undefined;
  /** The command's environment (default ours; HOME, USER and LOGNAME become the user's when it runs as another user). */
  env?: NodeJS.ProcessEnv | undefined;
  cwd?: string | undefined;
  /** The command's standard input, output and error (default: ours, untouched). */
  stdio?: StdioOptions | undefined;
  /** Keepalive events as they happen. */
  onEvent?: ((event: LiveEvent) => void) | undefined;
  /** The capture runs; the command is about to start. */
  onReady?: ((info: RunStart) => void) | undefined;
  /** The command started. */
  onSpawn?: ((child: ChildProcess) => void) | undefined;
  /** Aborting it stops the command with SIGTERM (as `kill('SIGTERM')`). */
  signal?: AbortSignal | undefined;
}

export interface RunStart {
  /** The namespace the command runs in; null with `isolate: false`. */
  namespace: string | null;
  iface: string;
  linkType: number;
  /** The keepalive sysctls in force where the command runs. */
  kernel: KernelKeepalive;
  runAs: RunAs | null;
}

export interface CommandExit {
  /** False when the run was interrupted before the command could start. */
  started: boolean;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** What a shell would say: the code, or 128 + the signal's number. */
  status: number;
  /** Seconds the command ran. */
  seconds: number;
}

export interface RunResult extends LiveResult {
  command: string[];
  namespace: string | null;
  isolated: boolean;
  kernel: KernelKeepalive;
  /** The sysctls set by the caller (`kernel` option). */
  kernelSet: Partial<KernelKeepalive>;
  runAs: RunAs | null;
  exit: CommandExit;
  /** The first signal that stopped the run (forwarded to the command), or null. */
  interrupted: NodeJS.Signals | null;
  /** Processes the command left running in its namespace, stopped when it exited. */
  leftovers: number;
  /** When the capture stopped. */
  captureEnd: Date;
}

export interface RunHandle {
  readonly result: Promise<RunResult>;
  /**
   * Forward a signal: the first goes to the command as it is (Ctrl-C: SIGINT, SIGTERM), later
   * ones kill it (SIGKILL). Before the command has started, the run is cancelled instead.
   * `deliver: false` counts the signal without sending it (the command already had it: a
   * terminal's Ctrl-C reaches the whole foreground process group, the command included).
   */
  kill(signal: NodeJS.Signals, deliver?: boolean): void;
}

/** 128 + the signal's number, as shells report a death by signal. */
export function signalStatus(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

const MAX_SECONDS = 32767;

/** Checks made before anything is created. */
export function validateRunOptions(o: RunOptions): void {
  if (o.command.length === 0 || o.command[0] === '') {
    throw new RunError('usage', 'run: name the command to run after --, as in: keepalive run --expect-idle 1s -- python3 app.py');
  }
  const isolate = o.isolate !== false;
  const k = o.kernel ?? {};
  const flags = { idle: '--kernel-idle', interval: '--kernel-interval', count: '--kernel-count' } as const;
  for (const key of ['idle', 'interval', 'count'] as const) {
    const v = k[key];
    if (v === undefined) continue;
    if (!isolate) throw new RunError('usage', `${flags[key]}: only for an isolated run (it sets the private namespace's sysctl; with --no-isolate the host's would change)`);
    const max = key === 'count' ? 127 : MAX_SECONDS;
    if (!Number.isInteger(v) || v < 1 || v > max) {
      throw new RunError('usage', `${flags[key]}: ${v} is not possible: the sysctl takes whole ${key === 'count' ? 'probes' : 'seconds'}, 1 to ${max}`);
    }
  }
  if (isolate && o.iface !== undefined) throw new RunError('usage', "-i: only with --no-isolate (an isolated run captures its namespace's lo)");
  if (!isolate && (o.iface === undefined || o.iface === '')) throw new RunError('usage', '--no-isolate: name the interface to capture on with -i (lo for a service on this machine)');
  if (o.settleSeconds !== undefined && !(o.settleSeconds >= 0 && o.settleSeconds <= 60)) throw new RunError('usage', `--settle: ${o.settleSeconds} s is not possible (0 to 60 s)`);
}

/** What a running `run` holds, for the cleanup that must happen whatever becomes of keepalive. */
interface Active {
  namespace: string | null;
  child: ChildProcess | null;
}
const active = new Set<Active>();
let exitHook = false;

function isRunning(c: ChildProcess | null): c is ChildProcess {
  return c !== null && c.pid !== undefined && c.exitCode === null && c.signalCode === null;
}

/** Synchronous last resort on process exit: kill the command and everything in our namespaces, delete them. */
function cleanupOnExit(): void {
  for (const a of active) {
    if (isRunning(a.child)) {
      try {
        a.child.kill('SIGKILL');
      } catch {
        // gone
      }
    }
    if (a.namespace !== null) {
      killNamespaceProcessesNow(a.namespace);
      deleteNamespace(a.namespace);
    }
  }
  active.clear();
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function startRun(options: RunOptions): RunHandle {
  let child: ChildProcess | null = null;
  let signals = 0;
  let interrupted: NodeJS.Signals | null = null;
  let cancel!: () => void;
  const cancelled = new Promise<void>((r) => (cancel = r));

  const kill = (sig: NodeJS.Signals, deliver = true): void => {
    signals++;
    interrupted ??= sig;
    if (isRunning(child)) {
      try {
        if (signals > 1) child.kill('SIGKILL');
        else if (deliver) child.kill(sig);
      } catch {
        // it is exiting
      }
    } else {
      cancel();
    }
  };
  const onAbort = (): void => kill('SIGTERM');

  const result = (async (): Promise<RunResult> => {
    validateRunOptions(options);
    const isolated = options.isolate !== false;
    const env = options.env ?? process.env;
    checkCommand(options.command, env.PATH);
    if (isolated) checkIsolationPrivileges();
    const runAs = options.runAs !== undefined ? options.runAs : invokingUser(env);
    const argv = asUser(options.command, runAs, options.dropTool ?? 'auto', env.PATH);
    const namespace = isolated ? namespaceName() : null;
    const state: Active = { namespace, child: null };
    active.add(state);
    if (!exitHook) {
      exitHook = true;
      process.on('exit', cleanupOnExit);
    }
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    const stopCapture = new AbortController();
    let capture: Promise<LiveResult> | null = null;
    let leftovers = 0;
    let leftoversStopped = false;
    const keep = new Set<number>();
    try {
      const kernelSet = Object.fromEntries(Object.entries(options.kernel ?? {}).filter(([, v]) => v !== undefined)) as Partial<KernelKeepalive>;
      let kernel: KernelKeepalive;
      if (namespace !== null) {
        createNamespace(namespace);
        setKernelKeepalive(namespace, kernelSet);
        kernel = readKernelKeepalive(namespace);
      } else {
        kernel = readKernelKeepalive(null);
      }
      const iface = namespace !== null ? 'lo' : options.iface!;
      let ready!: (s: { iface: string; linkType: number }) => void;
      const isReady = new Promise<{ iface: string; linkType: number }>((r) => (ready = r));
      capture = captureLive({
        iface,
        netns: namespace ?? undefined,
        filter: options.filter,
        bufferSize: options.bufferSize,
        write: options.write,
        port: options.port,
        host: options.host,
        onEvent: options.onEvent,
        onReady: (s) => ready(s),
        signal: stopCapture.signal,
      });
      // A capture that fails to start rejects here; one that starts resolves isReady first.
      const source = await Promise.race([isReady, capture, cancelled.then(() => null)]);
      // The capture's own process is in the namespace: it is not the command's to leave behind.
      if (namespace !== null) for (const p of namespacePids(namespace)) keep.add(p);

      let exit: CommandExit;
      if (source === null || !('linkType' in source) || interrupted !== null) {
        exit = { started: false, code: null, signal: interrupted, status: interrupted !== null ? signalStatus(interrupted) : 1, seconds: 0 };
      } else {
        options.onReady?.({ namespace, iface: source.iface, linkType: source.linkType, kernel, runAs });
        const [file, ...args] = namespace !== null ? ['ip', 'netns', 'exec', namespace, ...argv] : argv;
        const started = Date.now();
        // Not detached: the command stays in keepalive's process group, so a terminal treats it as
        // the foreground job (it may read the terminal, and Ctrl-C reaches it as it would anyway).
        const c = spawn(file!, args, { stdio: options.stdio ?? 'inherit', env: userEnv(env, runAs), cwd: options.cwd });
        child = c;
        state.child = c;
        const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((res) => {
          c.once('error', (error) => res({ code: null, signal: null, error }));
          c.once('exit', (code, signal) => res({ code, signal }));
        });
        if (c.pid !== undefined) options.onSpawn?.(c);
        const e = await ended;
        if (e.error !== undefined) throw new RunError('setup', `cannot start ${options.command[0]}: ${e.error.message}`);
        exit = {
          started: true,
          code: e.code,
          signal: e.signal,
          status: e.code !== null ? e.code : e.signal !== null ? signalStatus(e.signal) : 1,
          seconds: (Date.now() - started) / 1000,
        };
      }
      // The command is done: so is whatever it left running in its namespace (its connections close in the capture).
      if (namespace !== null) {
        leftovers = await stopNamespaceProcesses(namespace, keep);
        leftoversStopped = true;
      }
      if (exit.started) await delay((options.settleSeconds ?? DEFAULT_SETTLE_SECONDS) * 1000);
      stopCapture.abort();
      const captureEnd = new Date();
      const live = await capture;
      return {
        ...live,
        command: [...options.command],
        namespace,
        isolated,
        kernel,
        kernelSet,
        runAs,
        exit,
        interrupted,
        leftovers,
        captureEnd,
      };
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      stopCapture.abort();
      if (capture !== null) await capture.catch(() => undefined);
      if (isRunning(child)) {
        const c: ChildProcess = child;
        const gone = new Promise((r) => c.once('exit', r));
        c.kill('SIGKILL');
        await Promise.race([gone, delay(2000)]);
      }
      if (namespace !== null) {
        if (!leftoversStopped) await stopNamespaceProcesses(namespace, new Set(), 500);
        deleteNamespace(namespace);
      }
      active.delete(state);
    }
  })();
  return { result, kill };
}

/** `startRun` for callers that only need to stop it: aborting `options.signal` stops the command with SIGTERM. */
export function runWithCapture(options: RunOptions): Promise<RunResult> {
  return startRun(options).result;
}
