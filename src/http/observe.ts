import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/index.js';
import type { Metrics } from '../ops/metrics.js';
import { anonymiseIp } from '../shared/ip.js';

const REQUEST_ID = /^[A-Za-z0-9._-]{8,128}$/;

/**
 * Request id, JSON request log, access log (RET-02) and metrics, written when
 * the answer is finished. Route templates, never paths with ids; no bodies; the
 * IP is anonymised before anything sees it.
 */
export function observe(logger: Logger, audit: AuditLog, metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const incoming = req.headers['x-request-id'];
    const requestId = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    res.on('finish', () => {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      const route = (res.locals.routeTemplate as string | undefined) ?? (req.route ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched');
      const ipAnon = anonymiseIp(req.ip);
      const tenantId = (res.locals.tenantId as string | undefined) ?? null;
      metrics.httpDuration.observe({ method: req.method, route, status: String(res.statusCode) }, durationMs / 1000);
      if (route !== '/healthz' && route !== '/metrics') {
        audit.access({ requestId, method: req.method, route, status: res.statusCode, durationMs, ipAnon, tenantId });
      }
      logger.info({ requestId, method: req.method, route, status: res.statusCode, ms: Math.round(durationMs * 10) / 10, ip: ipAnon }, 'request');
    });
    next();
  };
}
