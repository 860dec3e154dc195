// The command-line grammar (src/cli/args.ts): the forms of flags users type, and the one-line
// mistakes. The commands' own checks (durations, ports) are in cli-errors.test.ts.
import { describe, expect, it } from 'vitest';
import { closest, commandHelp, parseCommand, type CommandSpec } from '../src/cli/args.js';
import { UsageError } from '../src/cli/errors.js';

const spec: CommandSpec = {
  name: 'demo',
  usage: 'demo <files..>',
  describe: 'a command for the parser tests',
  positionals: [{ name: 'files', variadic: true, describe: 'inputs' }],
  options: [
    { name: 'format', alias: 'F', type: 'string', choices: ['text', 'csv'], default: 'text', describe: 'report format' },
    { name: 'output', alias: 'o', type: 'string', describe: 'write here' },
    { name: 'strict', alias: 's', type: 'boolean', default: false, describe: 'be strict' },
    { name: 'verbose', alias: 'v', type: 'boolean', describe: 'say more' },
    { name: 'isolate', type: 'boolean', default: true, describe: 'in a namespace' },
    { name: 'expect-idle', type: 'string', describe: 'a duration' },
  ],
};

const parse = (...argv: string[]) => parseCommand(spec, argv).values;
const refuse = (argv: string[], message: string | RegExp) => expect(() => parseCommand(spec, argv)).toThrow(message instanceof RegExp ? message : new UsageError(message).message);

describe('command-line flags', () => {
  it('takes every form of a value', () => {
    expect(parse('a.pcap', '--format', 'csv').format).toBe('csv');
    expect(parse('a.pcap', '--format=csv').format).toBe('csv');
    expect(parse('-F', 'csv', 'a.pcap').format).toBe('csv');
    expect(parse('-F=csv', 'a.pcap').format).toBe('csv');
    expect(parse('-Fcsv', 'a.pcap').format).toBe('csv');
    expect(parse('a.pcap', '-o', 'out.csv').output).toBe('out.csv');
    expect(parse('a.pcap', '--output=x=y').output).toBe('x=y');
    // A value may begin with a dash when no letter follows it (a negative duration is refused later, by name).
    expect(parse('a.pcap', '--expect-idle', '-5s')['expect-idle']).toBe('-5s');
    expect(parse('a.pcap', '-o', '-').output).toBe('-');
  });

  it('booleans: set, grouped, negated, spelled out; defaults otherwise', () => {
    expect(parse('a.pcap')).toMatchObject({ format: 'text', strict: false, isolate: true });
    expect(parse('a.pcap').verbose).toBeUndefined();
    expect(parse('a.pcap', '--strict').strict).toBe(true);
    expect(parse('-sv', 'a.pcap')).toMatchObject({ strict: true, verbose: true });
    expect(parse('a.pcap', '--no-isolate').isolate).toBe(false);
    expect(parse('a.pcap', '--strict=false').strict).toBe(false);
    expect(parse('a.pcap', '-svo', 'x')).toMatchObject({ strict: true, verbose: true, output: 'x' });
  });

  it('positionals in order, - for standard input, and everything after -- as positionals', () => {
    expect(parse('a.pcap', '--strict', 'b.pcap', '-').files).toEqual(['a.pcap', 'b.pcap', '-']);
    expect(parse('--', '--strict', '-x').files).toEqual(['--strict', '-x']);
    expect(parse().files).toEqual([]);
  });

  it('the last of a repeated flag wins', () => {
    expect(parse('a.pcap', '-F', 'csv', '--format', 'text').format).toBe('text');
  });

  it('one line for each mistake, naming the flag', () => {
    refuse(['a.pcap', '--frobnicate'], 'Unknown argument: frobnicate');
    refuse(['a.pcap', '--frob', '-q'], 'Unknown arguments: frob, q');
    refuse(['a.pcap', '--format', 'pdf'], "--format: 'pdf' is not one of text, csv");
    refuse(['a.pcap', '--output'], '--output needs a value');
    refuse(['a.pcap', '-o', '--strict'], '-o needs a value');
    refuse(['a.pcap', '--strict=maybe'], "--strict: 'maybe' is not true or false");
    refuse(['a.pcap', '--no-format'], 'Unknown argument: no-format');
  });

  it('a command without a variadic positional refuses extra words', () => {
    const single: CommandSpec = { ...spec, positionals: [{ name: 'name', describe: 'one' }] };
    expect(parseCommand(single, ['x']).values.name).toBe('x');
    expect(parseCommand(single, []).values.name).toBeUndefined();
    expect(() => parseCommand(single, ['x', 'y', 'z'])).toThrow('Unknown arguments: y, z');
  });

  it('--help anywhere asks for help, and required flags are not demanded then', () => {
    const needs: CommandSpec = { ...spec, options: [...spec.options, { name: 'scenario', type: 'string', choices: ['a', 'b'], required: true, describe: 'which' }] };
    expect(parseCommand(needs, ['--help']).help).toBe(true);
    expect(() => parseCommand(needs, [])).toThrow('--scenario is required (a, b)');
    const help = commandHelp(needs, 100);
    expect(help).toMatch(/^keepalive demo <files\.\.>\n\na command for the parser tests\n/);
    expect(help).toMatch(/^ {2}-F, --format +report format \[text\|csv\] \[default: text\]$/m);
    expect(help).toMatch(/^ {6}--scenario +which \[a\|b\] \[required\]$/m);
  });

  it('passes a command line through untouched after -- when the command takes one', () => {
    const run: CommandSpec = { ...spec, passThrough: true };
    const p = parseCommand(run, ['--strict', '--', 'python3', '-u', '--format', 'x', '--', 'y']);
    expect(p.rest).toEqual(['python3', '-u', '--format', 'x', '--', 'y']);
    expect(p.values.format).toBe('text');
  });

  it('suggests the command meant by a slip of the keyboard, and nothing for a stranger', () => {
    const names = ['analyze', 'check', 'live', 'record', 'demo', 'run'];
    expect(closest('analyse', names)).toBe('analyze');
    expect(closest('chek', names)).toBe('check');
    expect(closest('frobnicate', names)).toBeUndefined();
  });
});
