import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { isUnavailable } from '../db/index.js';
import { ProblemError } from '../shared/errors.js';
import { validationProblem } from './api.js';
import { requestLocale } from './locale.js';
import { PROBLEM_BASE, problemTitle } from './problems.js';

/** Writes an RFC 9457 problem; never a stack trace. */
export function sendProblem(req: Request, res: Response, problem: ProblemError): void {
  const locale = requestLocale(req);
  res
    .status(problem.status)
    .type('application/problem+json')
    .json({
      type: `${PROBLEM_BASE}${problem.type}`,
      title: problemTitle(problem.type, locale),
      status: problem.status,
      ...(problem.detail ? { detail: problem.detail } : {}),
      ...(problem.ruleIds.length ? { ruleIds: problem.ruleIds } : {}),
      ...(res.locals.requestId ? { instance: `urn:request:${res.locals.requestId}` } : {}),
      ...problem.extra,
    });
}

/** Maps whatever was thrown to a problem; unknown errors are logged (without bodies) and become 500. */
export function toProblem(error: unknown, logger: Logger, requestId?: string): ProblemError {
  if (error instanceof ProblemError) return error;
  if (error instanceof z.ZodError) return validationProblem(error, 'body');
  const e = error as { type?: string; status?: number; statusCode?: number };
  if (e?.type === 'entity.parse.failed') return new ProblemError(400, 'malformed-json', 'Der Inhalt ist kein gültiges JSON.');
  if (e?.type === 'entity.too.large') return new ProblemError(413, 'payload-too-large', 'Höchstens 1 MiB pro Anfrage.');
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') return new ProblemError(415, 'unsupported-media-type', 'Bitte UTF-8-kodiertes JSON senden.');
  if (isUnavailable(error)) {
    logger.error({ requestId, err: { code: (error as { code?: string }).code } }, 'database unavailable');
    return new ProblemError(503, 'database-unavailable', 'Bitte später noch einmal versuchen.');
  }
  // Name, code and stack only: a database error's `detail` can quote row values (personal data).
  const e2 = error as { name?: string; code?: string; stack?: string };
  logger.error({ requestId, err: { name: e2?.name, code: e2?.code, stack: e2?.stack } }, 'unhandled error');
  return new ProblemError(500, 'internal', 'Ein unerwarteter Fehler ist aufgetreten. Die Anfrage-Kennung hilft dem Betrieb bei der Suche.');
}

export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (res.headersSent) return next(error);
    sendProblem(req, res, toProblem(error, logger, res.locals.requestId as string | undefined));
  };
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new ProblemError(404, 'not-found', `Keine Ressource unter ${req.method} ${req.path}.`));
};

/** Bodies must be JSON: anything else with content is refused before parsing. */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (hasBody && ['POST', 'PUT', 'PATCH'].includes(req.method) && !req.is(['application/json', 'application/*+json'])) {
    return next(new ProblemError(415, 'unsupported-media-type', 'Bitte den Inhalt als application/json senden.'));
  }
  next();
};
