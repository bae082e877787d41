import type { Express } from 'express';
import type { AppContext } from '../context.js';
import { migrationsApplied } from '../db/migrations.js';
import { sendProblem } from '../http/errors.js';
import { ProblemError } from '../shared/errors.js';

export function registerOpsRoutes(app: Express, ctx: AppContext): void {
  /** The process is up. */
  app.get('/healthz', (_req, res) => {
    res.locals.routeTemplate = '/healthz';
    res.json({ status: 'ok' });
  });

  /** The database answers and every migration is applied. */
  app.get('/readyz', async (req, res) => {
    res.locals.routeTemplate = '/readyz';
    try {
      await ctx.database.ping();
      if (!(await migrationsApplied(ctx.db, ctx.database.lockNamespace))) {
        return sendProblem(req, res, new ProblemError(503, 'not-ready', 'Datenbankmigrationen stehen noch aus.'));
      }
      res.json({ status: 'ready', database: ctx.database.kind });
    } catch {
      sendProblem(req, res, new ProblemError(503, 'database-unavailable', 'Die Datenbank ist nicht erreichbar.'));
    }
  });

  app.get('/metrics', async (_req, res) => {
    res.locals.routeTemplate = '/metrics';
    res.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });
}
