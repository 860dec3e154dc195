"""Writes every byte value (64 times over, then a line without its newline) to standard output,
a line to standard error, and exits with the status given (default 0)."""
import sys

sys.stdout.buffer.write(bytes(range(256)) * 64 + b'\r\n\x1b[31mnot a colour\x00 and no newline')
sys.stdout.buffer.flush()
sys.stderr.write('emit_bytes: on standard error\n')
sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
