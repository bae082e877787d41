import { REQUEST_STATUSES, REQUEST_TYPES, requestRecordCutoff, transition, type RequestEvent, type RequestStatus, type RequestType } from '../../src/privacy/policy.js';

/** The whole machine, written out independently of the implementation: [from, event, to, types or all]. */
const VALID: [RequestStatus, RequestEvent, RequestStatus, readonly RequestType[]][] = [
  ['pending', 'submit', 'awaiting_approval', REQUEST_TYPES],
  ['pending', 'cancel', 'cancelled', REQUEST_TYPES],
  ['awaiting_approval', 'approve', 'approved', REQUEST_TYPES],
  ['awaiting_approval', 'reject', 'rejected', REQUEST_TYPES],
  ['awaiting_approval', 'cancel', 'cancelled', REQUEST_TYPES],
  ['approved', 'cancel', 'cancelled', REQUEST_TYPES],
  ['approved', 'start', 'processing', REQUEST_TYPES],
  ['processing', 'start', 'processing', REQUEST_TYPES],
  ['processing', 'ready', 'download_ready', ['export']],
  ['processing', 'complete', 'completed', ['erasure', 'restriction', 'objection', 'rectification', 'other']],
  ['download_ready', 'expire', 'expired', ['export']],
];
const EVENTS: RequestEvent[] = ['submit', 'approve', 'reject', 'cancel', 'start', 'ready', 'complete', 'expire'];

describe('DSR-05: the request status machine', () => {
  for (const type of REQUEST_TYPES) {
    for (const from of REQUEST_STATUSES) {
      for (const event of EVENTS) {
        const valid = VALID.find(([f, e, , types]) => f === from && e === event && types.includes(type));
        test(`${type}: ${from} --${event}--> ${valid ? valid[2] : 'refused'}`, () => {
          const result = transition(from, event, type);
          if (valid) expect(result).toEqual({ ok: true, to: valid[2] });
          else {
            expect(result.ok).toBe(false);
            if (!result.ok) expect(result.reason).toMatch(/Antrag|Archiv/);
          }
        });
      }
    }
  }

  test('final statuses admit no event at all', () => {
    for (const from of ['completed', 'rejected', 'cancelled', 'expired'] as const) {
      for (const type of REQUEST_TYPES) for (const event of EVENTS) expect(transition(from, event, type).ok).toBe(false);
    }
  });
});

describe('request records: kept until the end of the following school year', () => {
  test('cutoff is the start of the previous school year (default 1 August)', () => {
    expect(requestRecordCutoff(new Date('2026-11-22T08:00:00Z'), '08-01').toISOString()).toBe('2025-08-01T00:00:00.000Z');
    expect(requestRecordCutoff(new Date('2026-07-31T23:00:00Z'), '08-01').toISOString()).toBe('2024-08-01T00:00:00.000Z');
    expect(requestRecordCutoff(new Date('2026-08-01T00:00:00Z'), '08-01').toISOString()).toBe('2025-08-01T00:00:00.000Z');
    expect(requestRecordCutoff(new Date('2026-03-01T00:00:00Z'), '09-15').toISOString()).toBe('2024-09-15T00:00:00.000Z');
  });
});
