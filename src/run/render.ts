/**
 * What `keepalive run` concludes and prints: the check's judgement (src/report/check.ts, the same
 * as `keepalive check`) applied to the connections the command made, with, for each connection
 * that showed no probe, whether the capture could have shown one; and the exit status.
 */
import type { ConnectionReport, Side } from '../analysis/model.js';
import { DEFAULT_TOLERANCE, effectiveStatus, evaluate, expectationText, renderCheckText, summaryLine, type CheckOutcome, type Expectations, type Status } from '../report/check.js';
import { mdCell, mdCode } from '../report/markdown.js';
import { plural, seconds } from '../report/units.js';
import { idleCoverage, type IdleCoverage, type IdleReference } from './coverage.js';
import type { KernelKeepalive } from './namespace.js';
import type { RunResult } from './run.js';

export interface RunOutcome {
  run: RunResult;
  /** null: no expectation was given; the run only reports, and its status is the command's. */
  expectations: Expectations | null;
  check: CheckOutcome | null;
  /** Connections without the probes asked about, and whether the capture could have shown them. */
  coverage: IdleCoverage[];
  /** Connections were selected and none showed keepalive (from the side asked about). */
  noKeepalive: boolean;
  /** The exit status: the command's when it failed; else 0, or 1 when an expectation failed. */
  status: number;
}

/** The command as a person would type it (arguments quoted where a shell needs it). */
export function commandLine(command: readonly string[]): string {
  return command.map((a) => (a !== '' && /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

function selectionFilters(port: number | undefined, host: string | undefined): string {
  return [port !== undefined ? `--port ${port}` : '', host !== undefined ? `--host ${host}` : ''].filter(Boolean).join(' ');
}

/** Where the connections were looked for, in words. */
function where(run: RunResult): string {
  return run.isolated ? `in ${commandLine(run.command)}'s namespace` : `on ${run.stats.iface}`;
}

function showsKeepalive(c: ConnectionReport, side: Side | 'any'): boolean {
  return side === 'any' ? c.keepalive.client !== null || c.keepalive.server !== null : c.keepalive[side] !== null;
}

export interface Selection {
  port?: number | undefined;
  host?: string | undefined;
}

export function judgeRun(run: RunResult, expectations: Expectations | null, selection: Selection = {}): RunOutcome {
  const side = expectations?.side ?? 'any';
  const tol = expectations?.tolerance ?? DEFAULT_TOLERANCE;
  const ref: IdleReference =
    expectations?.idle !== undefined
      ? { idle: expectations.idle, from: 'expected' }
      : { idle: run.kernel.idle, from: 'kernel', kernelSet: run.kernelSet.idle !== undefined, isolated: run.isolated };
  const connections = run.report.connections;
  const coverage = idleCoverage(connections, ref, run.captureEnd, side, tol);
  const noKeepalive = connections.length > 0 && connections.every((c) => !showsKeepalive(c, side));
  let check: CheckOutcome | null = null;
  if (expectations !== null) {
    check = evaluate(run.report, expectations);
    if (check.reason !== null) {
      const filters = selectionFilters(selection.port, selection.host);
      check.reason = filters
        ? `no connection selected: no connection ${where(run)} matches ${filters}`
        : run.isolated
          ? `no connection selected: ${commandLine(run.command)} made no TCP connection`
          : `no connection selected: no TCP connection was seen on ${run.stats.iface}`;
    }
    for (const r of check.results) {
      const cov = coverage.find((x) => x.side === r.side && x.connection.client === r.connection.client && x.connection.server === r.connection.server);
      if (cov !== undefined) r.message = `${r.message}; ${cov.message}`;
    }
  }
  let status: number;
  if (!run.exit.started || run.exit.status !== 0) status = run.exit.status;
  else if (check !== null) status = check.ok ? 0 : 1;
  else status = 0;
  return { run, expectations, check, coverage, noKeepalive, status };
}

/** How the command ended, in a line. */
export function exitText(run: RunResult): string {
  const cmd = commandLine(run.command);
  const e = run.exit;
  if (!e.started) return `${cmd} was not started: interrupted by ${e.signal ?? 'a signal'} first`;
  const after = `after ${seconds(Math.round(e.seconds * 100) / 100)}`;
  if (e.signal !== null) return `${cmd} was killed by ${e.signal} (status ${e.status}) ${after}`;
  return `${cmd} exited with status ${e.status} ${after}`;
}

/** Why the exit status is the command's. */
function statusText(run: RunResult): string {
  const e = run.exit;
  if (!e.started) return `interrupted by ${e.signal ?? 'a signal'} before the command started`;
  if (e.signal !== null) return `the command's (it was killed by ${e.signal})`;
  return `the command's (it failed)`;
}

export function kernelText(k: KernelKeepalive, kernelSet: Partial<KernelKeepalive> = {}): string {
  const set = Object.keys(kernelSet).length > 0 ? ' (set by --kernel-*)' : '';
  return `idle ${seconds(k.idle)}, interval ${seconds(k.interval)}, ${plural(k.count, 'probe')}${set}`;
}

function noKeepaliveText(o: RunOutcome): string {
  const side = o.expectations?.side ?? 'any';
  const n = o.run.report.connections.length;
  const made = o.run.isolated ? `${commandLine(o.run.command)} made` : `seen on ${o.run.stats.iface}`;
  if (side !== 'any') return `no connection showed keepalive: the ${side} of ${n === 1 ? 'the one connection' : `each of the ${n} connections`} ${made} sent no keepalive probe`;
  if (n === 1) return `no connection showed keepalive: neither end of the one connection ${made} sent a keepalive probe`;
  return `no connection showed keepalive: neither end of any of the ${n} connections ${made} sent a keepalive probe`;
}

const MAX_LISTED = 20;

/** One line per connection (at most 20): its verdict and explanation, or why it showed no probe. */
function connectionLines(o: RunOutcome): string[] {
  const list = o.run.report.connections;
  const lines = list.slice(0, MAX_LISTED).map((c) => {
    const cov = o.coverage.filter((x) => x.connection.client === c.client && x.connection.server === c.server);
    let why = c.explanation;
    if (cov.length > 0) {
      const who = `no keepalive probe from ${cov[0]!.side === null ? 'either side' : `the ${cov[0]!.side}`}`;
      // With a check, its result line carries the whole reasoning.
      why = o.check !== null ? `${who} (quiet for ${seconds(cov[0]!.longestIdle)} at most)` : `${who}; ${cov[0]!.message}`;
    }
    return `  ${c.client} -> ${c.server}  ${c.verdict.toUpperCase()}  ${why}`;
  });
  if (list.length > MAX_LISTED) lines.push(`  … and ${list.length - MAX_LISTED} more (-w FILE keeps the capture for keepalive analyze)`);
  return lines;
}

export function renderRunText(o: RunOutcome, paint: (status: Status, s: string) => string = (_s, t) => t): string {
  const n = o.run.report.connections.length;
  const lines: string[] = [];
  if (n === 0) lines.push(`keepalive run: no TCP connection ${o.run.isolated ? `made by ${commandLine(o.run.command)}` : `seen on ${o.run.stats.iface}`}`);
  else lines.push(`keepalive run: ${plural(n, 'connection')} ${o.run.isolated ? `made by ${commandLine(o.run.command)}` : `seen on ${o.run.stats.iface}`}`, ...connectionLines(o));
  if (o.check !== null) lines.push(renderCheckText(o.check, o.expectations!, paint).trimEnd());
  if (o.noKeepalive) lines.push(`${o.check !== null ? `${paint('fail', 'FAIL')}: ` : ''}${noKeepaliveText(o)}`);
  if (o.run.exit.status !== 0 || !o.run.exit.started) lines.push(`exit status ${o.status}: ${statusText(o.run)}`);
  return `${lines.join('\n')}\n`;
}

const STATUS_MARK = { pass: '✅ pass', fail: '❌ fail', na: '➖ not observable' } as const;

/** For a CI job summary. */
export function renderRunMarkdown(o: RunOutcome): string {
  const head = o.check === null ? 'reported' : o.status === 0 ? '✅ passed' : '❌ failed';
  const r = o.run;
  const out = [
    `### keepalive run: ${head}`,
    '',
    `${mdCode(commandLine(r.command))} · ${mdCell(exitText(r).slice(commandLine(r.command).length + 1))} · ${r.isolated ? `namespace ${mdCode(r.namespace ?? '')}` : `captured on ${mdCode(r.stats.iface)}`} · kernel keepalive ${mdCell(kernelText(r.kernel, r.kernelSet))} · ${plural(r.stats.frames, 'frame')}`,
    '',
  ];
  if (o.check !== null) {
    const tol = o.expectations!.tolerance ?? DEFAULT_TOLERANCE;
    out.push(mdCell(summaryLine(o.check, o.expectations!)), '');
    if (o.check.results.length > 0) {
      out.push('| Result | Client | Server | Side | Expected | Observed |', '|---|---|---|---|---|---|');
      for (const x of o.check.results) {
        const status = effectiveStatus(x, o.expectations!.strict);
        out.push(`| ${STATUS_MARK[status]} | ${mdCode(x.connection.client)} | ${mdCode(x.connection.server)} | ${x.side ?? '–'} | ${mdCell(expectationText(x, tol))} | ${mdCell(x.message)} |`);
      }
      out.push('');
    }
  }
  if (o.noKeepalive) out.push(`**${mdCell(noKeepaliveText(o))}**`, '');
  const list = r.report.connections;
  if (list.length === 0) out.push(`No TCP connection ${r.isolated ? `made by ${mdCode(commandLine(r.command))}` : `seen on ${mdCode(r.stats.iface)}`}.`, '');
  else {
    out.push(`<details><summary>${plural(list.length, 'connection')}</summary>`, '');
    for (const line of connectionLines(o)) out.push(`- ${mdCell(line.trim())}`);
    out.push('', '</details>', '');
  }
  return out.join('\n');
}

export function renderRunJson(o: RunOutcome): string {
  const r = o.run;
  const e = o.expectations;
  return `${JSON.stringify(
    {
      version: 1,
      command: r.command,
      isolated: r.isolated,
      namespace: r.namespace,
      runAs: r.runAs === null ? null : { uid: r.runAs.uid, gid: r.runAs.gid, name: r.runAs.name ?? null },
      kernel: r.kernel,
      kernelSet: r.kernelSet,
      exit: r.exit,
      interrupted: r.interrupted,
      leftovers: r.leftovers,
      capture: { iface: r.stats.iface, frames: r.stats.frames, kernelDrops: r.stats.kernelDrops, seconds: r.stats.seconds, file: r.file },
      check:
        o.check === null
          ? null
          : {
              expectations: { idle: e!.idle, interval: e!.interval, count: e!.count, side: e!.side ?? 'any', tolerance: e!.tolerance ?? DEFAULT_TOLERANCE, strict: e!.strict === true },
              ...o.check,
            },
      noKeepalive: o.noKeepalive,
      coverage: o.coverage,
      status: o.status,
      report: r.report,
    },
    null,
    2,
  )}\n`;
}
