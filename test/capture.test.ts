// Readers and decoders against tshark, on files our writer made for every link type,
// byte order and timestamp resolution the issue names.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keepaliveConversation, tempDir, writePcap, writePcapng } from './synth-helpers.js';
import { ourFrames, ourTcp, tcpFieldsOfTshark, tsharkFields } from './helpers.js';

const dir = tempDir();

const linkCases: { name: string; linkType: number; v6: boolean; opts?: Parameters<typeof writePcap>[3] }[] = [
  { name: 'Ethernet IPv4', linkType: 1, v6: false },
  { name: 'Ethernet IPv6', linkType: 1, v6: true },
  { name: 'Ethernet 802.1Q', linkType: 1, v6: false, opts: { vlans: [{ tpid: 0x8100, id: 100 }] } },
  { name: 'Ethernet 802.1ad + 802.1Q (QinQ)', linkType: 1, v6: true, opts: { vlans: [{ tpid: 0x88a8, id: 200 }, { tpid: 0x8100, id: 100 }] } },
  { name: 'Linux cooked v1', linkType: 113, v6: false },
  { name: 'Linux cooked v2', linkType: 276, v6: true },
  { name: 'raw IP 101', linkType: 101, v6: false },
  { name: 'raw IP 101 (v6)', linkType: 101, v6: true },
  { name: 'raw IP 12', linkType: 12, v6: false },
  { name: 'raw IP 14', linkType: 14, v6: true },
  { name: 'BSD NULL, little-endian family', linkType: 0, v6: false },
  { name: 'BSD NULL, big-endian family, AF_INET6 30', linkType: 0, v6: true, opts: { bigEndianFamily: true } },
  { name: 'OpenBSD LOOP', linkType: 108, v6: true },
  { name: 'IPv4 (228)', linkType: 228, v6: false },
  { name: 'IPv6 (229)', linkType: 229, v6: true },
  { name: 'big-endian nanosecond pcap', linkType: 1, v6: false, opts: { bigEndian: true, nanosecond: true } },
];

describe('link types and pcap variants, decoded as tshark decodes them', () => {
  it.each(linkCases)('$name', async ({ name, linkType, v6, opts }) => {
    const file = writePcap(join(dir, `${name.replace(/\W+/g, '-')}.pcap`), linkType, keepaliveConversation(v6), opts);
    const ours = await ourFrames([file]);
    const theirs = tcpFieldsOfTshark(file);
    expect(ours).toHaveLength(12);
    expect(theirs.size).toBe(12);
    expect(ourTcp(ours)).toEqual(theirs);
    // Timestamps to the nanosecond (µs files: to the microsecond), as tshark prints them.
    const times = tsharkFields(file, ['frame.time_epoch']).map((r) => r[0]);
    expect(ours.map((f) => f.time)).toEqual(times);
  });
});

describe('pcapng layouts', () => {
  const conv = keepaliveConversation(false);
  const conv6 = keepaliveConversation(true, 1_763_000_100);

  it('several interfaces with their own link types and resolutions (10^-6, 10^-9, 2^-20, 2^-30, tsoffset)', async () => {
    const file = writePcapng(join(dir, 'multi-if.pcapng'), [
      {
        interfaces: [
          { linkType: 1, tsDecimals: 6 },
          { linkType: 276, tsDecimals: 9, name: 'any' },
          { linkType: 101, tsBinaryDigits: 20 },
          { linkType: 0, tsBinaryDigits: 30, tsOffset: 1_000_000_000 },
        ],
        frames: conv,
      },
    ]);
    const ours = await ourFrames([file]);
    expect(ourTcp(ours)).toEqual(tcpFieldsOfTshark(file));
    expect(new Set(ours.map((f) => f.linkType))).toEqual(new Set([1, 276, 101, 0]));
    // tshark prints 2^-n timestamps rounded to its nanoseconds; we cut. One ns apart at most.
    const times = tsharkFields(file, ['frame.time_epoch']).map((r) => Number(r[0].replace('.', '')));
    ours.forEach((f, i) => expect(Math.abs(Number(f.time.replace('.', '')) - times[i]!)).toBeLessThanOrEqual(1));
  });

  it('sections of either byte order, each forgetting the previous interfaces', async () => {
    const file = writePcapng(join(dir, 'sections.pcapng'), [
      { interfaces: [{ linkType: 1 }], frames: conv },
      { bigEndian: true, interfaces: [{ linkType: 113, tsDecimals: 9 }, { linkType: 229 }], frames: conv6 },
      { interfaces: [{ linkType: 101 }], frames: conv.slice(0, 3) },
    ]);
    const ours = await ourFrames([file]);
    expect(ours).toHaveLength(27);
    expect(ourTcp(ours)).toEqual(tcpFieldsOfTshark(file));
    expect(ours.map((f) => f.time)).toEqual(tsharkFields(file, ['frame.time_epoch']).map((r) => r[0]));
  });

  it('written files read back identically through tshark', async () => {
    const file = writePcapng(join(dir, 'roundtrip.pcapng'), [{ interfaces: [{ linkType: 1, tsDecimals: 9 }, { linkType: 113 }], frames: conv }]);
    const copy = join(dir, 'roundtrip-by-tshark.pcapng');
    execFileSync('tshark', ['-r', file, '-w', copy], { stdio: 'ignore' });
    const a = await ourFrames([file]);
    const b = await ourFrames([copy]);
    expect(b).toEqual(a);
    const pcapFile = writePcap(join(dir, 'roundtrip.pcap'), 1, conv, { nanosecond: true });
    const pcapCopy = join(dir, 'roundtrip-by-tshark.pcap');
    execFileSync('tshark', ['-r', pcapFile, '-F', 'nsecpcap', '-w', pcapCopy], { stdio: 'ignore' });
    expect(await ourFrames([pcapCopy])).toEqual(await ourFrames([pcapFile]));
  });
});

describe('TCP options', () => {
  it('MSS, window scale, SACK-permitted and timestamps as tshark reads them, on every segment', async () => {
    const { openCapture, readFrames } = await import('../src/capture/open.js');
    const { decodeFrame } = await import('../src/decode/decode.js');
    const { readOptions } = await import('../src/decode/tcp.js');
    const { Segment } = await import('../src/decode/segment.js');
    const file = fixtureOrSynth();
    const seg = new Segment();
    const ours: string[] = [];
    const it = readFrames([await openCapture(file)], (f) => {
      if (decodeFrame(f, seg) !== 0) return;
      readOptions(seg);
      ours.push([seg.mss < 0 ? '' : seg.mss, seg.windowScale < 0 ? '' : seg.windowScale, seg.sackPermitted ? '1' : '', seg.hasTimestamps ? seg.tsVal : '', seg.hasTimestamps ? seg.tsEcr : ''].join(' '));
    });
    for await (const _ of it);
    const theirs = tsharkFields(file, ['tcp.options.mss_val', 'tcp.options.wscale.shift', 'tcp.options.sack_perm', 'tcp.options.timestamp.tsval', 'tcp.options.timestamp.tsecr'], 'tcp').map((r) =>
      [r[0], r[1], r[2] ? '1' : '', r[3], r[4]].join(' '),
    );
    expect(ours.filter((o) => o.startsWith('1460')).length).toBe(2);
    expect(ours).toEqual(theirs);
  });
});

function fixtureOrSynth(): string {
  return writePcap(join(dir, 'options.pcap'), 1, keepaliveConversation(false));
}

describe('pcapng Simple and obsolete Packet Blocks', () => {
  /** Rewrite each Enhanced Packet Block of a little-endian pcapng as a Simple (type 3) or obsolete Packet Block (type 2). */
  function rewriteBlocks(src: Buffer, as: 'simple' | 'obsolete'): Buffer {
    const out: Buffer[] = [];
    for (let o = 0; o < src.length; ) {
      const type = src.readUInt32LE(o);
      const len = src.readUInt32LE(o + 4);
      const block = src.subarray(o, o + len);
      o += len;
      if (type !== 6) {
        out.push(block);
        continue;
      }
      const capLen = block.readUInt32LE(20);
      const data = block.subarray(28, 28 + ((capLen + 3) & ~3));
      if (as === 'simple') {
        const b = Buffer.alloc(16 + data.length);
        b.writeUInt32LE(3, 0);
        b.writeUInt32LE(b.length, 4);
        b.writeUInt32LE(block.readUInt32LE(24), 8); // original length
        data.copy(b, 12);
        b.writeUInt32LE(b.length, b.length - 4);
        out.push(b);
      } else {
        const b = Buffer.alloc(32 + data.length);
        b.writeUInt32LE(2, 0);
        b.writeUInt32LE(b.length, 4);
        b.writeUInt16LE(block.readUInt32LE(8), 8); // interface id
        b.writeUInt16LE(0, 10); // drops count
        block.copy(b, 12, 12, 28); // timestamp high/low, captured and original length
        data.copy(b, 28);
        b.writeUInt32LE(b.length, b.length - 4);
        out.push(b);
      }
    }
    return Buffer.concat(out);
  }

  it.each(['simple', 'obsolete'] as const)('%s packet blocks decode as tshark decodes them', async (as) => {
    const { readFileSync, writeFileSync } = await import('node:fs');
    const base = writePcapng(join(dir, `for-${as}.pcapng`), [{ interfaces: [{ linkType: 1, tsDecimals: 9 }], frames: keepaliveConversation(false) }]);
    const file = join(dir, `${as}-blocks.pcapng`);
    writeFileSync(file, rewriteBlocks(readFileSync(base), as));
    const ours = await ourFrames([file]);
    expect(ours).toHaveLength(12);
    expect(ourTcp(ours)).toEqual(tcpFieldsOfTshark(file));
    // Obsolete blocks keep their timestamps; Simple ones carry none (we keep the last one seen).
    if (as === 'obsolete') expect(ours.map((f) => f.time)).toEqual(tsharkFields(file, ['frame.time_epoch']).map((r) => r[0]));
  });
});
