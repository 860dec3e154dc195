/** Why a recording could not be made; every kind is exit status 2 on the command line. */
export type RecordErrorKind = 'not-root' | 'missing-tool' | 'setup' | 'peer' | 'usage';

export class RecordError extends Error {
  override name = 'RecordError';
  constructor(
    readonly kind: RecordErrorKind,
    message: string,
  ) {
    super(message);
  }
}
