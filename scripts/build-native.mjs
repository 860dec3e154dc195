#!/usr/bin/env node
/**
 * Builds the C++ connection table (native/table.cc → build/Release/keepalive_table.node) with
 * npm's own node-gyp, against the headers of the Node.js that runs this script (no download).
 * `npm ci` runs it (the install script), and so does `npm run build`: `make` then rebuilds
 * only when the source changed.
 *
 *   node scripts/build-native.mjs [--strict]
 *
 * Without a C++ compiler the build fails; then every analysis uses the JavaScript table
 * (src/analysis/flows.ts), with the same output, more slowly. That is said once on standard
 * error, and the exit status is 0, unless --strict is given.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const strict = process.argv.includes('--strict');

/** node-gyp: npm's (in an npm script npm names it), else the one beside this Node's npm. */
function nodeGyp() {
  const candidates = [process.env.npm_config_node_gyp, join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')];
  return candidates.find((p) => p !== undefined && existsSync(p)) ?? null;
}

function fail(why) {
  process.stderr.write(`keepalive: the C++ connection table was not built (${why}); analyses use the JavaScript table instead, with the same output, more slowly\n`);
  process.exit(strict ? 1 : 0);
}

const gyp = nodeGyp();
if (gyp === null) fail('node-gyp not found');
// Configured anew when binding.gyp changed since (a source added, say), else `make` alone.
const makefile = join(root, 'build', 'Makefile');
const configured = existsSync(makefile) && statSync(makefile).mtimeMs >= statSync(join(root, 'binding.gyp')).mtimeMs;
const args = [gyp, configured ? 'build' : 'rebuild'];
// This Node's own headers, as npm passes them to the addons it builds (nothing is downloaded).
const prefix = join(dirname(process.execPath), '..');
if (process.env.npm_config_nodedir === undefined && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
const r = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
if (r.status !== 0) {
  process.stderr.write(r.stdout.split('\n').filter((l) => !l.startsWith('gyp info')).join('\n'));
  process.stderr.write(r.stderr.split('\n').filter((l) => !l.startsWith('gyp info')).join('\n'));
  fail(`node-gyp ${args[1]} exited with status ${r.status ?? r.signal}`);
}
