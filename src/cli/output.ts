/** Where reports go: standard output, or a file that is never one of the input captures. */
import { existsSync, realpathSync, writeFileSync } from 'node:fs';
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

/** Write a whole report to a file, or to standard output when no file is named. */
export function emit(flag: string, path: string | undefined, text: string): void {
  if (path === undefined) {
    process.stdout.write(text);
    return;
  }
  try {
    writeFileSync(path, text);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such directory' : e.code === 'EISDIR' ? 'is a directory' : e.code === 'EACCES' ? 'permission denied' : e.message;
    throw new UsageError(`${flag} ${path}: cannot write: ${why}`);
  }
}
