// Small synthetic conversations built with the project's own synthesizer (valid checksums),
// for link types and file layouts no machine here records. Every such file is checked
// against tshark by the tests that use it.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSink, PcapngWriter, PcapWriter, type PcapngInterface } from '../src/capture/writer.js';
import { ACK, FIN, PSH, SYN } from '../src/decode/segment.js';
import { ipPacket, linkFrame, type TcpSpec } from '../src/synth/packet.js';

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'keepalive-test-'));
}

export interface SynthFrame {
  ip: Uint8Array;
  tsSec: number;
  tsNsec: number;
  outbound: boolean;
}

/** Handshake, a little data, two answered keepalive probes (one Linux-empty, one Windows one-byte), FIN. */
export function keepaliveConversation(v6: boolean, startSec = 1_763_000_000, isn = 1000): SynthFrame[] {
  const c = v6 ? 'fd77::1' : '10.77.0.1';
  const s = v6 ? 'fd77::2' : '10.77.0.2';
  let cs = isn;
  let ss = 900_000;
  const out: SynthFrame[] = [];
  let t = 0;
  const push = (fromClient: boolean, spec: Partial<TcpSpec>, dt: number) => {
    t += dt;
    const sec = startSec + Math.floor(t);
    const nsec = Math.round((t - Math.floor(t)) * 1e9);
    out.push({
      ip: ipPacket({ src: fromClient ? c : s, dst: fromClient ? s : c, srcPort: fromClient ? 41000 : 9000, dstPort: fromClient ? 9000 : 41000, seq: fromClient ? cs : ss, ...spec }),
      tsSec: sec,
      tsNsec: nsec,
      outbound: fromClient,
    });
  };
  push(true, { flags: SYN, mss: 1460, sackPermitted: true, timestamps: [1, 0], windowScale: 7, window: 64240 }, 0);
  cs++;
  push(false, { flags: SYN | ACK, ack: cs, mss: 1460, sackPermitted: true, timestamps: [2, 1], windowScale: 7, window: 65160 }, 0.0001);
  ss++;
  push(true, { ack: ss }, 0.0001);
  push(true, { flags: PSH | ACK, ack: ss, payload: 5 }, 0.001);
  cs += 5;
  push(false, { ack: cs }, 0.0001);
  push(true, { seq: cs - 1, ack: ss }, 1.024);
  push(false, { ack: cs }, 0.0001);
  push(true, { seq: cs - 1, ack: ss, payload: Uint8Array.of(0) }, 1.024);
  push(false, { ack: cs }, 0.0001);
  push(true, { flags: FIN | ACK, ack: ss }, 0.5);
  cs++;
  push(false, { flags: FIN | ACK, ack: cs }, 0.0001);
  ss++;
  push(true, { ack: ss }, 0.0001);
  return out;
}

export function writePcap(path: string, linkType: number, frames: SynthFrame[], opts: { nanosecond?: boolean; bigEndian?: boolean; vlans?: { tpid: number; id: number }[]; bigEndianFamily?: boolean } = {}): string {
  const w = new PcapWriter(new FileSink(path), { linkType, nanosecond: opts.nanosecond, bigEndian: opts.bigEndian });
  for (const f of frames) w.writeFrame(linkFrame(linkType, f.ip, { outbound: f.outbound, vlans: opts.vlans, bigEndianFamily: opts.bigEndianFamily }), f.tsSec, f.tsNsec);
  w.close();
  return path;
}

/** Frames spread over sections and interfaces: frame i goes to interface i % interfaces.length. */
export function writePcapng(path: string, sections: { bigEndian?: boolean; interfaces: PcapngInterface[]; frames: SynthFrame[] }[]): string {
  let w: PcapngWriter | null = null;
  for (const s of sections) {
    if (w === null) w = new PcapngWriter(new FileSink(path), s);
    else w.section(s);
    s.frames.forEach((f, i) => {
      const ifId = i % s.interfaces.length;
      w!.writeFrame(linkFrame(s.interfaces[ifId]!.linkType, f.ip, { outbound: f.outbound }), f.tsSec, f.tsNsec, undefined, ifId);
    });
  }
  w!.close();
  return path;
}

import type { ConversationFrame } from '../src/synth/conversation.js';

/** Write conversation frames as an Ethernet pcap (nanosecond). */
export function writeConversation(path: string, frames: ConversationFrame[]): string {
  const w = new PcapWriter(new FileSink(path), { linkType: 1, nanosecond: true });
  for (const f of frames) w.writeFrame(linkFrame(1, f.ip, { outbound: f.fromClient }), f.tsSec, f.tsNsec);
  w.close();
  return path;
}
