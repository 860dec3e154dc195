// The malformed-capture corpus (fixtures/malformed/, made by scripts/make-malformed.mjs from
// real recordings, plus fuzzer crashers): each reaches its expected outcome through the CLI.
import { describe, expect, it } from 'vitest';
import { fixture, readJson, runCli, tsharkFields } from './helpers.js';

interface Expected {
  outcome: 'report' | 'error';
  message?: string;
  packets?: number;
  tcpSegments?: number;
  warning?: string;
  /** tshark's count of frames with a TCP layer, where the case states it. */
  tsharkTcp?: number;
}

const expected = readJson<Record<string, Expected>>(fixture('malformed/expected.json'));

describe.each(Object.entries(expected))('malformed/%s', (name, want) => {
  it(want.outcome === 'error' ? 'exits 2 with one line naming file, offset and cause' : 'yields what it holds', () => {
    const file = fixture(`malformed/${name}`);
    const r = runCli(['analyze', file, '--format', 'json']);
    if (want.outcome === 'error') {
      expect(r.status).toBe(2);
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^keepalive: .*${name}: byte \\d+: `));
      expect(lines[0]).toContain(want.message!);
      return;
    }
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.summary.packets).toBe(want.packets);
    if (want.tcpSegments !== undefined) expect(report.summary.tcpSegments).toBe(want.tcpSegments);
    if (want.warning) expect(report.summary.warnings.join('\n')).toContain(want.warning);
    else expect(report.summary.warnings).toEqual([]);
    // What it holds is drawn, in every format: times beyond the calendar (multi-if-frame-bytes)
    // once made text and HTML ladders at "NaN" seconds.
    for (const format of ['text', 'html', 'markdown', 'csv']) {
      const out = runCli(['analyze', file, '--format', format]);
      expect(out.status).toBe(0);
      expect(out.stdout, format).not.toMatch(/\b(NaN|undefined)\b/);
    }
    // tshark reads as many frames from it.
    expect(tsharkFields(file, ['frame.number']).length).toBe(want.packets);
    if (want.tsharkTcp !== undefined) expect(tsharkFields(file, ['frame.number'], 'tcp').length).toBe(want.tsharkTcp);
  });
});
