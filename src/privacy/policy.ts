/**
 * The data-subject request as a state machine (DSR-01 … DSR-05), with the
 * statuses schools know from Moodle's data-request tool. Pure: no I/O.
 */
export const REQUEST_TYPES = ['export', 'erasure', 'restriction', 'objection', 'rectification', 'other'] as const;
export type RequestType = (typeof REQUEST_TYPES)[number];

export const REQUEST_STATUSES = [
  'pending',
  'awaiting_approval',
  'approved',
  'processing',
  'download_ready',
  'completed',
  'rejected',
  'cancelled',
  'expired',
] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

/** Statuses after which nothing happens to a request any more (its record waits for its retention date). */
export const FINAL_STATUSES: readonly RequestStatus[] = ['completed', 'rejected', 'cancelled', 'expired'];
/** Statuses in which the request still waits for someone. */
export const OPEN_STATUSES: readonly RequestStatus[] = ['pending', 'awaiting_approval', 'approved', 'processing'];

export type RequestEvent =
  /** The bridge accepted the filing (subject verified in the tenant) and hands it to the DPO. */
  | 'submit'
  /** The DPO (or, for exports, the tenant's auto-approval) approves. */
  | 'approve'
  | 'reject'
  /** The requester or the DPO withdraws the request before it is carried out. */
  | 'cancel'
  /** Processing begins (also a re-run after a partial failure). */
  | 'start'
  /** An export archive is stored and can be downloaded. */
  | 'ready'
  /** Erasure, restriction, objection, rectification, question: done. */
  | 'complete'
  /** RET-10: the archive was deleted after its retention time. */
  | 'expire';

export type Transition = { ok: true; to: RequestStatus } | { ok: false; reason: string };

/** Rule ids behind each event, for the admin-action log. */
export const EVENT_RULES: Record<RequestEvent, string[]> = {
  submit: ['DSR-05'],
  approve: ['DSR-05'],
  reject: ['DSR-05'],
  cancel: ['DSR-05'],
  start: ['DSR-03'],
  ready: ['DSR-01', 'DSR-02'],
  complete: ['DSR-03'],
  expire: ['RET-10'],
};

const STATUS_DE: Record<RequestStatus, string> = {
  pending: 'eingegangen',
  awaiting_approval: 'wartet auf Freigabe',
  approved: 'freigegeben',
  processing: 'in Bearbeitung',
  download_ready: 'zum Herunterladen bereit',
  completed: 'erledigt',
  rejected: 'abgelehnt',
  cancelled: 'zurückgezogen',
  expired: 'abgelaufen',
};

export function statusLabel(status: RequestStatus, locale: 'de' | 'en' = 'de'): string {
  return locale === 'de' ? STATUS_DE[status] : status.replace('_', ' ');
}

/**
 * The one place that decides whether `event` may happen to a request of `type`
 * in `status`, and where it leads. Everything else (routes, jobs) asks here.
 */
export function transition(status: RequestStatus, event: RequestEvent, type: RequestType): Transition {
  const deny = (reason: string): Transition => ({ ok: false, reason });
  switch (event) {
    case 'submit':
      return status === 'pending' ? { ok: true, to: 'awaiting_approval' } : deny(`Nur ein eingegangener Antrag kann zur Freigabe vorgelegt werden (Status: ${STATUS_DE[status]}).`);
    case 'approve':
      return status === 'awaiting_approval' ? { ok: true, to: 'approved' } : deny(`Nur ein Antrag, der auf Freigabe wartet, kann freigegeben werden (Status: ${STATUS_DE[status]}).`);
    case 'reject':
      return status === 'awaiting_approval' ? { ok: true, to: 'rejected' } : deny(`Nur ein Antrag, der auf Freigabe wartet, kann abgelehnt werden (Status: ${STATUS_DE[status]}).`);
    case 'cancel':
      return status === 'pending' || status === 'awaiting_approval' || status === 'approved'
        ? { ok: true, to: 'cancelled' }
        : deny(`Ein Antrag im Status „${STATUS_DE[status]}“ kann nicht mehr zurückgezogen werden.`);
    case 'start':
      // A re-run after a partial failure starts again from `processing`.
      return status === 'approved' || status === 'processing' ? { ok: true, to: 'processing' } : deny(`Nur ein freigegebener Antrag kann bearbeitet werden (Status: ${STATUS_DE[status]}).`);
    case 'ready':
      if (type !== 'export') return deny('Nur ein Auskunftsantrag (Export) erzeugt ein Archiv.');
      return status === 'processing' ? { ok: true, to: 'download_ready' } : deny(`Das Archiv kann nur während der Bearbeitung fertig werden (Status: ${STATUS_DE[status]}).`);
    case 'complete':
      if (type === 'export') return deny('Ein Auskunftsantrag endet mit dem Archiv (download_ready), nicht mit „erledigt“.');
      return status === 'processing' ? { ok: true, to: 'completed' } : deny(`Nur ein Antrag in Bearbeitung kann erledigt werden (Status: ${STATUS_DE[status]}).`);
    case 'expire':
      if (type !== 'export') return deny('Nur ein Archiv läuft ab (RET-10).');
      return status === 'download_ready' ? { ok: true, to: 'expired' } : deny(`Nur ein bereitliegendes Archiv kann ablaufen (Status: ${STATUS_DE[status]}).`);
  }
}

/**
 * Accountability: request records are kept until the end of the school year
 * after the one in which they were finished, then deleted. Returns the instant
 * before which finished records are due: the start of the previous school year.
 */
export function requestRecordCutoff(now: Date, schoolYearStart: string): Date {
  const [month, day] = schoolYearStart.split('-').map(Number) as [number, number];
  let year = now.getUTCFullYear();
  if (now.getTime() < Date.UTC(year, month - 1, day)) year -= 1; // current school year began last calendar year
  return new Date(Date.UTC(year - 1, month - 1, day));
}
