import type { ZodError } from 'zod';

/** An error that maps to a JSON HTTP response with a stable machine-readable `code`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export const errorBody = (code: string, message: string, details?: unknown): ErrorBody => ({
  error: details === undefined ? { code, message } : { code, message, details },
});

export const badRequest = (message: string, details?: unknown) => new HttpError(400, 'bad_request', message, details);
export const notFound = (what: string) => new HttpError(404, 'not_found', `${what} not found`);

/** Turns zod issues into a 400 that names each offending field. */
export function validationError(err: ZodError, where = 'body'): HttpError {
  const issues = err.issues.map((i) => ({
    field: [where, ...i.path.map(String)].join('.'),
    problem: i.message,
  }));
  const first = issues[0];
  return new HttpError(
    400,
    'validation_failed',
    first ? `${first.field}: ${first.problem}` : `invalid ${where}`,
    issues,
  );
}
