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

function linkFrameOf(f: { ip: Uint8Array; outbound: boolean }): Uint8Array {
  return linkFrame(1, f.ip, { outbound: f.outbound });
}
