/** Where reports go: standard output, or a file that is never one of the input captures. */
import { accessSync, closeSync, constants, existsSync, openSync, realpathSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { once } from 'node:events';
import { UsageError } from './errors.js';

function samePath(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

/** Refuse outputs that would overwrite an input capture, or each other. */
export function guardOutputs(inputs: readonly string[], outputs: readonly { flag: string; path: string | undefined }[]): void {
  const given = outputs.filter((o): o is { flag: string; path: string } => o.path !== undefined);
  for (const o of given) {
    if (o.path === '') throw new UsageError(`${o.flag}: name a file to write`);
    if (existsSync(o.path) && inputs.some((f) => f !== '-' && samePath(f, o.path))) {
      throw new UsageError(`${o.flag} ${o.path}: refusing to overwrite an input capture`);
    }
  }
  for (let i = 0; i < given.length; i++) {
    for (let k = i + 1; k < given.length; k++) {
      if (given[i]!.path === given[k]!.path || samePath(given[i]!.path, given[k]!.path)) {
        throw new UsageError(`${given[i]!.flag} and ${given[k]!.flag} name the same file ${given[k]!.path}`);
      }
    }
  }
}

function cannotWrite(flag: string, path: string, err: unknown): UsageError {
  return new UsageError(`${flag} ${path}: cannot write: ${whyNotWritten(err)}`);
}

/** Why a write failed, in words: "no space left on the device". */
function whyNotWritten(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return (
    e.code === 'ENOENT' ? 'no such directory'
    : e.code === 'EISDIR' ? 'is a directory'
    : e.code === 'EACCES' ? 'permission denied'
    : e.code === 'ENOSPC' ? 'no space left on the device'
    : e.code === 'EDQUOT' ? 'disk quota exceeded'
    : e.message
  );
}

/**
 * Standard output's write (false: wait for 'drain'). Redirected to a file it writes at once and
 * throws what fails (a full disk): one line, as for -o. A closed pipe is main.ts's to handle.
 */
function toStdout(text: string | Uint8Array): boolean {
  try {
    return process.stdout.write(text);
  } catch (err) {
    throw stdoutFailed(err);
  }
}

function stdoutFailed(err: unknown): UsageError {
  return new UsageError(`standard output: cannot write: ${whyNotWritten(err)}`);
}

/** Write a whole report to a file, or to standard output when no file is named. */
export function emit(flag: string, path: string | undefined, text: string): void {
  if (path === undefined) {
    toStdout(text);
    return;
  }
  try {
    writeFileSync(path, text);
  } catch (err) {
    throw cannotWrite(flag, path, err);
  }
}

/**
 * A report written piece by piece as it is made (streamed formats): to a file, created at the
 * first write (an input that cannot be read at all leaves no file behind), or to standard
 * output through its stream, which waits for a full pipe (a raw write to a non-blocking pipe
 * may take only part of the text).
 */
export class StreamOutput {
  private fd: number | null = null;

  constructor(
    private readonly flag: string,
    private readonly path: string | undefined,
  ) {
    // Say at once what would stop the first write, rather than after reading a long capture.
    if (path === undefined) return;
    try {
      if (existsSync(path) && statSync(path).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      accessSync(dirname(resolve(path)), constants.W_OK);
    } catch (err) {
      throw cannotWrite(flag, path, err);
    }
  }

  async write(text: string | Uint8Array): Promise<void> {
    if (this.path === undefined) {
      if (!toStdout(text)) {
        try {
          await once(process.stdout, 'drain');
        } catch (err) {
          throw stdoutFailed(err);
        }
      }
      return;
    }
    if (this.fd === null) {
      try {
        this.fd = openSync(this.path, 'w');
      } catch (err) {
        throw cannotWrite(this.flag, this.path, err);
      }
    }
    const bytes = typeof text === 'string' ? Buffer.from(text) : text;
    try {
      for (let at = 0; at < bytes.length; ) at += writeSync(this.fd, bytes, at);
    } catch (err) {
      // A full disk, say: one line naming the file, not an internal error.
      throw cannotWrite(this.flag, this.path, err);
    }
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
