/**
 * The command line's parser and help, declared per command (no dependency: loading yargs took
 * longer than analysing a small capture). Flags: `--name value`, `--name=value`, `-x value`,
 * `-x=value`, `-xVALUE` for a flag that takes a value, `-abc` for boolean flags, `--no-name` for a
 * boolean; `--` ends the flags (a command's own arguments follow it for `keepalive run`).
 * Every mistake is a UsageError of one line naming the flag.
 */
import { UsageError } from './errors.js';

export interface OptionSpec {
  /** Long name without dashes; the parsed value is found under it. */
  name: string;
  /** One-letter short form. */
  alias?: string;
  type: 'string' | 'boolean';
  describe: string;
  choices?: readonly string[];
  default?: string | boolean;
  /** The command cannot run without it. */
  required?: boolean;
}

export interface PositionalSpec {
  name: string;
  describe: string;
  /** Takes every remaining argument (`<files..>`). */
  variadic?: boolean;
}

export interface CommandSpec {
  /** The command word. */
  name: string;
  /** How help writes the command line, after `keepalive ` ("analyze <files..>"). */
  usage: string;
  describe: string;
  positionals?: readonly PositionalSpec[];
  options: readonly OptionSpec[];
  /** Text after the option table (examples, exit statuses). */
  epilogue?: string;
  /** The arguments after the first `--` are kept as they are, in `rest` (keepalive run -- CMD). */
  passThrough?: boolean;
}

/** A command as main runs it: its flags, and what it does with them (its exit status). */
export interface CliCommand {
  spec: CommandSpec;
  run(parsed: Parsed): Promise<number>;
}

/** Parsed flags under their long names, positionals under theirs; `rest`: what followed `--`. */
export interface Parsed {
  values: Record<string, unknown>;
  rest: string[];
  help: boolean;
}

/** A short flag is a dash and a letter: "-5s" is a value ("--expect-idle -5s" is then refused as a duration). */
function isFlag(token: string): boolean {
  return token.startsWith('--') ? token.length > 2 : /^-[A-Za-z]/.test(token);
}

function booleanValue(flag: string, text: string): boolean {
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw new UsageError(`${flag}: '${text}' is not true or false`);
}

export function parseCommand(spec: CommandSpec, argv: readonly string[]): Parsed {
  const byName = new Map<string, OptionSpec>();
  const byAlias = new Map<string, OptionSpec>();
  for (const o of spec.options) {
    byName.set(o.name, o);
    if (o.alias !== undefined) byAlias.set(o.alias, o);
  }
  const values: Record<string, unknown> = {};
  const positionals: string[] = [];
  const unknown: string[] = [];
  let rest: string[] = [];
  let help = false;

  const set = (o: OptionSpec, flag: string, inline: string | undefined, i: number): number => {
    if (o.type === 'boolean') {
      values[o.name] = inline === undefined ? true : booleanValue(flag, inline);
      return i;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || next === '--' || isFlag(next)) throw new UsageError(`${flag} needs a value`);
      value = next;
      i++;
    }
    if (o.choices !== undefined && !o.choices.includes(value)) {
      throw new UsageError(`${flag}: '${value}' is not one of ${o.choices.join(', ')}`);
    }
    values[o.name] = value;
    return i;
  };

  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') {
      if (spec.passThrough === true) rest = argv.slice(i + 1);
      else positionals.push(...argv.slice(i + 1));
      break;
    }
    if (token.startsWith('--')) {
      const eq = token.indexOf('=');
      const name = token.slice(2, eq < 0 ? undefined : eq);
      const inline = eq < 0 ? undefined : token.slice(eq + 1);
      if (name === 'help') {
        help = true;
        continue;
      }
      const o = byName.get(name);
      if (o !== undefined) {
        i = set(o, `--${name}`, inline, i);
        continue;
      }
      const negated = name.startsWith('no-') ? byName.get(name.slice(3)) : undefined;
      if (negated !== undefined && negated.type === 'boolean' && inline === undefined) {
        values[negated.name] = false;
        continue;
      }
      unknown.push(name);
      continue;
    }
    if (isFlag(token)) {
      // -x, -x=value, -xVALUE (x takes a value), -abc (booleans)
      for (let j = 1; j < token.length; j++) {
        const letter = token[j]!;
        const o = byAlias.get(letter);
        if (o === undefined) {
          if (letter === 'h' && token.length === 2) help = true;
          else unknown.push(letter);
          if (j === 1 && token.length > 2 && token[2] === '=') break;
          continue;
        }
        const after = token.slice(j + 1);
        if (o.type === 'string') {
          i = set(o, `-${letter}`, after === '' ? undefined : after.startsWith('=') ? after.slice(1) : after, i);
          break;
        }
        if (after.startsWith('=')) {
          set(o, `-${letter}`, after.slice(1), i);
          break;
        }
        values[o.name] = true;
      }
      continue;
    }
    positionals.push(token);
  }

  if (unknown.length > 0) throw new UsageError(`Unknown argument${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`);
  const slots = spec.positionals ?? [];
  let p = 0;
  for (const slot of slots) {
    if (slot.variadic === true) {
      values[slot.name] = positionals.slice(p);
      p = positionals.length;
    } else if (p < positionals.length) values[slot.name] = positionals[p++];
  }
  if (p < positionals.length) throw new UsageError(`Unknown argument${positionals.length - p > 1 ? 's' : ''}: ${positionals.slice(p).join(', ')}`);
  for (const o of spec.options) if (values[o.name] === undefined && o.default !== undefined) values[o.name] = o.default;
  if (!help) {
    const missing = spec.options.find((o) => o.required === true && values[o.name] === undefined);
    if (missing !== undefined) throw new UsageError(`--${missing.name} is required${missing.choices !== undefined ? ` (${missing.choices.join(', ')})` : ''}`);
  }
  return { values, rest, help };
}

/** Lines of `text` no longer than `width` (words kept whole). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** Two columns: the left padded to its widest entry, the right wrapped to the terminal. */
function table(rows: readonly (readonly [string, string])[], width: number): string {
  const left = Math.max(...rows.map(([l]) => l.length));
  const right = Math.max(30, width - left - 4);
  return rows
    .map(([l, r]) => {
      const lines = wrap(r, right);
      return lines.map((text, i) => `  ${(i === 0 ? l : '').padEnd(left)}  ${text}`.trimEnd()).join('\n');
    })
    .join('\n');
}

function optionRow(o: OptionSpec): [string, string] {
  const names = o.alias !== undefined ? `-${o.alias}, --${o.name}` : `    --${o.name}`;
  const extra: string[] = [];
  if (o.choices !== undefined) extra.push(`[${o.choices.join('|')}]`);
  if (o.default !== undefined && o.default !== false) extra.push(`[default: ${String(o.default)}]`);
  if (o.required === true) extra.push('[required]');
  return [names, [o.describe, ...extra].join(' ')];
}

/** Terminal width for help, as yargs used: at most 110 columns. */
export function helpWidth(): number {
  return Math.min(110, process.stdout.columns ?? 100);
}

export function commandHelp(spec: CommandSpec, width = helpWidth()): string {
  const parts = [`keepalive ${spec.usage}`, spec.describe];
  const positionals = spec.positionals ?? [];
  if (positionals.length > 0) parts.push(`Positionals:\n${table(positionals.map((p) => [p.name, p.describe]), width)}`);
  parts.push(`Options:\n${table([...spec.options.map(optionRow), ['    --help', 'show this help']], width)}`);
  if (spec.epilogue !== undefined) parts.push(spec.epilogue);
  return `${parts.join('\n\n')}\n`;
}

export function mainHelp(summary: string, commands: readonly { usage: string; describe: string }[], epilogue: string, width = helpWidth()): string {
  return `keepalive <command> [options]

${summary}

Commands:
${table(commands.map((c) => [`keepalive ${c.usage}`, c.describe]), width)}

Options:
${table([['    --help', 'show this help'], ['    --version', 'show the version number']], width)}

${epilogue}
`;
}

/** Edit distance, for "Did you mean …?". */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = row;
  }
  return prev[b.length]!;
}

/** The known word closest to `word`, when it is close enough to be a typing slip. */
export function closest(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of known) {
    const d = distance(word, k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}
