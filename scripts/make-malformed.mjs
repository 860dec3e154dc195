#!/usr/bin/env node
// Writes fixtures/malformed/: real captures damaged in one named way each, and
// expected.json with the outcome the analysis must reach for each. Deterministic: re-running it
// gives the same files. (Crashers the fuzzer found are copied in by hand, and listed here.)
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const fx = (f) => readFileSync(join(root, 'fixtures', f));
const out = join(root, 'fixtures', 'malformed');
const dead = fx('ka-dead.pcap'); // Ethernet, µs, 11 frames
const alive = fx('ka-alive.pcap');
const png = fx('fmt-pcapng.pcapng');

/** Offsets of the records of a little-endian classic pcap: [header offset, caplen]. */
function records(b) {
  const r = [];
  for (let o = 24; o + 16 <= b.length; o += 16 + b.readUInt32LE(o + 8)) r.push([o, b.readUInt32LE(o + 8)]);
  return r;
}

const cases = {};
function add(name, bytes, expected) {
  writeFileSync(join(out, name), bytes);
  cases[name] = expected;
}

add('cut-in-file-header.pcap', dead.subarray(0, 17), { outcome: 'error', message: 'byte 17: file cut short inside the pcap file header' });
{
  const [o] = records(dead)[4];
  add('cut-in-record-header.pcap', dead.subarray(0, o + 9), { outcome: 'report', packets: 4, warning: 'cut short inside a record header' });
  add('cut-in-record-data.pcap', dead.subarray(0, o + 30), { outcome: 'report', packets: 4, warning: 'cut short inside a record of' });
}
{
  const b = Buffer.from(dead);
  const [o] = records(dead)[2];
  b.writeUInt32LE(0x00ffffff, o + 8);
  add('absurd-record-length.pcap', b, { outcome: 'error', message: `byte ${o}: record length 16777215 is larger than 262144 bytes` });
}
{
  const b = Buffer.from(png);
  const second = b.readUInt32LE(4);
  const len = b.readUInt32LE(second + 4);
  b.writeUInt32LE(len + 8, second + len - 4);
  add('pcapng-bad-trailer.pcapng', b, { outcome: 'error', message: 'does not match its trailing copy' });
  const c = Buffer.from(png);
  c.writeUInt32LE(c.readUInt32LE(second + 4) + 2, second + 4);
  add('pcapng-length-not-multiple-of-4.pcapng', c, { outcome: 'error', message: 'is not a multiple of 4' });
  const d = Buffer.from(png);
  d.writeUInt32LE(0x7ffffff0, second + 4);
  add('pcapng-absurd-block-length.pcapng', d, { outcome: 'error', message: 'is larger than 16777216 bytes' });
}
{
  const b = Buffer.from(alive);
  b.writeUInt32LE(147, 20); // LINKTYPE_USER0
  add('unknown-link-type.pcap', b, { outcome: 'report', packets: 20, tcpSegments: 0, warning: 'link type 147 were counted but not decoded' });
}
{
  // IPv4 header length 15 words (60 bytes) on every frame: the "options" run past the real
  // header into the TCP header. Frames too short for 60 bytes are not segments; the two data
  // frames are long enough, and what lies at byte 60 is read as a (nonsense) TCP header, as
  // tshark reads it too.
  const b = Buffer.from(dead);
  for (const [o] of records(dead)) b[o + 16 + 14] = 0x4f;
  add('ipv4-options-past-header.pcap', b, { outcome: 'report', packets: 11, tcpSegments: 2, tsharkTcp: 2 });
}
{
  // TCP data offset 4 (16 bytes, below the minimum 5) on the probes: those frames are not segments.
  const b = Buffer.from(dead);
  const recs = records(dead);
  for (const i of [5, 8, 9]) {
    const [o] = recs[i];
    b[o + 16 + 14 + 20 + 12] = 0x40 | (b[o + 16 + 14 + 20 + 12] & 0x0f);
  }
  // tshark keeps a (bogus) TCP layer for them, so its tcp count is 11.
  add('tcp-data-offset-below-5.pcap', b, { outcome: 'report', packets: 11, tcpSegments: 8, tsharkTcp: 11 });
}
cases['tsresol-bitflip.pcapng'] = { outcome: 'report', packets: 75, note: 'fuzzer crasher: a flipped if_tsresol gave times beyond the calendar (RangeError in toISOString)' };
cases['multi-if-frame-bytes.pcapng'] = { outcome: 'report', packets: 96, note: 'fuzzer crasher: times beyond the calendar' };
writeFileSync(join(out, 'expected.json'), `${JSON.stringify(cases, null, 2)}\n`);
console.log(`${Object.keys(cases).length} malformed captures in ${out}`);
