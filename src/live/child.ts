/**
 * The capture child: `ip netns exec NS node dist/live/child.js '{"iface":…}'` captures in that
 * namespace and streams frames to its parent (src/live/wire.ts). It stops when its standard
 * input closes (the parent is done, or gone), reports the kernel's drop count and exits.
 */
import { writeSync } from 'node:fs';
import { LiveError } from './cap.js';
import { listDevices, openCapSource, type FrameSource } from './source.js';
import { encodeJson, FrameEncoder, MSG_DEVICES, MSG_ERROR, MSG_READY, MSG_STATS } from './wire.js';

const STDOUT = 1;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocking write: a parent that reads slowly holds the capture up, and the kernel counts what the ring then drops. */
function writeAll(bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) {
    try {
      done += writeSync(STDOUT, bytes, done, bytes.length - done);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code !== 'EAGAIN') throw err;
      Atomics.wait(sleeper, 0, 0, 1);
    }
  }
}

function main(): void {
  // The parent owns Ctrl-C: it closes our standard input when it wants us to stop.
  process.on('SIGINT', () => {});
  const args = JSON.parse(process.argv[2] ?? '{}') as { iface: string; filter: string; bufferSize: number; capModule?: string; list?: boolean };
  if (args.list === true) {
    try {
      writeAll(encodeJson(MSG_DEVICES, listDevices(args.capModule)));
    } catch (err) {
      const e = err instanceof LiveError ? err : new LiveError('capture', String((err as Error)?.message ?? err));
      writeAll(encodeJson(MSG_ERROR, { kind: e.kind, message: e.message }));
      process.exitCode = 1;
    }
    return;
  }
  const encoder = new FrameEncoder();
  let flushQueued = false;
  const flush = (): void => {
    flushQueued = false;
    if (encoder.pending > 0) writeAll(encoder.take());
  };
  let source: FrameSource;
  try {
    source = openCapSource(args, (f) => {
      encoder.frame(f.data, f.offset, f.capLen, f.tsSec, f.tsNsec);
      // cap hands over a burst in one callback loop: write once per burst, or per MiB.
      if (encoder.pending >= 1 << 20) flush();
      else if (!flushQueued) {
        flushQueued = true;
        setImmediate(flush);
      }
    });
  } catch (err) {
    const e = err instanceof LiveError ? err : new LiveError('capture', String((err as Error)?.message ?? err));
    writeAll(encodeJson(MSG_ERROR, { kind: e.kind, message: e.message }));
    process.exitCode = 1;
    return;
  }
  writeAll(encodeJson(MSG_READY, { iface: source.iface, linkType: source.linkType }));
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void source.stop().then((stats) => {
      flush();
      writeAll(encodeJson(MSG_STATS, stats));
      process.exit(0);
    });
  };
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
  process.on('SIGTERM', stop);
}

main();
