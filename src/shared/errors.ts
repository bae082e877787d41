/**
 * A refusal or failure with a stable type, as problem+json will show it.
 * `type` is the last segment of `urn:schulbruecke:problem:<type>`; titles come
 * from the problem catalogue in `src/http/problems.ts`, German first.
 */
export class ProblemError extends Error {
  readonly status: number;
  readonly type: string;
  readonly detail: string | undefined;
  readonly ruleIds: string[];
  readonly extra: Record<string, unknown>;

  constructor(
    status: number,
    type: string,
    detail?: string,
    options: { ruleIds?: string[]; extra?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(detail ?? type, { cause: options.cause });
    this.name = 'ProblemError';
    this.status = status;
    this.type = type;
    this.detail = detail;
    this.ruleIds = options.ruleIds ?? [];
    this.extra = options.extra ?? {};
  }
}

export const notFound = (detail?: string) => new ProblemError(404, 'not-found', detail);
export const forbidden = (detail?: string, ruleIds?: string[]) => new ProblemError(403, 'forbidden', detail, { ruleIds });
export const conflict = (detail?: string) => new ProblemError(409, 'conflict', detail);
export const badRequest = (detail?: string) => new ProblemError(400, 'bad-request', detail);
