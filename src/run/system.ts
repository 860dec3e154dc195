/**
 * What `keepalive run` asks of the machine before it starts anything: the command's executable,
 * the privileges to make a namespace and capture in it, and the user to run the command as
 * (the one who typed `sudo`).
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { RunError } from './errors.js';

/** Where `name` would be executed from: as given when it holds a slash, else the first match on PATH. */
export function findExecutable(name: string, path: string | undefined): string | null {
  const executable = (p: string): boolean => {
    try {
      return statSync(p).isFile() && (accessSync(p, constants.X_OK), true);
    } catch {
      return false;
    }
  };
  if (name.includes('/')) return executable(name) ? name : null;
  for (const dir of (path ?? '').split(delimiter)) {
    const p = join(dir === '' ? '.' : dir, name);
    if (executable(p)) return p;
  }
  return null;
}

/** The command must exist and be executable before a namespace is made for it (126/127 as a shell says). */
export function checkCommand(command: readonly string[], path: string | undefined): void {
  const name = command[0];
  if (name === undefined || name === '') throw new RunError('usage', 'run: name the command to run after --, as in: keepalive run --expect-idle 1s -- python3 app.py');
  if (findExecutable(name, path) !== null) return;
  if (name.includes('/')) {
    let exists = false;
    try {
      exists = statSync(name).isFile();
    } catch {
      // not there
    }
    if (exists) throw new RunError('not-executable', `${name}: permission denied (not executable)`);
    throw new RunError('not-found', `${name}: no such file`);
  }
  throw new RunError('not-found', `${name}: command not found`);
}

/** Capability bits (linux/capability.h). */
const CAPS = { CAP_NET_ADMIN: 12, CAP_NET_RAW: 13, CAP_SYS_ADMIN: 21 } as const;
export type CapName = keyof typeof CAPS;

/** A capability set of this process from /proc/self/status (`CapEff`, `CapAmb`, …); null when unreadable. */
export function capabilitySet(field: 'CapEff' | 'CapAmb' | 'CapPrm', status?: string): bigint | null {
  let text = status;
  try {
    text ??= readFileSync('/proc/self/status', 'utf8');
  } catch {
    return null;
  }
  const m = new RegExp(`^${field}:\\s*([0-9a-f]+)$`, 'mi').exec(text);
  return m === null ? null : BigInt(`0x${m[1]}`);
}

export function missingCaps(set: bigint | null): CapName[] {
  return (Object.keys(CAPS) as CapName[]).filter((c) => set === null || ((set >> BigInt(CAPS[c])) & 1n) === 0n);
}

/**
 * An isolated run makes a namespace (`ip netns add`: CAP_SYS_ADMIN), configures it
 * (CAP_NET_ADMIN) and captures in it (CAP_NET_RAW), all through programs it executes: root, or
 * the three capabilities as ambient ones (they survive exec).
 */
export function checkIsolationPrivileges(uid = process.getuid?.() ?? -1, status?: string): void {
  if (process.platform !== 'linux') throw new RunError('setup', 'run needs Linux network namespaces (--no-isolate -i IFACE captures without one)');
  if (uid === 0) {
    const missing = missingCaps(capabilitySet('CapEff', status));
    if (missing.length > 0) {
      throw new RunError(
        'not-root',
        `run creates a network namespace and captures in it, which needs ${missing.join(' and ')}; this root process lacks ${missing.length > 1 ? 'them' : 'it'} (in a container: --cap-add NET_ADMIN --cap-add SYS_ADMIN, or --privileged)`,
      );
    }
    return;
  }
  if (missingCaps(capabilitySet('CapAmb', status)).length === 0) return;
  throw new RunError('not-root', 'run creates a network namespace and captures in it, which needs root: run it with sudo (or with CAP_NET_ADMIN, CAP_NET_RAW and CAP_SYS_ADMIN as ambient capabilities)');
}

export interface RunAs {
  uid: number;
  gid: number;
  /** From the password database, when the user is in it. */
  name?: string | undefined;
  home?: string | undefined;
}

/** The user behind `sudo` (SUDO_UID/SUDO_GID) when this process is root; null: run the command as this process is. */
export function invokingUser(env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? -1): RunAs | null {
  if (uid !== 0) return null;
  const u = env.SUDO_UID;
  const g = env.SUDO_GID;
  if (u === undefined || !/^\d+$/.test(u) || Number(u) === 0) return null;
  const gid = g !== undefined && /^\d+$/.test(g) ? Number(g) : Number(u);
  return { uid: Number(u), gid, ...passwdEntry(Number(u)) };
}

/** Name and home directory of a uid (getent, so NSS users count too). */
export function passwdEntry(uid: number): { name?: string; home?: string } {
  const r = spawnSync('getent', ['passwd', String(uid)], { encoding: 'utf8', timeout: 5000 });
  let line = r.status === 0 ? r.stdout.split('\n')[0] : undefined;
  if (line === undefined || line === '') {
    try {
      line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.split(':')[2] === String(uid));
    } catch {
      line = undefined;
    }
  }
  if (line === undefined || line === '') return {};
  const f = line.split(':');
  return { name: f[0], home: f[5] };
}

/** Python fallback for setpriv: set groups, gid, uid, then become the command. */
export const DROP_PY = String.raw`
import os, sys
uid, gid, name = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
if name:
    os.initgroups(name, gid)
else:
    os.setgroups([])
os.setgid(gid)
os.setuid(uid)
try:
    os.execvp(sys.argv[4], sys.argv[4:])
except OSError as e:
    sys.stderr.write('keepalive: cannot run %s: %s\n' % (sys.argv[4], e.strerror))
    sys.exit(127 if e.errno == 2 else 126)
`;

export type DropTool = 'setpriv' | 'python3';

/** The program and arguments that run `command` as `user` (root drops to it just before exec). */
export function asUser(command: readonly string[], user: RunAs | null, tool: DropTool | 'auto' = 'auto', path = process.env.PATH): string[] {
  if (user === null) return [...command];
  const use = tool === 'auto' ? (findExecutable('setpriv', path) !== null ? 'setpriv' : findExecutable('python3', path) !== null ? 'python3' : null) : tool;
  if (use === null) throw new RunError('missing-tool', `running the command as uid ${user.uid} (SUDO_UID) needs setpriv (util-linux) or python3, and neither is installed`);
  if (use === 'setpriv') {
    return ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, user.name !== undefined ? '--init-groups' : '--clear-groups', '--', ...command];
  }
  return ['python3', '-c', DROP_PY, String(user.uid), String(user.gid), user.name ?? '', ...command];
}

/** The command's environment: ours, with HOME, USER and LOGNAME the user's own when we drop to them. */
export function userEnv(env: NodeJS.ProcessEnv, user: RunAs | null): NodeJS.ProcessEnv {
  if (user === null) return env;
  const out = { ...env };
  if (user.home !== undefined) out.HOME = user.home;
  if (user.name !== undefined) {
    out.USER = user.name;
    out.LOGNAME = user.name;
  }
  return out;
}
