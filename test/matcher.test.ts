// The vitest matcher a JavaScript project uses to test its own keepalive settings, imported the
// way such a project imports it: through the package's "./vitest" export (the built files).
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { keepaliveMatchers } from 'keepalive/vitest';
import { analyzeToReport } from '../src/analysis/analyze.js';
import type { Report } from '../src/analysis/model.js';
import { seconds } from '../src/report/units.js';
import { fixture } from './helpers.js';
import { keepaliveConversation, tempDir, writePcap } from './synth-helpers.js';

expect.extend(keepaliveMatchers);

let alive: Report;
let dead: Report;
let reset: Report;
let none: Report;

beforeAll(async () => {
  alive = await analyzeToReport([fixture('shared/linux-alive.pcap')]);
  dead = await analyzeToReport([fixture('shared/linux-dead.pcap')]);
  reset = await analyzeToReport([fixture('shared/linux-reset.pcap')]);
  const noProbes = keepaliveConversation(false).filter((_, i) => i < 5 || i > 8);
  none = await analyzeToReport([writePcap(join(tempDir(), 'none.pcap'), 1, noProbes)]);
});

/** The message vitest shows when the assertion fails. */
function failure(run: () => void): string {
  try {
    run();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the assertion passed');
}

describe('expect(report).toHaveKeepalive(...)', () => {
  it('passes the settings the kernel was configured with', () => {
    expect(dead).toHaveKeepalive({ idle: 1, interval: 2, count: 3 });
    expect(dead).toHaveKeepalive({ idle: '1s', interval: '2000ms', count: 3, side: 'client' });
    expect(reset).toHaveKeepalive({ idle: 2 });
    expect(dead.connections[0]).toHaveKeepalive({ count: 3 });
    expect(dead).toHaveKeepalive();
    // Count 3 and a TCP_USER_TIMEOUT of 6 s look the same on the wire.
    expect(dead).toHaveKeepalive({ userTimeout: '6s' });
    expect(dead).not.toHaveKeepalive({ userTimeout: 20 });
  });

  it('fails with observed against expected', () => {
    const msg = failure(() => expect(dead).toHaveKeepalive({ idle: 1, interval: 5, count: 9 }));
    expect(msg).toContain('expected keepalive idle 1 s, interval 5 s, count 9 (± 10 %, side any)');
    const seen = dead.connections[0]!.keepalive.client!;
    expect(msg).toContain(`pass 10.77.0.1:56034 -> 10.77.0.2:9002 client idle: observed ${seconds(seen.idle)}, expected 1 s ± 10 %`);
    expect(msg).toContain(`FAIL 10.77.0.1:56034 -> 10.77.0.2:9002 client interval: observed ${seconds(seen.interval)}, expected 5 s ± 10 %`);
    expect(msg).toContain('FAIL 10.77.0.1:56034 -> 10.77.0.2:9002 client count: observed 3, expected 9');
    expect(dead).not.toHaveKeepalive({ interval: 5 });
  });

  it('what the capture cannot show passes, unless strict', () => {
    expect(alive).toHaveKeepalive({ idle: 1, interval: 1, count: 5 });
    expect(alive).not.toHaveKeepalive({ interval: 5 }); // answered probes came every ~1 s
    const msg = failure(() => expect(alive).toHaveKeepalive({ interval: 1, strict: true }));
    expect(msg).toMatch(/FAIL .* client interval: not observable: every probe was answered/);
  });

  it('tolerance as a fraction, a percentage or a duration', () => {
    expect(dead).not.toHaveKeepalive({ idle: 1.2 });
    expect(dead).toHaveKeepalive({ idle: 1.2, tolerance: 0.2 });
    expect(dead).toHaveKeepalive({ idle: 1.2, tolerance: '20%' });
    expect(dead).toHaveKeepalive({ idle: 1.2, tolerance: '250ms' });
  });

  it('no keepalive at all fails; so does the wrong side', () => {
    const msg = failure(() => expect(none).toHaveKeepalive({ idle: 60 }));
    expect(msg).toContain('no keepalive probes from either side (verdict closed)');
    expect(none).not.toHaveKeepalive();
    expect(dead).not.toHaveKeepalive({ idle: 1, side: 'server' });
  });

  it('says what it wanted when given something else', () => {
    expect(failure(() => expect({ hello: 1 }).toHaveKeepalive({ idle: 1 }))).toMatch(/expected a keepalive Report/);
    expect(() => expect(dead).toHaveKeepalive({ idle: 'soon' })).toThrow(/idle "soon" is not a duration/);
  });

  it('.not says so when the keepalive did match', () => {
    const msg = failure(() => expect(dead).not.toHaveKeepalive({ count: 3 }));
    expect(msg).toMatch(/expected the keepalive not to match count 3/);
  });
});
