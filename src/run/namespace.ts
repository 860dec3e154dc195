/**
 * The private network namespace of one `keepalive run`: `ka-run-<pid>-<n>`, nothing in it but its
 * own loopback (up), its keepalive sysctls set when asked. Those sysctls are per network
 * namespace (Linux 4.13+), so the host's values are never touched.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { RunError } from './errors.js';

/** The kernel's keepalive defaults for sockets that do not set their own (seconds, seconds, probes). */
export interface KernelKeepalive {
  /** net.ipv4.tcp_keepalive_time */
  idle: number;
  /** net.ipv4.tcp_keepalive_intvl */
  interval: number;
  /** net.ipv4.tcp_keepalive_probes */
  count: number;
}

export const SYSCTLS = {
  idle: 'net.ipv4.tcp_keepalive_time',
  interval: 'net.ipv4.tcp_keepalive_intvl',
  count: 'net.ipv4.tcp_keepalive_probes',
} as const;

let sequence = 0;

/** Unique to this process and call. */
export function namespaceName(): string {
  return `ka-run-${process.pid}-${sequence++}`;
}

function exec(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000, encoding: 'utf8' });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new RunError('missing-tool', `${cmd} is not installed (run needs iproute2's ip and procps' sysctl)`);
    const why = e.stderr?.toString().trim().split('\n').pop() || e.message;
    throw new RunError('setup', `${cmd} ${args.join(' ')}: ${why}`);
  }
}

/** Make the namespace with its loopback up. On failure whatever was made is left for `deleteNamespace` (always call it). */
export function createNamespace(name: string): void {
  exec('ip', ['netns', 'add', name]);
  exec('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
}

/** Set some of the namespace's keepalive sysctls. */
export function setKernelKeepalive(name: string, k: Partial<KernelKeepalive>): void {
  const assignments = (Object.keys(SYSCTLS) as (keyof KernelKeepalive)[]).filter((key) => k[key] !== undefined).map((key) => `${SYSCTLS[key]}=${k[key]}`);
  if (assignments.length > 0) exec('ip', ['netns', 'exec', name, 'sysctl', '-qw', ...assignments]);
}

/** The keepalive sysctls in force inside `name`, or in this process's own namespace when `name` is null. */
export function readKernelKeepalive(name: string | null): KernelKeepalive {
  const keys = Object.keys(SYSCTLS) as (keyof KernelKeepalive)[];
  let values: number[];
  if (name === null) {
    values = keys.map((k) => Number(readFileSync(`/proc/sys/${SYSCTLS[k].replace(/\./g, '/')}`, 'utf8').trim()));
  } else {
    values = exec('ip', ['netns', 'exec', name, 'sysctl', '-n', ...keys.map((k) => SYSCTLS[k])])
      .trim()
      .split(/\s+/)
      .map(Number);
  }
  if (values.length !== 3 || values.some((v) => !Number.isFinite(v))) throw new RunError('setup', `cannot read ${keys.map((k) => SYSCTLS[k]).join(', ')}`);
  return { idle: values[0]!, interval: values[1]!, count: values[2]! };
}

/** Processes inside the namespace (`ip netns pids`); empty when it is gone. */
export function namespacePids(name: string): number[] {
  try {
    return execFileSync('ip', ['netns', 'pids', name], { stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000, encoding: 'utf8' })
      .split('\n')
      .filter((l) => /^\d+$/.test(l.trim()))
      .map(Number);
  } catch {
    return [];
  }
}

function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone already
    }
  }
}

/**
 * SIGTERM the processes in the namespace that are not in `keep`, SIGKILL what is still there
 * after `graceMs`. Returns how many there were.
 */
export async function stopNamespaceProcesses(name: string, keep: ReadonlySet<number> = new Set(), graceMs = 1000): Promise<number> {
  const others = (): number[] => namespacePids(name).filter((p) => !keep.has(p));
  const left = others();
  if (left.length === 0) return 0;
  signalAll(left, 'SIGTERM');
  const until = Date.now() + graceMs;
  let still = others();
  while (still.length > 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    still = others();
  }
  signalAll(still, 'SIGKILL');
  return left.length;
}

/** For exit paths that cannot wait. */
export function killNamespaceProcessesNow(name: string): void {
  signalAll(namespacePids(name), 'SIGKILL');
}

/** Remove the namespace. Never throws: it runs on every exit path. */
export function deleteNamespace(name: string): void {
  try {
    execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore', timeout: 10_000 });
  } catch {
    // never made, or already gone
  }
}
