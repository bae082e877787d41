import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Principal, Scope } from '../auth/principal.js';
import { ProblemError } from '../shared/errors.js';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** Who may call a route. Tenant-scoped routes (with `{slug}`) also require the token's own tenant (ACC-04). */
export type Access = 'public' | { operator?: boolean; scopes?: readonly Scope[] };

export interface TenantRef {
  id: string;
  slug: string;
}

export interface HandlerInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  principal: Principal;
  /** Set for routes under `/tenants/{slug}`: the caller may act on it. */
  tenant: TenantRef;
  req: Request;
  res: Response;
}

export interface RouteSpec<P, Q, B> {
  method: Method;
  /** OpenAPI style: `/tenants/{slug}/tokens/{id}`. */
  path: string;
  summary: string;
  tag: string;
  access: Access;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  /** Status of a successful answer; 204 sends no body. */
  status?: 200 | 201 | 202 | 204;
  response?: z.ZodType;
  /** Resolve `{slug}` to soft-deleted tenants too (restore). */
  includeDeletedTenant?: boolean;
  /** Further documented statuses besides the standard problem answers. */
  errors?: number[];
  handler(input: HandlerInput<P, Q, B>): Promise<unknown> | unknown;
}

export interface ApiDeps {
  /** Verified caller from the Authorization header, or null (→ 401). */
  authenticate(req: Request): Promise<Principal | null>;
  /** Resolves a live tenant by slug, or null (→ 404). */
  findTenant(slug: string, includeDeleted: boolean): Promise<TenantRef | null>;
}

/**
 * Routes declared once: the same zod schemas validate the request and
 * describe it in the OpenAPI document.
 */
export class Api {
  readonly router = Router();
  readonly specs: RouteSpec<unknown, unknown, unknown>[] = [];

  constructor(private readonly deps: ApiDeps) {}

  route<P = Record<string, never>, Q = Record<string, never>, B = undefined>(spec: RouteSpec<P, Q, B>): void {
    this.specs.push(spec as RouteSpec<unknown, unknown, unknown>);
    const expressPath = spec.path.replace(/\{(\w+)\}/g, ':$1');
    this.router[spec.method](expressPath, async (req: Request, res: Response) => {
      res.locals.routeTemplate = `${req.baseUrl.replace(/\/+$/, '')}${spec.path}`;
      const principal = spec.access === 'public' ? null : await this.authorize(req, spec.access);
      const params = parse(spec.params, req.params, 'path');
      const query = parse(spec.query, req.query, 'query');
      const body = parse(spec.body, req.body, 'body');
      let tenant: TenantRef | undefined;
      if (typeof req.params.slug === 'string' && principal) {
        tenant = await this.tenantFor(principal, req.params.slug, spec.includeDeletedTenant ?? false);
        res.locals.tenantId = tenant.id;
      } else if (principal?.kind === 'token') {
        res.locals.tenantId = principal.tenantId;
      }
      const result = await spec.handler({
        params: params as P,
        query: query as Q,
        body: body as B,
        principal: principal as Principal,
        tenant: tenant as TenantRef,
        req,
        res,
      });
      if (res.headersSent) return;
      const status = spec.status ?? 200;
      if (status === 204) res.status(204).end();
      else res.status(status).json(result);
    });
  }

  private async authorize(req: Request, access: Exclude<Access, 'public'>): Promise<Principal> {
    const principal = await this.deps.authenticate(req);
    if (!principal) {
      throw new ProblemError(401, 'unauthenticated', 'Bitte ein gültiges Token im Authorization-Header senden (Bearer).');
    }
    if (principal.kind === 'operator') {
      if (access.operator) return principal;
      throw new ProblemError(403, 'forbidden', 'Diese Aktion ist nur mit einem Token der Schule möglich, nicht mit dem Betreiber-Token.');
    }
    if (!access.scopes?.some((s) => principal.scopes.includes(s))) {
      throw new ProblemError(403, 'forbidden', `Dieses Token hat nicht den nötigen Bereich (${access.scopes?.join(', ') ?? 'Betreiber'}).`, {
        extra: { requiredScopes: access.scopes ?? [] },
      });
    }
    return principal;
  }

  /** ACC-04: a tenant token sees only its own tenant; others look as if they did not exist. */
  private async tenantFor(principal: Principal, slug: string, includeDeleted: boolean): Promise<TenantRef> {
    const tenant = await this.deps.findTenant(slug, includeDeleted);
    if (!tenant || (principal.kind === 'token' && principal.tenantId !== tenant.id)) {
      throw new ProblemError(404, 'not-found', `Keine Schule mit der Kennung „${slug}“.`, { ruleIds: principal.kind === 'token' ? ['ACC-04'] : [] });
    }
    return tenant;
  }
}

function parse<T>(schema: z.ZodType<T> | undefined, value: unknown, where: 'path' | 'query' | 'body'): T | undefined {
  if (!schema) return undefined;
  const result = schema.safeParse(where === 'body' && value === undefined ? {} : value);
  if (result.success) return result.data;
  throw validationProblem(result.error, where);
}

export function validationProblem(error: z.ZodError, where: string): ProblemError {
  return new ProblemError(422, 'validation-failed', 'Bitte die markierten Felder prüfen.', {
    extra: {
      errors: error.issues.map((issue) => ({
        in: where,
        field: issue.path.join('.'),
        message: issue.message,
        code: issue.code,
      })),
    },
  });
}
