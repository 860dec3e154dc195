/** A usage mistake or an output that cannot be written: exit 2 with one line. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Exit statuses (docs/cli.md): the same for every command. */
export const EXIT_OK = 0;
export const EXIT_CHECK_FAILED = 1;
export const EXIT_USAGE = 2;
