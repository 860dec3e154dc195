/**
 * The `cap` package (a libpcap binding, native addon), loaded on first use: it is an optional
 * dependency, so file analysis installs and runs where libpcap is absent. Everything that
 * knows cap's API and libpcap's messages lives here.
 *
 * What cap 0.2.1 gives (node_modules/cap/src/binding.cc): `open()` creates, activates and
 * filters a pcap handle with snaplen 65535, promiscuous mode and immediate mode, and emits
 * `packet(nbytes, truncated)` after copying the frame into the caller's buffer. It passes on
 * neither libpcap's timestamp (`pkthdr.ts`), nor the wire length (`pkthdr.len`), nor
 * `pcap_stats()`; see src/live/source.ts for what is done instead.
 */
import { createRequire } from 'node:module';

export interface CapAddress {
  addr?: string;
  netmask?: string;
  broadaddr?: string;
  dstaddr?: string;
}

export interface CapDevice {
  name: string;
  description?: string;
  addresses: CapAddress[];
  flags?: string;
}

export interface CapHandle {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  close(): boolean;
  on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): unknown;
  removeAllListeners(event?: string): unknown;
}

export interface CapModule {
  Cap: {
    new (): CapHandle;
    deviceList(): CapDevice[];
    findDevice(ip?: string): string | undefined;
  };
}

/** What went wrong, for messages and exit statuses; every kind is exit status 2 on the command line. */
export type LiveErrorKind = 'cap-missing' | 'permission' | 'no-such-device' | 'bad-filter' | 'interface-down' | 'netns' | 'output' | 'capture';

export class LiveError extends Error {
  override name = 'LiveError';
  constructor(
    readonly kind: LiveErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export const CAP_MISSING_HINT = 'install libpcap-dev, then npm rebuild cap';
export const PERMISSION_HINT = 'run as root or grant capabilities: sudo setcap cap_net_raw,cap_net_admin=eip $(readlink -f $(which node))';

let loaded: CapModule | null = null;

/**
 * Load cap once. `specifier` (a package name or a path) exists for tests that show what a
 * missing or unbuilt addon looks like.
 */
export function loadCap(specifier = 'cap'): CapModule {
  if (specifier === 'cap' && loaded !== null) return loaded;
  const require = createRequire(import.meta.url);
  let mod: CapModule;
  try {
    mod = require(specifier) as CapModule;
  } catch (err) {
    throw new LiveError('cap-missing', `live capture needs the optional package cap built against libpcap: ${capLoadProblem(err as NodeJS.ErrnoException, specifier)}; ${CAP_MISSING_HINT}`);
  }
  if (typeof mod?.Cap !== 'function' || typeof mod.Cap.deviceList !== 'function') {
    throw new LiveError('cap-missing', `live capture needs the optional package cap built against libpcap: ${specifier} does not look like cap; ${CAP_MISSING_HINT}`);
  }
  if (specifier === 'cap') loaded = mod;
  return mod;
}

function capLoadProblem(err: NodeJS.ErrnoException, specifier: string): string {
  const msg = String(err?.message ?? err).split('\n')[0]!;
  if (err?.code === 'MODULE_NOT_FOUND' && /cap\.node/.test(msg)) return 'cap is installed but its native addon was never built (no build/Release/cap.node)';
  if (err?.code === 'MODULE_NOT_FOUND') return `${specifier} is not installed`;
  if (err?.code === 'ERR_DLOPEN_FAILED' && /libpcap/.test(msg)) return `its addon cannot load libpcap (${msg})`;
  if (err?.code === 'ERR_DLOPEN_FAILED') return `its addon does not load in this Node.js (${msg})`;
  return msg;
}

/**
 * cap names five DLT values and says "Unknown linktype N" for the others. On Linux the DLT
 * values it can return equal the LINKTYPE values written to files, except raw IP (DLT 12, or
 * 14 on some systems), which files call 101.
 */
export function linkTypeOf(capName: string): number {
  switch (capName) {
    case 'NULL':
      return 0;
    case 'ETHERNET':
      return 1;
    case 'IEEE802_11_RADIO':
      return 127;
    case 'LINKTYPE_LINUX_SLL':
      return 113;
    case 'RAW':
      return 101;
  }
  const m = /^Unknown linktype (\d+)$/.exec(capName);
  if (m === null) throw new LiveError('capture', `cap reported an unrecognised link type '${capName}'`);
  const dlt = Number(m[1]);
  return dlt === 12 || dlt === 14 ? 101 : dlt;
}

/** Interfaces libpcap can capture on, as "name (addresses)" for messages. */
export function describeDevices(devices: readonly CapDevice[]): string {
  return devices.map((d) => d.name).join(', ');
}

/**
 * A failed `open()` as one of our kinds. libpcap's own words are kept (pcap_geterr), prefixed
 * with what to do.
 */
export function openError(message: string, iface: string, filter: string, devices: readonly CapDevice[] | null): LiveError {
  const m = message.trim();
  if (/permission|not permitted|EPERM|EACCES/i.test(m)) {
    return new LiveError('permission', `cannot capture on ${iface}: ${m}; ${PERMISSION_HINT}`);
  }
  if (/no such device|doesn't exist|does not exist|ENODEV|ENXIO/i.test(m)) {
    const list = devices !== null ? `; available: ${describeDevices(devices)}` : '';
    return new LiveError('no-such-device', `no interface named '${iface}'${list}`);
  }
  if (/not up/i.test(m)) return new LiveError('interface-down', `cannot capture on ${iface}: ${m} (bring it up: ip link set ${iface} up)`);
  // Past activation, what fails is compiling or attaching the filter (pcap_compile's words
  // vary: "syntax error", "illegal port number 99999 > 65535", "unknown ether proto 'foo'").
  if (filter !== '') return new LiveError('bad-filter', `invalid capture filter '${filter}': ${m}`);
  return new LiveError('capture', `cannot capture on ${iface}: ${m}`);
}
