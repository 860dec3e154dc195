// "The hot path allocates nothing per packet": the CSV analysis of a capture and of one with
// twice the packets over the same connections (the bench generator's plans do not depend on
// the packet count) must make the same number of young-generation collections, once the
// compiler has settled. A control pass that keeps one small object per frame shows that the
// count does see per-packet garbage. The bench's doubling check covers peak RSS; this covers
// the garbage that never reaches RSS but costs a collection every megabyte.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';
import { tempDir } from './synth-helpers.js';

interface Pass {
  file: string;
  packets: number;
  connections: number;
  analysis: number;
  control: number;
}

describe('hot path', () => {
  // Both connection tables: the C++ one CSV uses, and flows.ts's (the other formats, or no compiler).
  it.each([
    ['the C++ table', {}],
    ['flows.ts', { KEEPALIVE_NATIVE: '0' }],
  ] as const)('allocates nothing per packet (%s): twice the packets over the same connections, no more collections', (_name, env) => {
    const dir = tempDir();
    const files = [100_000, 200_000].map((packets) => {
      const file = join(dir, `${packets}.pcap`);
      execFileSync(process.execPath, [join(ROOT, 'scripts/bench-capture.mjs'), file, '--packets', String(packets), '--connections', '200', '--seed', '7'], { stdio: 'pipe' });
      return file;
    });
    const truth = files.map((f) => JSON.parse(readFileSync(f.replace(/\.pcap$/, '.truth.json'), 'utf8')) as { packets: number; connections: number; keepaliveProbes: number });
    expect(truth.map((t) => [t.packets, t.connections])).toEqual([
      [100_000, 200],
      [200_000, 200],
    ]);
    // A 1 MiB young generation: every megabyte of garbage is one collection.
    const out = execFileSync(process.execPath, ['--max-semi-space-size=1', join(ROOT, 'test/programs/young-gcs.mjs'), join(ROOT, 'dist'), ...files], { encoding: 'utf8', env: { ...process.env, ...env } });
    const [small, large] = JSON.parse(out) as Pass[];
    expect([small!.packets, small!.connections, large!.packets, large!.connections]).toEqual([100_000, 200, 200_000, 200]);
    // 100,000 more frames with a 40-byte object each: about 4 MB more, at least 3 more collections.
    expect(large!.control - small!.control).toBeGreaterThanOrEqual(3);
    // The analysis of those 100,000 more packets: at most one more collection (under 10 bytes a packet).
    expect(large!.analysis - small!.analysis).toBeLessThanOrEqual(1);
  });
});
