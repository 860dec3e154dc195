// How captures reach the tool: the pcap-parser package as an independent reference reader,
// gzip, standard input, several files merged in time order.
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { openCapture } from '../src/capture/open.js';
import { PcapWriter, FileSink } from '../src/capture/writer.js';
import { fixture, listFixtures, ourFrames, runCli } from './helpers.js';
import { linkFrame } from '../src/synth/packet.js';
import { keepaliveConversation, tempDir, writePcap } from './synth-helpers.js';

const require = createRequire(import.meta.url);
const pcapParser = require('pcap-parser') as { parse(path: string): NodeJS.EventEmitter };

interface RefRecord {
  time: string;
  capLen: number;
  origLen: number;
  bytes: string;
}

function viaPcapParser(path: string): Promise<RefRecord[]> {
  return new Promise((resolve, reject) => {
    const out: RefRecord[] = [];
    const p = pcapParser.parse(path);
    p.on('packet', (pkt: { header: { timestampSeconds: number; timestampMicroseconds: number; capturedLength: number; originalLength: number }; data: Buffer }) => {
      out.push({
        time: `${pkt.header.timestampSeconds}.${String(pkt.header.timestampMicroseconds * 1000).padStart(9, '0')}`,
        capLen: pkt.header.capturedLength,
        origLen: pkt.header.originalLength,
        bytes: pkt.data.toString('hex'),
      });
    });
    p.on('end', () => resolve(out));
    p.on('error', reject);
  });
}

/** Classic microsecond pcap files among the fixtures (pcap-parser knows no other format). */
function microsecondPcaps(): string[] {
  const all = [...listFixtures('.pcap').map((f) => fixture(f)), ...['linux-alive', 'linux-dead', 'linux-reset'].map((n) => fixture(`shared/${n}.pcap`))];
  return all.filter((f) => readFileSync(f).readUInt32LE(0) === 0xa1b2c3d4);
}

describe('pcap-parser as an independent reference', () => {
  const files = microsecondPcaps();
  it('has microsecond fixtures to compare', () => {
    expect(files.length).toBeGreaterThanOrEqual(3);
  });
  it.each(files)('%s: same records through pcap-parser and our reader', async (file) => {
    const ref = await viaPcapParser(file);
    const ours = (await ourFrames([file])).map((f) => ({ time: f.time, capLen: f.capLen, origLen: f.origLen, bytes: f.bytes }));
    expect(ref.length).toBeGreaterThan(0);
    expect(ours).toEqual(ref);
  });
});

describe('gzip, stdin and several files', () => {
  const dir = tempDir();
  const plain = fixture('shared/linux-alive.pcapng');

  it('reads gzip-compressed captures by their magic, whatever the name', async () => {
    const gz = join(dir, 'alive.pcapng.bin');
    writeFileSync(gz, gzipSync(readFileSync(plain)));
    const cap = await openCapture(gz);
    expect(cap.format).toBe('gzip+pcapng');
    expect(await ourFrames([gz])).toEqual(await ourFrames([plain]));
  });

  it('reads standard input with -', () => {
    const viaFile = runCli(['analyze', plain, '--format', 'json']);
    const viaStdin = runCli(['analyze', '-', '--format', 'json'], readFileSync(plain));
    expect(viaStdin.status).toBe(0);
    const a = JSON.parse(viaFile.stdout);
    const b = JSON.parse(viaStdin.stdout);
    expect(b.summary.files).toEqual(['<stdin>']);
    expect(b.connections).toEqual(a.connections);
    const gz = runCli(['analyze', '-', '--format', 'json'], gzipSync(readFileSync(plain)));
    expect(JSON.parse(gz.stdout).connections).toEqual(a.connections);
  });

  it('merges a capture cut in pieces into one time order, frames numbered as in the whole', async () => {
    // One conversation written round-robin into three files, as a ring buffer's pieces would
    // hold consecutive spans; the merge must restore the single file's order.
    const frames = keepaliveConversation(false);
    const whole = writePcap(join(dir, 'whole.pcap'), 1, frames);
    const parts = [0, 1, 2].map((k) => {
      const path = join(dir, `part-${k}.pcap`);
      const w = new PcapWriter(new FileSink(path), { linkType: 1 });
      const whole = frames.slice(k * 4, k * 4 + 4);
      // The pieces are given out of order on purpose.
      for (const f of whole) w.writeFrame(linkFrameOf(f), f.tsSec, f.tsNsec);
      w.close();
      return path;
    });
    const merged = await ourFrames([parts[2]!, parts[0]!, parts[1]!]);
    const single = await ourFrames([whole]);
    expect(merged).toEqual(single);
    const r = runCli(['analyze', parts[1]!, parts[2]!, parts[0]!, '--format', 'json']);
    const report = JSON.parse(r.stdout);
    expect(report.summary.packets).toBe(12);
    expect(report.connections).toHaveLength(1);
    expect(report.connections[0].probes.map((p: { frame: number }) => p.frame)).toEqual([6, 8]);
  });
});

describe('the same packets in two files', () => {
  const dir = tempDir();
  const pcap = fixture('shared/linux-alive.pcap');
  const pcapng = fixture('shared/linux-alive.pcapng');
  /** What a connection's report says, without its times (the copy kept has µs or ns ones). */
  const gist = (c: { verdict: string; firstFrame: number; lastFrame: number; packets: number; probes: { frame: number; reply: { kind: string; frame: number } | null }[] }) => ({
    verdict: c.verdict,
    frames: [c.firstFrame, c.lastFrame, c.packets],
    probes: c.probes.map((p) => [p.frame, p.reply?.kind, p.reply?.frame]),
  });

  it.each([
    [pcap, pcapng],
    [pcapng, pcap],
  ])('%s with %s (one recording, two formats): each packet analysed once, numbered as in one file', (a, b) => {
    const one = JSON.parse(runCli(['analyze', pcap, '--format', 'json']).stdout);
    const r = runCli(['analyze', a, b, '--format', 'json']);
    expect(r.status).toBe(0);
    const both = JSON.parse(r.stdout);
    expect(one.connections.map(gist)).toEqual([{ verdict: 'alive', frames: [11, 33, 18], probes: [[17, 'ack', 18], [19, 'ack', 20], [22, 'ack', 23], [25, 'ack', 26], [27, 'ack', 30]] }]);
    expect(both.connections.map(gist)).toEqual(one.connections.map(gist));
    expect(both.summary.packets).toBe(33);
    expect(both.summary.keepaliveProbes).toBe(5);
    expect(both.summary.warnings).toHaveLength(1);
    expect(both.summary.warnings[0]).toMatch(/^\S+linux-alive\.pcap(ng)?: byte \d+: 33 of its frames are also in \S+linux-alive\.pcap(ng)? \(same bytes, within a microsecond/);
    expect(r.stderr).toContain('33 of its frames are also in');
  });

  it('skips only the copies: an overlap is analysed once, other packets at the same times are kept', async () => {
    const frames = keepaliveConversation(false);
    const whole = writePcap(join(dir, 'whole.pcap'), 1, frames, { nanosecond: true });
    // Frames 3-8 again, as a second capture of the same link started late and stopped early.
    const overlap = writePcap(join(dir, 'overlap.pcap'), 1, frames.slice(2, 8));
    // Another connection's frames at exactly the same times: not copies.
    const other = writePcap(join(dir, 'other.pcap'), 1, keepaliveConversation(false, 1_763_000_000, 5000), { nanosecond: true });
    const single = await ourFrames([whole]);
    expect(await ourFrames([whole, overlap])).toEqual(single);
    expect(await ourFrames([overlap, whole])).toEqual(single.map((f, i) => (i >= 2 && i < 8 ? { ...f, time: f.time.slice(0, -3) + '000' } : f)));
    const three = await ourFrames([whole, overlap, other]);
    expect(three).toHaveLength(24);
    expect(three.map((f) => f.number)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    const r = runCli(['analyze', whole, overlap, other, '--format', 'json']);
    const report = JSON.parse(r.stdout);
    expect(report.summary.packets).toBe(24);
    expect(report.connections).toHaveLength(2);
    expect(report.summary.warnings).toEqual([expect.stringMatching(/overlap\.pcap: byte 24: 6 of its frames are also in \S+whole\.pcap/)]);
  });
});

function linkFrameOf(f: { ip: Uint8Array; outbound: boolean }): Uint8Array {
  return linkFrame(1, f.ip, { outbound: f.outbound });
}
