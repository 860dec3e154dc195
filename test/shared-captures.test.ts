// The shared Linux captures: verdicts as recorded, and frame-for-frame agreement with the
// tshark flags stored beside each capture (tshark 4.0's tcp.analysis.keep_alive /
// keep_alive_ack), which are right on these files: none holds a zero-window probe.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyzeWithEvents, fixture, framesOf, readJson } from './helpers.js';

interface SharedTruth {
  connections: { server: string; prober: string; keepidle_s: number; keepintvl_s?: number; keepcnt?: number; outcome: string }[];
}

function tsvFlags(name: string): { packets: number; tcp: number; keepAlive: number[]; keepAliveAck: number[] } {
  const rows = readFileSync(fixture(`shared/${name}.tshark.tsv`), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
  return {
    packets: rows.length,
    tcp: rows.filter((r) => r[4] !== '').length,
    keepAlive: rows.filter((r) => r[7] === '1').map((r) => Number(r[0])),
    keepAliveAck: rows.filter((r) => r[8] === '1').map((r) => Number(r[0])),
  };
}

const cases = [
  ['linux-alive', 'linux-alive.pcap'],
  ['linux-alive', 'linux-alive.pcapng'],
  ['linux-dead', 'linux-dead.pcap'],
  ['linux-reset', 'linux-reset.pcap'],
] as const;

describe.each(cases)('shared capture %s (%s)', (name, file) => {
  const truth = readJson<SharedTruth>(fixture(`shared/${name}.truth.json`));
  const want = truth.connections[0]!;
  const flags = tsvFlags(name);

  it('counts packets and TCP segments as tshark does', async () => {
    const { report } = await analyzeWithEvents([fixture(`shared/${file}`)]);
    expect(report.summary.packets).toBe(flags.packets);
    expect(report.summary.tcpSegments).toBe(flags.tcp);
  });

  it('finds exactly the probes and probe ACKs tshark flags', async () => {
    const { events } = await analyzeWithEvents([fixture(`shared/${file}`)]);
    expect(framesOf(events, 'probe')).toEqual(flags.keepAlive);
    expect(framesOf(events, 'reply-ack')).toEqual(flags.keepAliveAck);
  });

  it('reaches the recorded verdict and settings', async () => {
    const { report } = await analyzeWithEvents([fixture(`shared/${file}`)]);
    expect(report.connections).toHaveLength(1);
    const c = report.connections[0]!;
    expect(c.server).toBe(want.server);
    expect(c.verdict).toBe(want.outcome);
    const s = c.keepalive[want.prober as 'client' | 'server']!;
    expect(s).not.toBeNull();
    expect(s.idle! / want.keepidle_s).toBeCloseTo(1, 1);
    if (want.outcome === 'dead') {
      expect(s.interval! / want.keepintvl_s!).toBeCloseTo(1, 1);
      expect(s.count).toBe(want.keepcnt);
    } else {
      // Every probe was answered: the interval and count never showed on the wire.
      expect(s.interval).toBeNull();
      expect(s.count).toBeNull();
    }
  });
});
