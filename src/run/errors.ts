/**
 * Why `keepalive run` could not run the command. `not-found` and `not-executable` are exit
 * statuses 127 and 126 on the command line (as a shell, env or timeout give them); every other
 * kind is exit status 2.
 */
export type RunErrorKind = 'usage' | 'not-root' | 'missing-tool' | 'setup' | 'not-found' | 'not-executable';

export class RunError extends Error {
  override name = 'RunError';
  constructor(
    readonly kind: RunErrorKind,
    message: string,
  ) {
    super(message);
  }
}
