// Mutations of real captures for the fuzzer (scripts/fuzz.mjs) and the fixed-seed subset in
// the tests (test/fuzz.test.ts). Pure functions of (bytes, random): no project imports.
import { gzipSync } from 'node:zlib';

/** Small, fast, seedable PRNG (mulberry32). */
export function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  next.int = (n) => Math.floor(next() * n);
  return next;
}

/** Offsets of the length and type fields a reader trusts: record/block headers of pcap and pcapng. */
export function structuralFields(b) {
  const fields = [];
  if (b.length < 24) return fields;
  const m = b.readUInt32LE(0);
  if (m === 0xa1b2c3d4 || m === 0xa1b23c4d || m === 0xd4c3b2a1 || m === 0x4d3cb2a1) {
    const le = m === 0xa1b2c3d4 || m === 0xa1b23c4d;
    fields.push({ at: 16, size: 4 }, { at: 20, size: 4 }); // snaplen, link type
    let o = 24;
    while (o + 16 <= b.length) {
      fields.push({ at: o + 8, size: 4 }, { at: o + 12, size: 4 }, { at: o + 4, size: 4 });
      const len = le ? b.readUInt32LE(o + 8) : b.readUInt32BE(o + 8);
      o += 16 + len;
    }
  } else if (m === 0x0a0d0d0a) {
    let o = 0;
    let le = true;
    while (o + 12 <= b.length) {
      if (b.readUInt32LE(o) === 0x0a0d0d0a) le = b.readUInt32LE(o + 8) === 0x1a2b3c4d;
      const len = le ? b.readUInt32LE(o + 4) : b.readUInt32BE(o + 4);
      fields.push({ at: o, size: 4 }, { at: o + 4, size: 4 });
      const type = le ? b.readUInt32LE(o) : b.readUInt32BE(o);
      if (type === 6 && o + 28 <= b.length) fields.push({ at: o + 8, size: 4 }, { at: o + 20, size: 4 }, { at: o + 24, size: 4 });
      if (type === 1 && o + 16 <= b.length) fields.push({ at: o + 8, size: 2 }, { at: o + 12, size: 4 });
      if (len < 12 || len % 4 !== 0) break;
      o += len;
    }
  }
  return fields;
}

const SPECIAL = [0, 1, 2, 3, 4, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0xffffffff, 12, 16, 65535, 262144, 262145];

/** One mutation of `orig`: returns { name, bytes }. */
export function mutate(orig, rnd) {
  const kind = rnd.int(6);
  const b = Buffer.from(orig);
  switch (kind) {
    case 0: {
      const flips = 1 + rnd.int(8);
      for (let i = 0; i < flips; i++) {
        const at = rnd.int(b.length);
        b[at] ^= 1 << rnd.int(8);
      }
      return { name: `bitflip×${flips}`, bytes: b };
    }
    case 1: {
      const at = rnd.int(orig.length + 1);
      return { name: `cut@${at}`, bytes: b.subarray(0, at) };
    }
    case 2: {
      const fields = structuralFields(b);
      if (fields.length === 0) return { name: 'noop', bytes: b };
      const f = fields[rnd.int(fields.length)];
      const v = rnd() < 0.7 ? SPECIAL[rnd.int(SPECIAL.length)] : rnd.int(2 ** 32);
      if (f.at + f.size <= b.length) {
        if (f.size === 4) b.writeUInt32LE(v >>> 0, f.at);
        else b.writeUInt16LE(v & 0xffff, f.at);
      }
      return { name: `field@${f.at}=${v}`, bytes: b };
    }
    case 3: {
      // Random bytes spliced into the middle (a corrupt block).
      const at = rnd.int(b.length);
      const n = 1 + rnd.int(64);
      const junk = Buffer.alloc(n);
      for (let i = 0; i < n; i++) junk[i] = rnd.int(256);
      return { name: `splice@${at}+${n}`, bytes: Buffer.concat([b.subarray(0, at), junk, b.subarray(at)]) };
    }
    case 4: {
      // Gzip the capture, then damage or cut the compressed stream.
      const gz = Buffer.from(gzipSync(orig));
      if (rnd() < 0.5) {
        const at = 10 + rnd.int(Math.max(1, gz.length - 10));
        gz[at] ^= 1 << rnd.int(8);
        return { name: `gzip-flip@${at}`, bytes: gz };
      }
      const at = rnd.int(gz.length);
      return { name: `gzip-cut@${at}`, bytes: gz.subarray(0, at) };
    }
    default: {
      // Inside a frame: flip bytes past the record headers (IP/TCP header fields).
      const flips = 1 + rnd.int(4);
      for (let i = 0; i < flips; i++) {
        const at = 24 + rnd.int(Math.max(1, b.length - 24));
        if (at < b.length) b[at] = rnd.int(256);
      }
      return { name: `frame-bytes×${flips}`, bytes: b };
    }
  }
}

/**
 * Render a report in every format (`renderers`: { text, csv, json, markdown, html }, each
 * report → string); null when all went well, else what went wrong: a renderer that threw, or
 * one that printed NaN or undefined (JSON writes NaN as null, so only its throwing counts).
 */
export function renderAll(report, renderers) {
  for (const [name, render] of Object.entries(renderers)) {
    let out;
    try {
      out = name === 'text' ? render(report, { color: true }) : render(report);
    } catch (err) {
      return `${name} renderer threw: ${err?.stack ?? err}`;
    }
    if (name === 'json') continue;
    const m = /.{0,40}\b(NaN|undefined)\b.{0,40}/.exec(out);
    if (m !== null) return `${name} output holds ${m[1]}: …${m[0]}…`;
  }
  return null;
}

/**
 * The connection table alone (no report) over a capture: `input` is the bytes of one (read as
 * standard input) or a list of paths. Returns every finished connection as handoff.ts writes it,
 * in the order the table finished them, their count and probes, and how the input ended. `lib`
 * holds the analysis modules ({ Analysis, feed, ConnectionBatch }, from src or dist); `native`
 * picks the C++ table (native/table.cc), which reads classic pcap itself, or flows.ts's
 * (KEEPALIVE_NATIVE=0); a string sets KEEPALIVE_NATIVE for the run: 'table' the C++ table fed
 * by the JavaScript reader and decoder, 'read' C++ reading on this thread only, 'map' C++
 * reading a mapped file on its own thread whatever the file's size (in 4 KiB windows). With
 * `asDoubles` the C++ table writes its connections straight into the batch, as it does for the
 * report thread. `nativeFrames` counts the frames C++ read.
 */
export async function tableDoubles(lib, input, native, asDoubles = false) {
  const before = process.env.KEEPALIVE_NATIVE;
  if (typeof native === 'string') process.env.KEEPALIVE_NATIVE = native;
  else if (native) delete process.env.KEEPALIVE_NATIVE;
  else process.env.KEEPALIVE_NATIVE = '0';
  const batch = new lib.ConnectionBatch();
  let connections = 0;
  let probes = 0;
  let zeroWindowProbes = 0;
  const paths = Array.isArray(input) ? input : ['-'];
  const options = { probeList: false, stdin: Array.isArray(input) ? undefined : (async function* () { yield input; })() };
  const sink = {
    room: (doubles) => batch.room(doubles),
    wrote: (doubles, count, firstFrame) => {
      batch.wrote(doubles, count, firstFrame);
      connections += count;
    },
  };
  const analysis = new lib.Analysis(
    options,
    undefined,
    (c) => {
      batch.add(c);
      connections++;
      probes += c.dirA.probes + c.dirB.probes;
      zeroWindowProbes += c.dirA.zeroWindowProbes + c.dirB.zeroWindowProbes;
    },
    asDoubles ? sink : undefined,
  );
  if (before === undefined) delete process.env.KEEPALIVE_NATIVE;
  else process.env.KEEPALIVE_NATIVE = before;
  let summary;
  let error;
  try {
    const it = lib.feed(paths, options, analysis);
    for (;;) {
      const r = await it.next();
      if (r.done) {
        summary = r.value.summary;
        break;
      }
    }
  } catch (err) {
    error = String(err);
  }
  const { doubles, length } = batch.take();
  return { native: analysis.native, nativeFrames: analysis.nativeFrames, doubles: doubles.slice(0, length), connections, probes, zeroWindowProbes, summary, error };
}

/** Where two tableDoubles results first differ (doubles compared with Object.is: NaN equals NaN), or null. */
export function firstDifference(a, b) {
  if (a.connections !== b.connections) return `${a.connections} connections against ${b.connections}`;
  const n = Math.max(a.doubles.length, b.doubles.length);
  for (let i = 0; i < n; i++) if (!Object.is(a.doubles[i], b.doubles[i])) return `double ${i} of ${n}: ${a.doubles[i]} against ${b.doubles[i]}`;
  if (JSON.stringify(a.summary) !== JSON.stringify(b.summary)) return `summary ${JSON.stringify(a.summary)} against ${JSON.stringify(b.summary)}`;
  if (a.error !== b.error) return `error ${a.error} against ${b.error}`;
  return null;
}

/**
 * Where the CSV rows the C++ addon makes of `count` connections (their doubles as tableDoubles
 * gives them) first differ from csvRow of their TypeScript report, or null; a connection it
 * leaves to TypeScript (no row) is not a difference. lib: Connection, readConnection,
 * connectionReport, csvRow; addon: nativeTable().
 */
export function rowsDifference(lib, addon, doubles, count, middleboxTimeout = 300) {
  const ROW_INFO = 13;
  const info = new Float64Array(count * ROW_INFO);
  const rows = addon.csvRows(doubles, count, middleboxTimeout, info);
  const conn = new lib.Connection();
  let at = 0;
  let made = 0;
  for (let i = 0; i < count; i++) {
    if (info[i * ROW_INFO] !== at) return `connection ${i}: at ${info[i * ROW_INFO]}, not ${at}`;
    at = lib.readConnection(doubles, at, conn);
    if (rows[i] === undefined) continue;
    made++;
    const report = lib.connectionReport(conn, { middleboxTimeout }, false);
    const want = lib.csvRow(report);
    if (rows[i] !== want) return `connection ${i}: C++ row ${rows[i]}\n  TypeScript row ${want}`;
    const findings = Array.from(info.subarray(i * ROW_INFO + 5, i * ROW_INFO + 5 + info[i * ROW_INFO + 4]), (c) => Math.floor(c / 3));
    if (findings.length !== report.findings.length) return `connection ${i}: ${findings.length} findings, not ${report.findings.length}`;
  }
  rowsDifference.made += made;
  return null;
}
/** Rows rowsDifference compared, all calls together. */
rowsDifference.made = 0;
