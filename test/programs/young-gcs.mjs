// Counts the minor (young-generation) collections of a pass of the CSV analysis over each
// capture (the fewest of three, after two passes that let the compiler settle; a collection more
// or less is where the megabyte boundaries fall), and of a control pass that keeps
// one small object per frame. Run with a small young generation so garbage shows as
// collections: node --max-semi-space-size=1 young-gcs.mjs DIST FILE...
// Prints one JSON line: [{ file, packets, connections, analysis, control }].
import { PerformanceObserver, constants } from 'node:perf_hooks';

const [dist, ...files] = process.argv.slice(2);
const { analyzeInOrder } = await import(`${dist}/analysis/analyze.js`);
const { openCapture, readFrames } = await import(`${dist}/capture/open.js`);
const { csvRow } = await import(`${dist}/report/csv.js`);

let minor = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) minor++;
}).observe({ entryTypes: ['gc'] });

/** Minor collections during `work` (the observer reports them after the fact). */
async function minorGcs(work) {
  await new Promise((r) => setTimeout(r, 20));
  minor = 0;
  const result = await work();
  await new Promise((r) => setTimeout(r, 20));
  return { result, gcs: minor };
}

/** As `keepalive analyze FILE --format csv` drives the analysis. */
async function analysis(file) {
  const it = analyzeInOrder([file], { probeList: false }, csvRow);
  let connections = 0;
  for (;;) {
    const r = await it.next();
    if (r.done) return { packets: r.value.packets, connections };
    connections += r.value.length;
  }
}

/** Reading only, keeping one small object per frame alive until the next one. */
async function control(file) {
  const capture = await openCapture(file);
  let last = null;
  for await (const _ of readFrames([capture], (frame, n) => {
    last = { n, t: frame.tsNsec };
  }));
  await capture.input.close();
  return last?.n ?? 0;
}

const out = [];
for (const file of files) {
  await analysis(file);
  await analysis(file);
  // The fewest of three passes: where the megabyte boundaries fall moves a collection either way.
  const passes = [];
  for (let i = 0; i < 3; i++) passes.push(await minorGcs(() => analysis(file)));
  const c = await minorGcs(() => control(file));
  out.push({ file, packets: passes[0].result.packets, connections: passes[0].result.connections, analysis: Math.min(...passes.map((p) => p.gcs)), control: c.gcs });
}
console.log(JSON.stringify(out));
