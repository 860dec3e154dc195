/**
 * Two private network namespaces joined by a veth pair: the client's (`…-a`, veth-a,
 * 10.78.N.1/24) and the server's (`…-b`, veth-b, 10.78.N.2/24). The addresses exist only inside
 * them, so nothing a recording sends can reach any other network. IPv6 is switched off in both
 * before the veth is made, so the capture holds no neighbour discovery or MLD chatter.
 */
import { execFileSync } from 'node:child_process';
import { RecordError } from './errors.js';

export interface NetnsPair {
  /** The client's namespace (where the capture runs). */
  client: string;
  /** The server's namespace. */
  server: string;
  clientAddr: string;
  serverAddr: string;
  clientIface: 'veth-a';
  serverIface: 'veth-b';
}

let sequence = 0;

/** Names unique to this process and call: ka-rec-<pid>-<n>-a / -b. */
export function pairNames(): NetnsPair {
  const n = sequence++;
  const subnet = `10.78.${(process.pid + n) % 256}`;
  return {
    client: `ka-rec-${process.pid}-${n}-a`,
    server: `ka-rec-${process.pid}-${n}-b`,
    clientAddr: `${subnet}.1`,
    serverAddr: `${subnet}.2`,
    clientIface: 'veth-a',
    serverIface: 'veth-b',
  };
}

/** Run a command to completion; its last line of standard error becomes the message. */
export function run(cmd: string, args: string[]): void {
  try {
    execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') throw new RecordError('missing-tool', `${cmd} is not installed (record needs iproute2's ip and sysctl)`);
    const why = e.stderr?.toString().trim().split('\n').pop() ?? e.message;
    throw new RecordError('setup', `${cmd} ${args.join(' ')}: ${why}`);
  }
}

/** Build the pair. On failure whatever was made is left for `deletePair` (always call it). */
export function createPair(p: NetnsPair): void {
  for (const ns of [p.client, p.server]) {
    run('ip', ['netns', 'add', ns]);
    run('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  }
  run('ip', ['link', 'add', p.clientIface, 'netns', p.client, 'type', 'veth', 'peer', 'name', p.serverIface, 'netns', p.server]);
  run('ip', ['-n', p.client, 'addr', 'add', `${p.clientAddr}/24`, 'dev', p.clientIface]);
  run('ip', ['-n', p.server, 'addr', 'add', `${p.serverAddr}/24`, 'dev', p.serverIface]);
  run('ip', ['-n', p.client, 'link', 'set', p.clientIface, 'up']);
  run('ip', ['-n', p.server, 'link', 'set', p.serverIface, 'up']);
}

/**
 * Drop everything the server sends to the client: the peer "vanishes" while its kernel still
 * holds the connection (its replies die in its own routing table, never on the wire).
 */
export function blackhole(p: NetnsPair, on: boolean): void {
  run('ip', ['-n', p.server, 'route', on ? 'add' : 'del', 'blackhole', `${p.clientAddr}/32`]);
}

/** Remove both namespaces (the veth goes with them). Never throws: it runs on every exit path. */
export function deletePair(p: NetnsPair): void {
  for (const ns of [p.client, p.server]) {
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore', timeout: 10_000 });
    } catch {
      // never made, or already gone
    }
  }
}
