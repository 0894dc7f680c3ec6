/** An error whose message is written for the person using the page (no stack traces, no secrets). */
export class UserFacingError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'UserFacingError';
  }
}

/** Turns getUserMedia's DOMExceptions into what the person should do about them. */
export function micError(err: unknown): UserFacingError {
  const name = (err as { name?: string })?.name;
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return new UserFacingError(
        'mic_denied',
        'Microphone access was denied. Allow the microphone for this site in the browser, or start without it and type instead.',
      );
    case 'NotFoundError':
    case 'OverconstrainedError':
      return new UserFacingError(
        'mic_missing',
        'No microphone was found. Connect one, or start without it and type instead.',
      );
    case 'NotReadableError':
    case 'AbortError':
      return new UserFacingError('mic_busy', 'The microphone is in use by another program or could not be opened.');
    default:
      return new UserFacingError('mic_failed', `The microphone could not be opened (${name ?? 'unknown error'}).`);
  }
}

export function describe(err: unknown): string {
  if (err instanceof UserFacingError) return err.message;
  if (err instanceof Error && err.message) return `Something went wrong: ${err.message}`;
  return 'Something went wrong.';
}
