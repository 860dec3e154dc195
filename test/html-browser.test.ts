// The HTML report in a real browser (Debian's chromium, headless, offline): the ladder diagrams
// render at a size a person can read, every probe is drawn, no label spills out of its diagram
// or sits on another one, and the screenshot holds the diagram's colours.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../src/analysis/model.js';
import { fixture, runCli } from './helpers.js';
import { tempDir } from './synth-helpers.js';
import { CHROMIUM, chromium, decodePng } from './browser.js';

const dir = tempDir();
const FILES = ['linux-alive', 'linux-dead', 'linux-reset'].map((n) => fixture(`shared/${n}.pcap`));

/** Measurements taken inside the page after layout, written into the DOM for --dump-dom. */
const MEASURE = `<script>
(() => {
  const rect = (el) => { const r = el.getBoundingClientRect(); return { x: r.left, y: r.top, w: r.width, h: r.height }; };
  const svgs = [...document.querySelectorAll('svg.ladder')].map((svg) => {
    const box = rect(svg);
    const texts = [...svg.querySelectorAll('text')].map((t) => ({ text: t.textContent, ...rect(t) }));
    const outside = texts.filter((t) => t.x < box.x - 0.5 || t.y < box.y - 0.5 || t.x + t.w > box.x + box.w + 0.5 || t.y + t.h > box.y + box.h + 0.5).map((t) => t.text);
    const overlaps = [];
    for (let i = 0; i < texts.length; i++) for (let k = i + 1; k < texts.length; k++) {
      const a = texts[i], b = texts[k];
      const ox = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
      const oy = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
      if (ox > 1 && oy > 2) overlaps.push(a.text + ' / ' + b.text);
    }
    const probes = [...svg.querySelectorAll('g.probe')].map((g) => ({ frame: Number(g.dataset.frame), reply: g.dataset.reply, ...rect(g), visible: getComputedStyle(g).visibility === 'visible' && getComputedStyle(g).display !== 'none' }));
    const replies = [...svg.querySelectorAll('g.reply')].map((g) => ({ frame: Number(g.dataset.frame), ...rect(g) }));
    const spans = [...svg.querySelectorAll('g.span')].map((g) => ({ kind: g.classList[1], ...rect(g) }));
    return { ...box, texts: texts.length, emptyTexts: texts.filter((t) => t.w === 0 || t.h === 0).length, outside, overlaps, probes, replies, spans };
  });
  const pre = document.createElement('pre');
  pre.id = 'measured';
  pre.textContent = JSON.stringify({ svgs, pageWidth: document.documentElement.scrollWidth, viewport: innerWidth });
  document.body.appendChild(pre);
})();
</script>`;

interface Measured {
  svgs: {
    x: number;
    y: number;
    w: number;
    h: number;
    texts: number;
    emptyTexts: number;
    outside: string[];
    overlaps: string[];
    probes: { frame: number; reply: string; w: number; h: number; visible: boolean }[];
    replies: { frame: number; w: number; h: number }[];
    spans: { kind: string; w: number; h: number }[];
  }[];
  pageWidth: number;
  viewport: number;
}

/** An 8-bit, non-interlaced RGB or RGBA PNG (what chromium writes) as RGBA pixels. */

describe.skipIf(CHROMIUM === undefined && !process.env.CI)('the HTML report in headless chromium', () => {
  let report: Report;
  let html: string;
  const page = join(dir, 'report.html');

  beforeAll(() => {
    expect(CHROMIUM, 'chromium is not installed: .ci/run installs it').toBeDefined();
    const r = runCli(['analyze', ...FILES, '--format', 'html', '-o', page]);
    expect(r.status).toBe(0);
    html = readFileSync(page, 'utf8');
    report = JSON.parse(runCli(['analyze', ...FILES, '--format', 'json']).stdout) as Report;
    expect(report.connections).toHaveLength(3);
  });

  it('lays out one readable ladder per connection, every probe drawn, no label clipped or overlapping', () => {
    const probe = join(dir, 'measure.html');
    writeFileSync(probe, html.replace('</body>', `${MEASURE}\n</body>`));
    const dom = chromium(['--window-size=1000,1200', '--dump-dom', `file://${probe}`]);
    const m = /<pre id="measured">([^<]*)<\/pre>/.exec(dom);
    expect(m, 'the page ran the measuring script').not.toBeNull();
    const measured = JSON.parse(m![1]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&')) as Measured;
    expect(measured.svgs).toHaveLength(report.connections.length);
    expect(measured.pageWidth).toBeLessThanOrEqual(measured.viewport); // no sideways scrolling at 1000 px
    measured.svgs.forEach((svg, i) => {
      const c = report.connections[i]!;
      expect(svg.w).toBeGreaterThanOrEqual(800);
      expect(svg.h).toBeGreaterThan(250);
      expect(svg.texts).toBeGreaterThan(10);
      expect(svg.emptyTexts).toBe(0);
      expect(svg.outside, `labels outside diagram ${i + 1}`).toEqual([]);
      expect(svg.overlaps, `labels on top of each other in diagram ${i + 1}`).toEqual([]);
      expect(svg.probes.map((p) => p.frame)).toEqual(c.probes.map((p) => p.frame));
      for (const p of svg.probes) {
        expect(p.visible).toBe(true);
        expect(p.w).toBeGreaterThan(200); // an arrow across the lanes, not a dot
        expect(p.h).toBeGreaterThan(5);
      }
      expect(svg.replies.map((r) => r.frame)).toEqual(c.probes.filter((p) => p.reply.kind !== 'none').map((p) => p.reply.frame));
      for (const r of svg.replies) expect(r.w).toBeGreaterThan(200);
      expect(svg.spans.length).toBeGreaterThan(0);
      for (const s of svg.spans) expect(s.h).toBeGreaterThan(10);
    });
  });

  it('a screenshot shows the diagrams in their colours', () => {
    const png = join(dir, 'report.png');
    chromium(['--window-size=1000,3600', `--screenshot=${png}`, `file://${page}`]);
    const { width, height, rgba } = decodePng(readFileSync(png));
    expect([width, height]).toEqual([1000, 3600]);
    const near = (rgb: number): number => {
      const [r, g, b] = [(rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255];
      let n = 0;
      for (let i = 0; i < rgba.length; i += 4) if (Math.abs(rgba[i]! - r) < 24 && Math.abs(rgba[i + 1]! - g) < 24 && Math.abs(rgba[i + 2]! - b) < 24) n++;
      return n;
    };
    let ink = 0;
    const colours = new Set<number>();
    for (let i = 0; i < rgba.length; i += 4) {
      if (rgba[i]! + rgba[i + 1]! + rgba[i + 2]! < 600) ink++;
      colours.add((rgba[i]! << 16) | (rgba[i + 1]! << 8) | rgba[i + 2]!);
    }
    expect(ink / (width * height)).toBeGreaterThan(0.02); // not a blank page
    expect(colours.size).toBeGreaterThan(100);
    expect(near(0x0969da)).toBeGreaterThan(300); // answered probes (alive, reset)
    expect(near(0x1a7f37)).toBeGreaterThan(300); // ACK replies (alive)
    expect(near(0xbc4c00)).toBeGreaterThan(300); // unanswered probes (dead)
    expect(near(0xcf222e)).toBeGreaterThan(300); // RSTs (dead, reset)
  });
});
