// The renderers on report shapes the shared captures do not show: the server probing, both
// sides probing, thousands of probes, a connection still open, Windows-style probes. The
// records are written by hand in the version-1 shape, as another tool would read them.
import { describe, expect, it } from 'vitest';
import type { ConnectionReport, KeepaliveSettings, Probe, Report } from '../src/analysis/model.js';
import { renderCsv } from '../src/report/csv.js';
import { renderHtml } from '../src/report/html.js';
import { ladderOf } from '../src/report/ladder.js';
import { renderMarkdown } from '../src/report/markdown.js';
import { renderText } from '../src/report/text.js';
import { isoTime } from '../src/analysis/timeline.js';
import { secondsBetween, seconds, trimmed } from '../src/report/units.js';

const T0 = Date.parse('2026-01-01T00:00:00Z') / 1000;
function iso(t: number): string {
  const sec = Math.floor(t);
  const nsec = Math.round((t - sec) * 1e9);
  return `${new Date((T0 + sec) * 1000).toISOString().slice(0, 19)}.${String(nsec).padStart(9, '0')}Z`;
}

function settings(over: Partial<KeepaliveSettings> = {}): KeepaliveSettings {
  return {
    idle: 7200,
    interval: null,
    intervalAtMost: null,
    count: null,
    countAtLeast: 1,
    userTimeout: null,
    style: 'linux',
    defaults: 'linux',
    confidence: { idle: 'high', interval: 'none', count: 'none' },
    probes: 0,
    acked: 0,
    unanswered: 0,
    samples: { idle: 3, interval: 0, afterAnswer: 0 },
    unknown: { interval: 'every probe was answered, so the retry interval never showed', count: 'the prober never gave up within the capture' },
    notes: [],
    ...over,
  };
}

let frame = 100;
function probe(t: number, from: 'client' | 'server', reply: 'ack' | 'rst' | 'none', over: Partial<Probe> = {}): Probe {
  const f = frame;
  frame += 2;
  return {
    frame: f,
    time: iso(t),
    from,
    payloadBytes: 0,
    sinceLastActivity: 7200,
    ordinal: 1,
    reply: reply === 'none' ? { kind: 'none', frame: null, latency: null } : { kind: reply, frame: f + 1, latency: 0.0004 },
    ...over,
  };
}

/** The per-side probe counts the analysis keeps, from the listed probes. */
function counted(c: ConnectionReport): ConnectionReport {
  for (const side of ['client', 'server'] as const) {
    const k = c.keepalive[side];
    if (k === null) continue;
    const mine = c.probes.filter((p) => p.from === side);
    k.probes = mine.length;
    k.acked = mine.filter((p) => p.reply.kind === 'ack').length;
    k.unanswered = mine.filter((p) => p.reply.kind === 'none').length;
  }
  return c;
}

function connection(over: Partial<ConnectionReport>): ConnectionReport {
  return counted({
    client: '192.0.2.10:50000',
    server: '198.51.100.7:5432',
    rolesFrom: 'syn',
    firstFrame: 1,
    lastFrame: 999,
    firstTime: iso(0),
    lastTime: iso(30000),
    packets: 40,
    probes: [],
    probesOmitted: 0,
    keepalive: { client: null, server: null },
    zeroWindowProbes: 0,
    heartbeat: null,
    longestSilence: 7200,
    findings: [],
    closedBy: null,
    verdict: 'alive',
    explanation: 'Alive: test, with "quotes", commas | pipes and <angle> brackets.',
    ...over,
  });
}

function report(connections: ConnectionReport[]): Report {
  return {
    version: 1,
    summary: { files: ['a<b>.pcap'], packets: 100, tcpSegments: 90, connections: connections.length, keepaliveProbes: connections.reduce((n, c) => n + c.probes.length, 0), zeroWindowProbes: 0, firstTime: iso(0), lastTime: iso(30000), findings: connections.flatMap((c) => c.findings), warnings: ['a warning & more'] },
    connections,
  };
}

describe('units', () => {
  it('durations read naturally', () => {
    expect(seconds(0.000027)).toBe('27 µs');
    expect(seconds(0.0125)).toBe('12.5 ms');
    expect(seconds(1.0241)).toBe('1.024 s');
    expect(seconds(2)).toBe('2 s');
    expect(seconds(7200.4)).toBe('7200 s');
    expect(seconds(null)).toBe('?');
  });
  it('times subtract without losing nanoseconds', () => {
    expect(secondsBetween('2026-11-22T03:30:33.431607000Z', '2026-11-22T03:30:34.442331123Z')).toBeCloseTo(1.010724123, 9);
  });

  // The regular expressions the faster code replaced are the specification: the same text and
  // the same doubles, for every kind of input.
  const random = (() => {
    let x = 1203;
    return () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32);
  })();
  it('trimmed drops trailing zeros as the two regular expressions it replaced did', () => {
    const byRegex = (x: number, digits: number) => x.toFixed(digits).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
    const values = [0, -0, 1, 10, 100, 2.5, 2.05, 1.01, 0.1, 1e21, 1.5e21, -3.25, 7200, 0.0005, 99.9999, Number.NaN, Number.POSITIVE_INFINITY];
    for (let i = 0; i < 20_000; i++) values.push((random() - 0.3) * 10 ** Math.floor(random() * 12 - 4), Math.round(random() * 1000) / 100);
    let changed = 0;
    for (const x of values) {
      for (const digits of [0, 1, 2, 3, 6]) {
        expect(trimmed(x, digits), `${x} ${digits}`).toBe(byRegex(x, digits));
        if (byRegex(x, digits) !== x.toFixed(digits)) changed++;
      }
    }
    expect(changed).toBeGreaterThan(10_000); // most inputs had zeros to drop
  });
  it('secondsBetween reads report times as the regular expression it replaced did, and anything else through Date.parse', () => {
    const byRegex = (from: string, to: string): number => {
      const split = (iso: string): [number, number] => {
        const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(iso);
        if (m === null) {
          const ms = Date.parse(iso);
          return [Math.floor(ms / 1000), (ms % 1000) / 1000];
        }
        return [Date.parse(`${m[1]}Z`) / 1000, m[2] === undefined ? 0 : Number(`0.${m[2]}`)];
      };
      const [fs, ff] = split(from);
      const [ts, tf] = split(to);
      return ts - fs + (tf - ff);
    };
    const times = ['2026-11-22T03:30:33Z', '2026-11-22T03:30:33.5Z', '2026-11-22T03:30:33.Z', '2026-11-22T03:30:33.431607000Z', '2026-11-22 03:30:33Z', '2026-11-22T03:30:33.43160700Zx', '2026-13-40T25:61:61.1Z', '2026-11-22T03:30:33.000000001Z', '1970-01-01T00:00:00.000000000Z', '2026-11-22T03:30:33+01:00', 'not a time', '', '２026-11-22T03:30:33Z'];
    for (let i = 0; i < 5000; i++) {
      const t = new Date(Date.UTC(1990 + Math.floor(random() * 60), 0, 1) + random() * 365 * 86400e3);
      const ns = String(Math.floor(random() * 1e9)).padStart(9, '0');
      times.push(`${t.toISOString().slice(0, 19)}.${ns.slice(0, 1 + Math.floor(random() * 9))}Z`);
    }
    for (let i = 0; i < times.length; i++) {
      const a = times[i]!;
      const b = times[(i * 7 + 3) % times.length]!;
      expect(Object.is(secondsBetween(a, b), byRegex(a, b)), `${a} → ${b}`).toBe(true);
    }
  });
});

describe('the server probing, on an open connection (Linux defaults, 2-hour idle)', () => {
  const c = connection({
    probes: [probe(7200, 'server', 'ack'), probe(14400, 'server', 'ack'), probe(21600, 'server', 'ack')],
    keepalive: { client: null, server: settings() },
  });
  const r = report([c]);

  it('text: the arrows run from the server lane to the client lane', () => {
    const text = renderText(r);
    expect(text).toMatch(/\|<-- probe, frame 100 -+\|/);
    expect(text).toMatch(/\|--- ACK, frame 101 -+>\|/);
    expect(text).toContain('server keepalive: idle 7200 s, interval ?, count ≥ 1; empty probes, as Linux sends; matches linux defaults');
    expect(text).toContain('capture ends, still open (frame 999)');
  });

  it('html: a compressed time axis, said so; the idle brackets on the server side', () => {
    const html = renderHtml(r);
    expect(html).toContain('time axis compressed');
    expect(html.match(/<g class="span idle" data-side="server"/g)).toHaveLength(1);
    expect(html.match(/<g class="span wait" data-side="server"/g)).toHaveLength(2); // from each ACK to the next probe
    expect(html.match(/<g class="probe" data-frame="\d+" data-from="server"/g)).toHaveLength(3);
    expect(html).toContain('capture ends · still open');
    // Everything a person reads is escaped.
    expect(html).toContain('a&lt;b&gt;.pcap');
    expect(html).toContain('&lt;angle&gt;');
    expect(html).not.toContain('<angle>');
    expect(html).toContain('a warning &amp; more');
  });

  it('csv and markdown name the server as the prober', () => {
    const csv = renderCsv(r).split('\r\n');
    expect(csv[1]).toMatch(/^192\.0\.2\.10:50000,198\.51\.100\.7:5432,syn,alive,3,3,0,0,server,7200,,,,1,linux,linux,0,7200,,,,,1,999,/);
    expect(csv[1]).toContain('"Alive: test, with ""quotes"", commas | pipes and <angle> brackets."');
    const md = renderMarkdown(r);
    expect(md).toContain('| `192.0.2.10:50000` | `198.51.100.7:5432` | ✅ alive | server | 7200 s | ? | ≥ 1 | 3 | 3 | 0 | 0 | 0 |');
    expect(md).toContain('commas \\| pipes and &lt;angle&gt; brackets');
  });
});

describe('both sides probing; Windows-style one-byte probes; roles guessed', () => {
  const c = connection({
    rolesFrom: 'port',
    probes: [
      probe(10, 'client', 'ack', { payloadBytes: 1, sinceLastActivity: 10 }),
      probe(12, 'server', 'none', { sinceLastActivity: 12 }),
      // The two sides' probes interleave: the server's interval still runs from its own last probe.
      probe(12.5, 'client', 'ack', { payloadBytes: 1, sinceLastActivity: 2.5 }),
      probe(13, 'server', 'none', { ordinal: 2, sinceLastActivity: 13 }),
    ],
    keepalive: { client: settings({ idle: 10, style: 'windows', defaults: null }), server: settings({ idle: 12, interval: 1, defaults: null }) },
    verdict: 'undetermined',
    zeroWindowProbes: 2,
  });
  it('text shows both settings, whose spans are whose, and the guess', () => {
    const text = renderText(report([c]));
    expect(text).toContain('roles guessed from ports (no handshake captured)');
    expect(text).toContain('client keepalive: idle 10 s');
    expect(text).toContain('one-byte probes, as Windows sends');
    expect(text).toContain('server keepalive: idle 12 s');
    expect(text).toContain(': client idle 10 s');
    expect(text).toMatch(/ server interval 1 s :  \|/); // beside the server's lane
    expect(text).toMatch(/\| +X-- retry 1, frame \d+ -+\|  no answer/);
    expect(text).toContain('2 zero-window probes (they look like keepalives but are not)');
  });
  it('csv says both, with the client figures', () => {
    const row = renderCsv(report([c])).split('\r\n')[1]!;
    expect(row).toMatch(/^[^,]+,[^,]+,port,undetermined,4,2,0,2,both,10,/);
  });
  it('html draws arrows both ways', () => {
    const html = renderHtml(report([c]));
    expect(html).toContain('data-from="client" data-reply="ack"');
    expect(html).toContain('data-from="server" data-reply="none"');
    expect(html).toContain('Roles guessed from ports');
  });
});

describe('thousands of probes', () => {
  const probes = Array.from({ length: 5000 }, (_, i) => probe(60 * (i + 1), 'client', 'ack', { sinceLastActivity: 60 }));
  const c = connection({ probes, keepalive: { client: settings({ idle: 60, defaults: null }), server: null }, lastTime: iso(60 * 5001) });
  it('the ladder keeps the first and last ones and counts the rest', () => {
    const ladder = ladderOf(c, 40);
    expect(ladder.events.filter((e) => e.kind === 'probe')).toHaveLength(40);
    expect(ladder.events.find((e) => e.kind === 'elided')).toMatchObject({ probes: 4960, ack: 4960, rst: 0, none: 0 });
    expect(renderText(report([c]))).toContain('… 4960 probes not drawn (4960 ACK)');
    const html = renderHtml(report([c]));
    expect(html.match(/<g class="probe"/g)).toHaveLength(200);
    expect(html).toContain('4800 probes not drawn');
    // The table still lists every probe.
    expect(html.match(/<tr class="reply-ack">/g)).toHaveLength(5000);
  });

  it('probes the report counts but does not list are counted in every format', () => {
    // As the analysis reports 5000 probes: the first and last 500 listed, 4000 omitted, 2 unanswered among them.
    const listed = [...probes.slice(0, 500), ...probes.slice(4500)];
    const k = settings({ idle: 60, defaults: null });
    const long = connection({ probes: listed, probesOmitted: 4000, keepalive: { client: k, server: null }, lastTime: iso(60 * 5001) });
    Object.assign(k, { probes: 5000, acked: 4998, unanswered: 2 });
    const ladder = ladderOf(long);
    expect(ladder.events.filter((e) => e.kind === 'probe')).toHaveLength(1000);
    expect(ladder.events.find((e) => e.kind === 'elided')).toMatchObject({ probes: 4000, ack: 3998, none: 2 });
    // No span drawn across the left-out stretch.
    expect(ladder.spans.every((s) => s.to - s.from < 120)).toBe(true);
    expect(renderCsv(report([long])).split('\r\n')[1]).toMatch(/^[^,]+,[^,]+,syn,alive,5000,4998,0,2,client,/);
    expect(renderMarkdown(report([long]))).toMatch(/\| 5000 \| 4998 \| 0 \| 2 \| 0 \|$/m);
    expect(renderHtml(report([long]))).toContain('4000 more in the middle are counted but not listed');
  });
});

describe('findings and heartbeats', () => {
  const c = connection({
    keepalive: { client: null, server: null },
    verdict: 'no-keepalive',
    heartbeat: { period: 30, jitter: 0.01, from: 'client', requestBytes: 14, replyBytes: 7, count: 12 },
    findings: [{ rule: 'idle-exceeds-middlebox', severity: 'warning', message: 'a NAT drops <idle> flows' }],
  });
  it('every format shows them', () => {
    const r = report([c]);
    const text = renderText(r);
    expect(text).toContain('application heartbeat: every 30 s from the client (12 beats)');
    expect(text).toContain('warning: a NAT drops <idle> flows');
    expect(renderCsv(r).split('\r\n')[1]).toContain(',30,client,idle-exceeds-middlebox,');
    expect(renderMarkdown(r)).toContain('- ⚠️ a NAT drops &lt;idle&gt; flows');
    const html = renderHtml(r);
    expect(html).toContain('<li class="finding warning"><span class="severity">warning</span> a NAT drops &lt;idle&gt; flows</li>');
    expect(html).toContain('An application heartbeat every 30 s from the client (12 beats).');
  });
});

describe('no connections', () => {
  it('every format says so', () => {
    const r = report([]);
    expect(renderText(r)).toContain('No TCP connection to report.');
    expect(renderMarkdown(r)).toContain('No TCP connection to report.');
    expect(renderHtml(r)).toContain('No TCP connection to report.');
    expect(renderCsv(r).split('\r\n')).toHaveLength(2); // the header and the final line end
  });
});

describe('times beyond the calendar (a damaged timestamp resolution)', () => {
  // isoTime writes such a time as seconds since 1970; the ladder still measures from them.
  // Found by fuzzing every renderer: a mutated fmt-multi-if.pcapng drew "NaN" times and an SVG of height NaN.
  const far = (t: number) => isoTime(17_953_232_560_469_008 + Math.floor(t), Math.round((t % 1) * 1e9));
  const c = connection({
    firstTime: far(0),
    lastTime: far(20_000_000),
    // The last one 143 days in: its time is wider than the ladder's usual ten columns.
    probes: [probe(0, 'client', 'ack', { time: far(7200.5) }), probe(0, 'client', 'none', { time: far(14400.25) }), probe(0, 'client', 'none', { time: far(12_345_678.5), ordinal: 2 })],
    keepalive: { client: settings(), server: null },
  });
  it('subtract as seconds', () => {
    expect(far(1)).toBe('17953232560469008.000000000s since 1970 (out of calendar range)');
    expect(secondsBetween(far(0), far(7200.5))).toBe(7200.5);
    expect(secondsBetween('-5.250000000s since 1970 (out of calendar range)', far(0))).toBeGreaterThan(1e16);
  });
  it('draw a ladder with times in text and HTML, never NaN', () => {
    const text = renderText(report([c]));
    expect(text).toMatch(/7200\.500 {2}\|--- probe, frame \d+ -+>\|/);
    expect(text).toMatch(/14400\.250 {2}\|--- probe/);
    expect(text).toMatch(/12345678\.500 {2}\|--- retry 1/);
    // Every row of the ladder keeps its lanes in the same columns, however wide the times.
    const rows = text.split('\n').filter((l) => /^\s+(\d+\.\d{3}|t \(s\))?\s+\|/.test(l) || /^\s+t \(s\)/.test(l));
    expect(rows.length).toBeGreaterThan(4);
    const lane = (l: string) => (l.includes('t (s)') ? l.indexOf('client') : l.indexOf('|'));
    expect(new Set(rows.map(lane)).size).toBe(1);
    const html = renderHtml(report([c]));
    expect(html).toMatch(/<svg class="ladder" viewBox="0 0 900 [\d.]+" width="900" height="[\d.]+"/);
    for (const out of [text, html, renderMarkdown(report([c])), renderCsv(report([c]))]) expect(out).not.toMatch(/NaN|undefined/);
  });
});
