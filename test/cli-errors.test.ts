// Exit statuses and messages for everything a user can get wrong, through the built CLI:
// 0 ok, 1 a check failed, 2 a usage error or unreadable input — with one line on stderr that
// names the file, the byte offset or the flag, and never a stack trace.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, runCli } from './helpers.js';
import { tempDir } from './synth-helpers.js';

const dir = tempDir();
const DEAD = fixture('shared/linux-dead.pcap');
const pcap = readFileSync(DEAD);

function put(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** Exit 2, nothing on stdout, exactly one line on stderr matching `line`, no stack trace. */
function expectUsage(args: string[], line: RegExp | string): string {
  const r = runCli(args);
  expect(r.status, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  if (typeof line === 'string') expect(lines[0]).toBe(line);
  else expect(lines[0]).toMatch(line);
  expect(r.stderr).not.toMatch(/\n\s+at |Error:|internal error/);
  return lines[0]!;
}

let seed = 4242;
const random = Uint8Array.from({ length: 4096 }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 255);

describe.each(['analyze', 'check'])('%s: unreadable input exits 2 with file and byte offset', (command) => {
  it('a missing file', () => {
    const path = join(dir, 'missing.pcap');
    expectUsage([command, path], `keepalive: ${path}: byte 0: no such file`);
  });
  it('random bytes', () => {
    const path = put(`random-${command}.pcap`, random);
    expectUsage([command, path], new RegExp(`^keepalive: ${path}: byte 0: not a pcap or pcapng capture`));
  });
  it('a file cut inside its header', () => {
    const path = put(`header-${command}.pcap`, pcap.subarray(0, 10));
    expectUsage([command, path], new RegExp(`^keepalive: ${path}: byte 10: file cut short inside the pcap file header`));
  });
  it('a directory', () => {
    const path = join(dir, `adir-${command}`);
    mkdirSync(path, { recursive: true });
    expectUsage([command, path], new RegExp(`^keepalive: ${path}: byte 0: .*directory`));
  });
});

describe('a file cut inside a record: what it holds, plus one warning', () => {
  const cut = put('cut.pcap', pcap.subarray(0, pcap.length - 20));
  it('analyze exits 0 and warns on stderr', () => {
    const r = runCli(['analyze', cut, '--format', 'csv']);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^keepalive: warning: .*cut\.pcap: byte \d+: file cut short inside .*\n$/);
    expect(r.stdout.split('\r\n')[1]).toMatch(/^10\.77\.0\.1:56034,/);
  });
  it('check judges what the file holds: the last frame (the RST) is gone, so the count is not observable', () => {
    const r = runCli(['check', cut, '--expect-interval', '2s', '--expect-count', '3']);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^keepalive: warning: .*cut short/);
    expect(r.stdout).toMatch(/^PASS .* interval/m);
    expect(r.stdout).toMatch(/^N\/A .* count: not observable/m);
    expect(runCli(['check', cut, '--expect-count', '3', '--strict']).status).toBe(1);
  });
});

describe('usage errors exit 2 naming the flag', () => {
  it('an unknown flag', () => {
    expectUsage(['analyze', DEAD, '--frobnicate'], /Unknown argument: frobnicate/);
    expectUsage(['check', DEAD, '--expect-idel', '60s'], /Unknown argument.*expect-idel/);
  });
  it("check does not take analyze's --middlebox-timeout (it shows no findings: the flag would do nothing)", () => {
    expectUsage(['check', DEAD, '--expect-idle', '60s', '--middlebox-timeout', '60s'], /Unknown argument: middlebox-timeout/);
    expect(runCli(['analyze', DEAD, '--middlebox-timeout', '60s', '--format', 'json']).status).toBe(0);
  });
  it.each([
    ['--expect-idle', '10parsecs'],
    ['--expect-idle', '-5s'],
    ['--expect-interval', '5 s'],
    ['--expect-interval', '0'],
  ])('a bad duration: %s %s', (flag, value) => {
    expectUsage(['check', DEAD, flag, value], `keepalive: ${flag}: '${value}' is not a duration (use 7200, 60s, 2m, 1500ms or 1h)`);
  });
  it('a bad count, tolerance, side or port', () => {
    expectUsage(['check', DEAD, '--expect-count', '2.5'], "keepalive: --expect-count: '2.5' is not a probe count (a whole number, 1 or more)");
    expectUsage(['check', DEAD, '--expect-count', '0'], /--expect-count: '0'/);
    expectUsage(['check', DEAD, '--tolerance', 'lots'], /^keepalive: --tolerance: 'lots' is not a tolerance/);
    expectUsage(['check', DEAD, '--side', 'left'], /side.*left/);
    expectUsage(['analyze', DEAD, '--port', '99999'], "keepalive: --port: '99999' is not a port number (0-65535)");
    expectUsage(['check', DEAD, '--port', 'http'], "keepalive: --port: 'http' is not a port number (0-65535)");
    expectUsage(['analyze', DEAD, '--format', 'pdf'], /format.*pdf/);
  });
  it('a flag without its value', () => {
    expectUsage(['check', DEAD, '--expect-idle'], /expect-idle/);
    expectUsage(['analyze', DEAD, '-o'], /\bo\b|output/);
  });
  it('no file, no command, an unknown command', () => {
    expectUsage(['check'], /Not enough non-option arguments|name at least one capture/);
    expectUsage([], 'keepalive: name a command: analyze, check, live, record, demo or run (keepalive --help lists them)');
    expectUsage(['analyse', DEAD], "keepalive: unknown command 'analyse'. Did you mean analyze?");
  });
  it('outputs that would clobber an input or each other', () => {
    const copy = put('input.pcap', pcap);
    expectUsage(['check', copy, '-o', copy], `keepalive: -o ${copy}: refusing to overwrite an input capture`);
    expectUsage(['check', copy, '--junit', copy], `keepalive: --junit ${copy}: refusing to overwrite an input capture`);
    const out = join(dir, 'same.xml');
    expectUsage(['check', copy, '--junit', out, '-o', out], `keepalive: -o and --junit name the same file ${out}`);
    expect(readFileSync(copy)).toEqual(pcap);
  });
  it('an output that cannot be written', () => {
    const out = join(dir, 'no-such-dir', 'report.html');
    expectUsage(['analyze', DEAD, '--format', 'html', '-o', out], `keepalive: -o ${out}: cannot write: no such directory`);
    expectUsage(['check', DEAD, '--junit', out], `keepalive: --junit ${out}: cannot write: no such directory`);
    // The streamed formats say so before reading the capture, as the others do.
    for (const format of ['csv', 'jsonl']) {
      expectUsage(['analyze', DEAD, '--format', format, '-o', out], `keepalive: -o ${out}: cannot write: no such directory`);
      expectUsage(['analyze', DEAD, '--format', format, '-o', dir], `keepalive: -o ${dir}: cannot write: is a directory`);
    }
    // A full disk (/dev/full refuses every write), whole reports and streamed ones alike, on one thread and two.
    if (existsSync('/dev/full')) {
      for (const args of [['--format', 'text'], ['--format', 'csv'], ['--format', 'jsonl', '--jobs', '2'], ['--format', 'json', '--jobs', '2']]) {
        expectUsage(['analyze', DEAD, ...args, '-o', '/dev/full'], 'keepalive: -o /dev/full: cannot write: no space left on the device');
      }
    }
  });
  it('a streamed report of a file that is no capture leaves no output file behind', () => {
    const junk = put('junk.pcap', Buffer.from('not a capture at all'));
    for (const format of ['csv', 'jsonl']) {
      const out = join(dir, `junk.${format}`);
      expectUsage(['analyze', junk, '--format', format, '-o', out], `keepalive: ${junk}: byte 0: not a pcap or pcapng capture (starts with 6e 6f 74 20)`);
      expect(existsSync(out)).toBe(false);
    }
  });
});

describe('--help', () => {
  it('lists every command, each with examples, and the exit statuses', () => {
    const r = runCli(['--help']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^ {2}keepalive analyze <files\.\.>/m);
    expect(r.stdout).toMatch(/^ {2}keepalive check <files\.\.>/m);
    expect(r.stdout).toMatch(/analyze examples:\n {2}keepalive analyze /);
    expect(r.stdout).toMatch(/check examples:\n {2}keepalive check .*--expect-idle/);
    expect(r.stdout).toContain('Exit status: 0 ok; 1 a check failed');
  });
  it.each([
    ['analyze', ['--format', '--output', '--port', '--host', '--color']],
    ['check', ['--expect-idle', '--expect-interval', '--expect-count', '--tolerance', '--side', '--strict', '--junit', '--format', '--output', '--port', '--host']],
  ])('%s --help lists its flags and examples', (command, flags) => {
    const r = runCli([command, '--help']);
    expect(r.status).toBe(0);
    for (const f of flags) expect(r.stdout).toContain(f);
    expect(r.stdout).toMatch(new RegExp(`Examples:\\n {2}(tcpdump .*\\| )?keepalive ${command} `));
  });
  it('--version', () => {
    const r = runCli(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(fixture('../package.json'), 'utf8')).version);
  });
});
