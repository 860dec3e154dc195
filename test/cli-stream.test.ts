// Output for huge and for many captures: JSON Lines streamed as connections end, and
// --separate analysing unrelated files in parallel with the same result as one by one.
import { describe, expect, it } from 'vitest';
import { fixture, runCli } from './helpers.js';

const many = fixture('ka-many.pcap');

describe('--format jsonl', () => {
  it('one line per connection, as in the JSON report, then the summary', () => {
    const lines = runCli(['analyze', many, '--format', 'jsonl']).stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    const json = JSON.parse(runCli(['analyze', many, '--format', 'json']).stdout);
    const summary = lines.pop();
    expect(summary).toEqual({ version: 1, summary: json.summary });
    // Lines come in the order connections end; the JSON report sorts them by first frame.
    expect(lines).toHaveLength(24);
    expect([...lines].sort((a, b) => a.firstFrame - b.firstFrame)).toEqual(json.connections);
  });
});

describe('--separate', () => {
  const files = [fixture('ka-dead.pcap'), fixture('ka-many.pcap'), fixture('ka-reset.pcap'), fixture('fmt-pcapng.pcapng')];

  it('gives the same reports in parallel as one by one, each file numbered from frame 1', () => {
    const parallel = runCli(['analyze', ...files, '--separate', '--format', 'json']);
    const serial = runCli(['analyze', ...files, '--separate', '--jobs', '1', '--format', 'json']);
    expect(parallel.status).toBe(0);
    expect(parallel.stdout).toBe(serial.stdout);
    const reports = JSON.parse(parallel.stdout);
    expect(reports.map((r: { summary: { files: string[] } }) => r.summary.files)).toEqual(files.map((f) => [f]));
    // Each is the report of that file alone.
    expect(reports[0]).toEqual(JSON.parse(runCli(['analyze', files[0]!, '--format', 'json']).stdout));
  });

  it('csv: one header, the rows of every file', () => {
    const csv = runCli(['analyze', ...files, '--separate', '--format', 'csv']).stdout.trimEnd().split('\r\n');
    expect(csv.filter((l) => l.startsWith('client,'))).toHaveLength(1);
    expect(csv).toHaveLength(1 + 1 + 24 + 1 + 1);
  });

  it('the first unreadable file in input order is the error, as in a serial run', () => {
    const r = runCli(['analyze', files[0]!, fixture('malformed/absurd-record-length.pcap'), fixture('malformed/pcapng-bad-trailer.pcapng'), '--separate']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/absurd-record-length\.pcap: byte \d+: record length/);
  });
});

describe('--middlebox-timeout', () => {
  it('moves the line for the silence finding', () => {
    const strict = JSON.parse(runCli(['analyze', fixture('hb-silent.pcap'), '--format', 'json', '--middlebox-timeout', '10s']).stdout);
    expect(strict.summary.findings.map((f: { rule: string }) => f.rule)).toContain('silent-gap');
    const r = runCli(['analyze', fixture('hb-silent.pcap'), '--middlebox-timeout', 'soon']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--middlebox-timeout: 'soon' is not a duration/);
  });
});
