// The HTML demo page in a real browser (Debian's chromium, headless, offline), as a class would
// see it on a projector: every frame drawn as an arrow between the lanes with its explanation
// beside it, nothing spilling out of its place, the report's ladder below, in the diagram's colours.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runDemo, scenarios, type DemoResult } from '../src/demo/index.js';
import { tempDir } from './synth-helpers.js';
import { CHROMIUM, chromium, decodePng } from './browser.js';

const dir = tempDir();
/** Measurements taken inside the page after layout, written into the DOM for --dump-dom. */
const MEASURE = `<script>
(() => {
  const rect = (el) => { const r = el.getBoundingClientRect(); return { x: r.left, y: r.top, w: r.width, h: r.height }; };
  const shown = (el) => { const s = getComputedStyle(el); return s.visibility === 'visible' && s.display !== 'none' && Number(s.opacity) > 0; };
  const table = document.querySelector('table.demo-diagram');
  const rows = [...document.querySelectorAll('table.demo-diagram tr.frame')].map((tr) => {
    const svg = tr.querySelector('svg.arrow');
    const label = svg.querySelector('text');
    const explain = tr.querySelector('td.explain');
    const sr = rect(svg), lr = rect(label);
    return {
      frame: Number(tr.dataset.frame), role: tr.dataset.role, row: rect(tr),
      svg: { ...sr, shown: shown(svg), shapes: svg.querySelectorAll('line, polygon, path, circle').length },
      labelInside: lr.x >= sr.x - 0.5 && lr.x + lr.w <= sr.x + sr.w + 0.5 && lr.y >= sr.y - 0.5 && lr.y + lr.h <= sr.y + sr.h + 0.5,
      labelText: label.textContent,
      explain: { ...rect(explain), shown: shown(explain), text: explain.innerText.length, overflow: explain.scrollWidth > explain.clientWidth + 1 },
    };
  });
  const lanes = [...document.querySelectorAll('.lane-name')].map(rect);
  const ladders = [...document.querySelectorAll('svg.ladder')].map(rect);
  const pre = document.createElement('pre');
  pre.id = 'measured';
  pre.textContent = JSON.stringify({ table: table ? rect(table) : null, rows, lanes, ladders, pageWidth: document.documentElement.scrollWidth, viewport: innerWidth,
    conclusion: rect(document.querySelector('.conclusion')), title: document.querySelector('h1').innerText });
  document.body.appendChild(pre);
})();
</script>`;

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}
interface Measured {
  table: Box | null;
  rows: { frame: number; role: string; row: Box; svg: Box & { shown: boolean; shapes: number }; labelInside: boolean; labelText: string; explain: Box & { shown: boolean; text: number; overflow: boolean } }[];
  lanes: Box[];
  ladders: Box[];
  pageWidth: number;
  viewport: number;
  conclusion: Box;
  title: string;
}

function measure(page: string, width: number): Measured {
  const probe = page.replace(/\.html$/, `-measure-${width}.html`);
  writeFileSync(probe, readFileSync(page, 'utf8').replace('</body>', `${MEASURE}\n</body>`));
  const dom = chromium([`--window-size=${width},1400`, '--dump-dom', `file://${probe}`]);
  const m = /<pre id="measured">([^<]*)<\/pre>/.exec(dom);
  expect(m, 'the page ran the measuring script').not.toBeNull();
  return JSON.parse(m![1]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&')) as Measured;
}

/** An 8-bit, non-interlaced RGB or RGBA PNG (what chromium writes) as RGBA pixels. */

function pixelsNear(img: { rgba: Uint8Array }, rgb: number): number {
  const [r, g, b] = [(rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255];
  let n = 0;
  for (let i = 0; i < img.rgba.length; i += 4) if (Math.abs(img.rgba[i]! - r) < 20 && Math.abs(img.rgba[i + 1]! - g) < 20 && Math.abs(img.rgba[i + 2]! - b) < 20) n++;
  return n;
}

describe.skipIf(CHROMIUM === undefined && !process.env.CI)('the HTML demo page in headless chromium', () => {
  const pages = new Map<string, { page: string; result: DemoResult }>();

  beforeAll(async () => {
    expect(CHROMIUM, 'chromium is not installed: .ci/run installs it').toBeDefined();
    for (const s of scenarios()) {
      const result = await runDemo(s.name, { write: join(dir, `${s.name}.pcapng`), format: 'html' });
      const page = join(dir, `${s.name}.html`);
      writeFileSync(page, result.output);
      pages.set(s.name, { page, result });
    }
  }, 120_000);

  it.each(scenarios().map((s) => [s.name]))('%s: every frame is an arrow between the lanes with its explanation beside it', (name) => {
    const { page, result } = pages.get(name)!;
    for (const width of [1280, 1000]) {
      const m = measure(page, width);
      expect(m.pageWidth, `sideways scrolling at ${width} px`).toBeLessThanOrEqual(m.viewport);
      expect(m.title).toBe(result.scenario.title);
      expect(m.table).not.toBeNull();
      expect(m.rows.map((r) => r.frame)).toEqual(result.capture.frames.map((f) => f.number));
      expect(m.rows.map((r) => r.role)).toEqual(result.explanation.notes.map((n) => n.role));
      for (const r of m.rows) {
        expect(r.svg.shown).toBe(true);
        expect(r.svg.w).toBeGreaterThanOrEqual(300);
        expect(r.svg.h).toBeGreaterThanOrEqual(50);
        expect(r.svg.shapes).toBeGreaterThanOrEqual(3);
        expect(r.labelInside, `label of frame ${r.frame} outside its arrow`).toBe(true);
        expect(r.explain.shown).toBe(true);
        expect(r.explain.text).toBeGreaterThan(40);
        expect(r.explain.h).toBeGreaterThan(30);
        expect(r.explain.overflow, `explanation of frame ${r.frame} overflows`).toBe(false);
        // The arrow sits inside its own row, beside its own explanation.
        expect(r.svg.y).toBeGreaterThanOrEqual(r.row.y - 0.5);
        expect(r.svg.y + r.svg.h).toBeLessThanOrEqual(r.row.y + r.row.h + 0.5);
        expect(r.explain.x).toBeGreaterThanOrEqual(r.svg.x + r.svg.w - 0.5);
      }
      // Client on the left, server on the right, their name boxes apart.
      expect(m.lanes).toHaveLength(2);
      expect(m.lanes[0]!.x + m.lanes[0]!.w).toBeLessThan(m.lanes[1]!.x);
      expect(m.conclusion.h).toBeGreaterThan(30);
      // The report `keepalive analyze` writes follows, with its ladder when there are keepalive probes.
      const probing = result.capture.report.connections[0]!.probes.length > 0;
      expect(m.ladders.length).toBe(probing ? 1 : 0);
      for (const l of m.ladders) expect(l.h).toBeGreaterThan(250);
    }
  });

  it('a screenshot shows the frames in their colours', () => {
    const colours: [string, number[]][] = [
      ['alive', [0x0969da, 0x1a7f37]], // probes, their ACKs
      ['dead-peer', [0xbc4c00, 0xcf222e]], // unanswered probes, the RST
      ['zero-window', [0x8250df, 0x9a6700]], // zero-window probes, window-0 ACKs
      ['app-heartbeat', [0x0e7c86]], // PING and PONG
    ];
    for (const [name, want] of colours) {
      const png = join(dir, `${name}.png`);
      chromium(['--window-size=1280,2400', `--screenshot=${png}`, `file://${pages.get(name)!.page}`]);
      const img = decodePng(readFileSync(png));
      expect([img.width, img.height]).toEqual([1280, 2400]);
      let ink = 0;
      for (let i = 0; i < img.rgba.length; i += 4) if (img.rgba[i]! + img.rgba[i + 1]! + img.rgba[i + 2]! < 600) ink++;
      expect(ink / (img.width * img.height), name).toBeGreaterThan(0.03);
      for (const rgb of want) expect(pixelsNear(img, rgb), `${name}: #${rgb.toString(16)}`).toBeGreaterThan(400);
    }
  });
});
