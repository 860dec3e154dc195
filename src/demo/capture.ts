/**
 * A demo's capture on disk and back: written as pcap or pcapng (Ethernet, as tcpdump on the
 * client would write it), then read with the project's own readers, once, into the analysis
 * (its report and its events) and into plain per-frame records for the explanation.
 */
import { Analysis } from '../analysis/analyze.js';
import type { KeepaliveEvent, Report, Side } from '../analysis/model.js';
import { openCapture, readFrames } from '../capture/open.js';
import { FileSink, PcapngWriter, PcapWriter } from '../capture/writer.js';
import { DECODED_TCP, decodeFrame } from '../decode/decode.js';
import { ipStart, LINKTYPE_ETHERNET } from '../decode/link.js';
import { formatEndpoint, Segment, SYN } from '../decode/segment.js';
import { readOptions } from '../decode/tcp.js';
import type { ConversationFrame } from '../synth/conversation.js';
import { linkFrame } from '../synth/packet.js';

export type CaptureFormat = 'pcap' | 'pcapng';

/** Classic pcap when the name ends in .pcap; pcapng (Wireshark's own format) otherwise. */
export function captureFormatOf(path: string): CaptureFormat {
  return /\.pcap$/i.test(path) ? 'pcap' : 'pcapng';
}

/** Write the frames; the file must not exist yet (FileSink opens it 'wx'). */
export function writeCapture(path: string, frames: readonly ConversationFrame[], format: CaptureFormat = captureFormatOf(path)): void {
  const sink = new FileSink(path);
  const w =
    format === 'pcap'
      ? new PcapWriter(sink, { linkType: LINKTYPE_ETHERNET })
      : new PcapngWriter(sink, { interfaces: [{ linkType: LINKTYPE_ETHERNET, name: 'eth0' }], application: 'keepalive demo' });
  for (const f of frames) w.writeFrame(linkFrame(LINKTYPE_ETHERNET, f.ip, { outbound: f.fromClient }), f.tsSec, f.tsNsec);
  w.close();
}

/** One captured TCP segment as the explanation needs it (copied out of the reader's buffer). */
export interface DemoFrame {
  number: number;
  tsSec: number;
  tsNsec: number;
  /** Seconds since the first frame. */
  t: number;
  from: Side;
  seq: number;
  ack: number;
  flags: number;
  /** Window field as sent, and scaled by the sender's window scale once both SYNs agreed on it. */
  window: number;
  windowBytes: number;
  payloadLen: number;
  /** Up to the first 64 payload bytes. */
  payload: Uint8Array;
  ttl: number | null;
  /** Options of a SYN (null on other segments); timestamps on any segment that has them. */
  syn: { mss: number; windowScale: number; sackPermitted: boolean } | null;
  timestamps: { tsVal: number; tsEcr: number } | null;
}

export interface DemoCapture {
  report: Report;
  events: KeepaliveEvent[];
  frames: DemoFrame[];
}

/** Read a demo capture: the analysis `keepalive analyze` runs, and the frames it ran on. */
export async function readDemoCapture(path: string): Promise<DemoCapture> {
  const events: KeepaliveEvent[] = [];
  const analysis = new Analysis({ onEvent: (e) => events.push(e) });
  const file = await openCapture(path);
  const seg = new Segment();
  const raw: (Omit<DemoFrame, 'from' | 't' | 'windowBytes'> & { src: string })[] = [];
  try {
    const reading = readFrames([file], (frame, n) => {
      analysis.frame(frame, n);
      if (decodeFrame(frame, seg) !== DECODED_TCP) return;
      const ipAt = ipStart(frame);
      const version = frame.data[ipAt]! >> 4;
      readOptions(seg);
      raw.push({
        number: n,
        tsSec: seg.tsSec,
        tsNsec: seg.tsNsec,
        src: formatEndpoint(seg.ipVersion, seg.src0, seg.src1, seg.src2, seg.src3, seg.srcPort),
        seq: seg.seq,
        ack: seg.ack,
        flags: seg.flags,
        window: seg.window,
        payloadLen: seg.payloadLen,
        payload: Uint8Array.from(seg.data.subarray(seg.optionsEnd, Math.min(seg.optionsEnd + Math.min(seg.payloadLen, 64), frame.offset + frame.capLen))),
        ttl: version === 4 ? frame.data[ipAt + 8]! : version === 6 ? frame.data[ipAt + 7]! : null,
        syn: (seg.flags & SYN) !== 0 ? { mss: seg.mss, windowScale: seg.windowScale, sackPermitted: seg.sackPermitted } : null,
        timestamps: seg.hasTimestamps ? { tsVal: seg.tsVal, tsEcr: seg.tsEcr } : null,
      });
    });
    for await (const _ of reading);
  } finally {
    await file.input.close();
  }
  const { reports, summary } = analysis.finish([file.name], file.allWarnings());
  const report: Report = { version: 1, summary, connections: reports.sort((a, b) => a.firstFrame - b.firstFrame) };
  const conn = report.connections[0];
  const first = raw[0];
  // Window scaling holds once both SYNs carried the option (RFC 7323 §2.2).
  const scale: Record<Side, number> = { client: 0, server: 0 };
  const offered: Record<Side, number> = { client: -1, server: -1 };
  const frames = raw.map(({ src, ...f }): DemoFrame => {
    const from: Side = conn !== undefined ? (src === conn.client ? 'client' : 'server') : 'client';
    if (f.syn !== null) {
      offered[from] = f.syn.windowScale;
      if (offered.client >= 0 && offered.server >= 0) {
        scale.client = offered.client;
        scale.server = offered.server;
      }
    }
    const t = first === undefined ? 0 : f.tsSec - first.tsSec + (f.tsNsec - first.tsNsec) / 1e9;
    return { ...f, from, t, windowBytes: f.syn !== null ? f.window : f.window * 2 ** scale[from] };
  });
  return { report, events, frames };
}
