import express, { type Express, type Request, type Response } from 'express';
import { z } from 'zod';
import { listBackends } from '../src/backends/store.js';
import { insertRoom, ROOM_CATEGORIES } from '../src/conference/index.js';
import type { AppContext } from '../src/context.js';
import { requestLocale } from '../src/http/locale.js';
import { rolesInContext, TEACHING_ROLES } from '../src/identity/index.js';
import { csrfField, csrfMatches, loadSession, type Session } from '../src/session/index.js';
import { html, layout } from '../src/web/html.js';
import { setCspDirective } from '../src/http/headers.js';
import { errorPage, originOf } from './pages.js';
import type { Lti } from './provider.js';

interface DeepLinkingData {
  deploymentId: string;
  settings: { deep_link_return_url?: string; accept_types?: string[]; data?: string; title?: string };
}

const CATEGORY_LABELS: Record<(typeof ROOM_CATEGORIES)[number], string> = {
  lesson: 'Unterricht (Lehrkraft mit Klasse)',
  staff: 'Dienstbesprechung (Kollegium, Schulleitung)',
  sensitive: 'Vertrauliches Gespräch (z. B. Beratung, Einstellung)',
  peer: 'Austausch unter Lehramtsanwärter/innen',
};

const roomForm = z
  .object({
    csrf: z.string(),
    title: z.string().trim().min(1, 'Bitte einen Titel angeben.').max(200),
    backend: z.string().min(1, 'Bitte ein Konferenzsystem wählen.'),
    category: z.enum(ROOM_CATEGORIES, { message: 'Bitte eine Art der Besprechung wählen.' }),
    purpose: z.string().trim().max(500).optional(),
  })
  .refine((f) => !['staff', 'sensitive'].includes(f.category) || (f.purpose ?? '').length >= 3, {
    path: ['purpose'],
    message: 'Für Dienstbesprechungen und vertrauliche Gespräche bitte kurz den Zweck angeben (VC-09).',
  });

function deepLinkingOf(session: Session): DeepLinkingData | null {
  const dl = session.data.deepLinking as DeepLinkingData | undefined;
  return dl && typeof dl.settings?.deep_link_return_url === 'string' ? dl : null;
}

/** VC-03: only teaching roles create rooms; decided from the verified membership, not the request. */
async function mayCreateRooms(ctx: AppContext, session: Session): Promise<boolean> {
  if (!session.contextId) return false;
  const roles = await rolesInContext(ctx.db, session.tenantId, session.userId, session.contextId);
  return roles.some((r) => TEACHING_ROLES.includes(r));
}

type FormValues = Partial<z.infer<typeof roomForm>>;

async function renderForm(req: Request, res: Response, ctx: AppContext, session: Session, status: number, values: FormValues, errors: Record<string, string>) {
  const backends = await listBackends(ctx.db, session.tenantId);
  const locale = requestLocale(req);
  const fieldError = (name: string) => (errors[name] ? html`<p class="error" id="${name}-error" role="alert">${errors[name]}</p>` : '');
  const described = (name: string) => (errors[name] ? `${name}-error` : undefined);
  const body = html`<h1>Konferenzraum anlegen</h1>
<p>Der Raum wird als Aktivität in Ihren Kurs eingefügt. Teilnehmen können nur Mitglieder des Kurses (VC-01).</p>
<form method="post" action="/lti/deep-link" novalidate>
${csrfField(session)}
<p><label for="title">Titel</label><br>
<input id="title" name="title" required maxlength="200" value="${values.title ?? ''}" aria-describedby="${described('title')}"></p>
${fieldError('title')}
<p><label for="backend">Konferenzsystem</label><br>
<select id="backend" name="backend" required aria-describedby="${described('backend')}">
${backends.map((b) => html`<option value="${b.name}"${values.backend === b.name ? html` selected` : ''}>${b.name} (${b.kind === 'jitsi' ? 'Jitsi' : 'BigBlueButton'})</option>`)}
</select></p>
${fieldError('backend')}
<fieldset aria-describedby="${described('category')}"><legend>Art der Besprechung (VC-09)</legend>
${ROOM_CATEGORIES.map(
  (c) => html`<p><input type="radio" id="category-${c}" name="category" value="${c}"${(values.category ?? 'lesson') === c ? html` checked` : ''}>
<label for="category-${c}">${CATEGORY_LABELS[c]}</label></p>`,
)}
</fieldset>
${fieldError('category')}
<p><label for="purpose">Zweck (bei Dienstbesprechungen und vertraulichen Gesprächen erforderlich)</label><br>
<input id="purpose" name="purpose" maxlength="500" value="${values.purpose ?? ''}" aria-describedby="${described('purpose')}"></p>
${fieldError('purpose')}
<p><button type="submit">Raum anlegen und einfügen</button></p>
</form>`;
  res.status(status).type('html').send(layout({ title: 'Konferenzraum anlegen', locale, body }));
}

export function registerDeepLinkingPages(app: Express, ctx: AppContext, lti: Lti): void {
  const form = express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 20 });

  const guard = async (req: Request, res: Response): Promise<{ session: Session; dl: DeepLinkingData } | null> => {
    const session = await loadSession(ctx.db, ctx.clock, req);
    if (!session) {
      errorPage(req, res, 401, 'Ihre Sitzung ist abgelaufen. Bitte fügen Sie die Aktivität in der Lernplattform erneut hinzu.');
      return null;
    }
    const dl = deepLinkingOf(session);
    if (!dl) {
      errorPage(req, res, 400, 'Diese Seite ist nur beim Hinzufügen einer Aktivität aus der Lernplattform erreichbar.');
      return null;
    }
    const returnOrigin = originOf(dl.settings.deep_link_return_url!);
    if (returnOrigin) setCspDirective(res, 'frame-ancestors', returnOrigin);
    if (!(await mayCreateRooms(ctx, session))) {
      ctx.audit.activity({ tenantId: session.tenantId, actorId: session.userId, contextId: session.contextId, action: 'room.create', objectType: 'context', objectId: session.contextId ?? undefined, outcome: 'deny', ruleIds: ['VC-03'] });
      errorPage(req, res, 403, 'Nur Lehrkräfte können Konferenzräume anlegen (VC-03).', { ruleIds: ['VC-03'] });
      return null;
    }
    return { session, dl };
  };

  app.get('/lti/deep-link', async (req: Request, res: Response) => {
    res.locals.routeTemplate = '/lti/deep-link';
    const ok = await guard(req, res);
    if (!ok) return;
    await renderForm(req, res, ctx, ok.session, 200, { title: ok.dl.settings.title ?? '' }, {});
  });

  app.post('/lti/deep-link', form, async (req: Request, res: Response) => {
    res.locals.routeTemplate = '/lti/deep-link';
    const ok = await guard(req, res);
    if (!ok) return;
    const { session, dl } = ok;
    const raw = (req.body ?? {}) as Record<string, string>;
    if (!csrfMatches(session, raw)) {
      errorPage(req, res, 403, 'Das Formular ist abgelaufen. Bitte laden Sie die Seite neu.');
      return;
    }
    const parsed = roomForm.safeParse({ ...raw, purpose: raw.purpose || undefined });
    const errors: Record<string, string> = {};
    if (!parsed.success) for (const issue of parsed.error.issues) errors[String(issue.path[0])] ??= issue.message;
    const backends = await listBackends(ctx.db, session.tenantId);
    if (parsed.success && !backends.some((b) => b.name === parsed.data.backend)) errors.backend = 'Dieses Konferzsystem gibt es an Ihrer Schule nicht.';
    if (!parsed.success || Object.keys(errors).length > 0) {
      await renderForm(req, res, ctx, session, 422, raw as FormValues, errors);
      return;
    }
    const room = await insertRoom(ctx.db, ctx.clock, {
      tenantId: session.tenantId,
      contextId: session.contextId!,
      title: parsed.data.title,
      category: parsed.data.category,
      backend: parsed.data.backend,
      purpose: parsed.data.purpose ?? null,
      createdBy: session.userId,
    });
    ctx.audit.activity({ tenantId: session.tenantId, actorId: session.userId, contextId: session.contextId, action: 'room.create', objectType: 'room', objectId: room.id, outcome: 'ok', ruleIds: ['VC-03', 'VC-09'] });

    const platform = await ctx.db.selectFrom('lti_platforms').select(['issuer', 'client_id']).where('id', '=', String(session.data.platformId)).where('tenant_id', '=', session.tenantId).executeTakeFirst();
    if (!platform) {
      errorPage(req, res, 404, 'Die Lernplattform ist nicht mehr registriert.');
      return;
    }
    // ltijs signs the LtiDeepLinkingResponse with the tool key it keeps for this platform.
    const jwt = await lti.provider.DeepLinking.createDeepLinkingMessage(
      { iss: platform.issuer, clientId: platform.client_id, deploymentId: dl.deploymentId, platformContext: { deepLinkingSettings: dl.settings } },
      [{ type: 'ltiResourceLink', title: room.title, custom: { room: room.id } }],
      { message: `Konferenzraum „${room.title}“ angelegt.` },
    );
    const returnUrl = dl.settings.deep_link_return_url!;
    setCspDirective(res, 'form-action', `'self' ${originOf(returnUrl) ?? ''}`.trim());
    const locale = requestLocale(req);
    const body = html`<h1>Raum angelegt</h1>
<p>Der Raum „${room.title}“ wird jetzt in Ihren Kurs eingefügt.</p>
<form method="post" action="${returnUrl}" id="lti-return" data-autosubmit="true">
<input type="hidden" name="JWT" value="${jwt}">
<p><button type="submit">Zurück zur Lernplattform</button></p>
</form>`;
    res.status(200).type('html').send(layout({ title: 'Raum angelegt', locale, body, scripts: ['lti-autosubmit.js'] }));
  });
}
