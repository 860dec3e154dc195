/**
 * Kernel drops on our capture socket, without pcap_stats (cap does not expose it).
 *
 * libpcap on Linux captures through an AF_PACKET socket with a ring buffer; a frame that finds
 * the ring full is dropped and counted in the socket's `tp_drops`, which only
 * getsockopt(SOL_PACKET, PACKET_STATISTICS) reads (it is what pcap_stats() returns as
 * `ps_drop`). The socket's generic `sk_drops` (ss -m's `d`) stays 0 for ring drops: measured
 * here, 7219 frames dropped while ss said d0. Node has no getsockopt, so a small python3 helper
 * borrows the socket: pidfd_open(our pid) and pidfd_getfd(the capture descriptor) give it a
 * duplicate of the very socket (Linux 5.6+), on which it reads the statistics. Borrowing a
 * descriptor needs ptrace rights over this process (root, CAP_SYS_PTRACE, or the same user with
 * Yama's ptrace_scope 0); without them the count is reported as unavailable, with the reason.
 *
 * Reading PACKET_STATISTICS resets the kernel's counters; nothing else reads them here (cap
 * never calls pcap_stats), so one read at the end covers the whole capture.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';

/** Socket descriptors of this process: descriptor number → inode. */
export function socketDescriptors(): Map<number, string> {
  const out = new Map<number, string>();
  let fds: string[];
  try {
    fds = readdirSync('/proc/self/fd');
  } catch {
    return out;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m) out.set(Number(fd), m[1]!);
    } catch {
      // closed between the listing and the readlink
    }
  }
  return out;
}

/** Descriptors present now that were not in `before` (the one cap's open() made). */
export function newSockets(before: Map<number, string>): number[] {
  return [...socketDescriptors()].filter(([fd, ino]) => before.get(fd) !== ino).map(([fd]) => fd);
}

export const PACKET_STATS_PY = String.raw`
import ctypes, json, sys
libc = ctypes.CDLL(None, use_errno=True)
pid, fd = int(sys.argv[1]), int(sys.argv[2])
def fail(what):
    e = ctypes.get_errno()
    import os
    print(json.dumps({'error': '%s: %s' % (what, os.strerror(e))}))
    sys.exit(0)
SYS_pidfd_open, SYS_pidfd_getfd = 434, 438  # the same on every architecture
pidfd = libc.syscall(SYS_pidfd_open, pid, 0)
if pidfd < 0: fail('pidfd_open')
dup = libc.syscall(SYS_pidfd_getfd, pidfd, fd, 0)
if dup < 0: fail('pidfd_getfd')
buf = ctypes.create_string_buffer(16)
size = ctypes.c_uint32(16)
SOL_PACKET, PACKET_STATISTICS = 263, 6
if libc.getsockopt(dup, SOL_PACKET, PACKET_STATISTICS, buf, ctypes.byref(size)) != 0: fail('getsockopt PACKET_STATISTICS')
packets = int.from_bytes(buf.raw[0:4], sys.byteorder)
drops = int.from_bytes(buf.raw[4:8], sys.byteorder)
print(json.dumps({'packets': packets, 'drops': drops}))
`;

export interface DropCount {
  /** Frames the kernel dropped because the ring was full. */
  drops: number | null;
  /** Frames that passed the filter, dropped ones included (tcpdump's "received by filter"). */
  received: number | null;
  /** Why `drops` is null. */
  unavailable?: string;
}

/** Read PACKET_STATISTICS of our socket `fd` (see the file comment). */
export function kernelDrops(fds: readonly number[]): DropCount {
  if (fds.length !== 1) return { drops: null, received: null, unavailable: `the capture socket was not identified among this process's descriptors (${fds.length} candidates)` };
  let out: string;
  try {
    out = execFileSync('python3', ['-c', PACKET_STATS_PY, String(process.pid), String(fds[0])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') return { drops: null, received: null, unavailable: 'python3, which reads the statistics, is not installed' };
    return { drops: null, received: null, unavailable: `the statistics helper failed: ${(e.stderr ?? e.message).trim().split('\n').pop()}` };
  }
  let v: { packets?: number; drops?: number; error?: string };
  try {
    v = JSON.parse(out) as typeof v;
  } catch {
    return { drops: null, received: null, unavailable: 'the statistics helper said nothing readable' };
  }
  if (typeof v.drops !== 'number') return { drops: null, received: null, unavailable: `cannot read the capture socket's statistics (${v.error ?? 'no answer'}; it needs root or CAP_SYS_PTRACE)` };
  return { drops: v.drops, received: v.packets ?? null };
}
