/** RET-09: the LEB's deletion date from the tenant's school-year start (pure date arithmetic). */
import { isSchoolYearLabel, lebDeletionCutoff, lebDeletionDate, parseSchoolYearStart, schoolYearLabel, schoolYearStartYear } from '../../src/competency/schoolyear.js';

const at = (iso: string) => new Date(iso);

describe('RET-09: lebDeletionDate (default school year 1 Aug – 31 Jul, Europe/Berlin)', () => {
  test('standard reached mid-year: deleted at the end of the following school year', () => {
    // 10 March 2026 lies in 2025/26; the following year 2026/27 ends with 31 July 2027.
    expect(lebDeletionDate(at('2026-03-10T09:00:00Z')).toISOString()).toBe('2027-07-31T22:00:00.000Z'); // 1 Aug 2027 00:00 CEST
  });

  test('the last local minute of a school year still belongs to it', () => {
    // 31 July 2026 23:59:59 in Berlin (CEST = UTC+2) is 21:59:59Z
    expect(lebDeletionDate(at('2026-07-31T21:59:59Z')).toISOString()).toBe('2027-07-31T22:00:00.000Z');
  });

  test('local midnight of 1 August starts the next school year, although it is still 31 July in UTC', () => {
    expect(lebDeletionDate(at('2026-07-31T22:00:00Z')).toISOString()).toBe('2028-07-31T22:00:00.000Z');
    expect(lebDeletionDate(at('2026-08-01T00:00:00Z')).toISOString()).toBe('2028-07-31T22:00:00.000Z');
  });

  test('reached on the first day of a school year: almost two full years', () => {
    expect(lebDeletionDate(at('2025-08-01T06:00:00Z')).toISOString()).toBe('2027-07-31T22:00:00.000Z');
  });

  test('leap day 29 Feb 2028 lies in 2027/28 → deleted 1 Aug 2029', () => {
    expect(lebDeletionDate(at('2028-02-29T12:00:00Z')).toISOString()).toBe('2029-07-31T22:00:00.000Z');
  });
});

describe('RET-09: custom schoolYearStart', () => {
  test('a school year starting 15 September', () => {
    expect(lebDeletionDate(at('2026-09-14T12:00:00Z'), '09-15').toISOString()).toBe('2027-09-14T22:00:00.000Z'); // 14 Sep belongs to 2025/26
    expect(lebDeletionDate(at('2026-09-15T12:00:00Z'), '09-15').toISOString()).toBe('2028-09-14T22:00:00.000Z');
  });

  test('a start in winter uses winter time (CET = UTC+1)', () => {
    expect(lebDeletionDate(at('2026-05-05T12:00:00Z'), '01-01').toISOString()).toBe('2027-12-31T23:00:00.000Z'); // 1 Jan 2028 00:00 CET
  });

  test('leap years with a 1 March start: 29 Feb belongs to the year before', () => {
    expect(schoolYearStartYear(at('2028-02-29T12:00:00Z'), '03-01')).toBe(2027);
    expect(lebDeletionDate(at('2028-02-29T12:00:00Z'), '03-01').toISOString()).toBe('2029-02-28T23:00:00.000Z'); // 1 Mar 2029 00:00 CET
    expect(lebDeletionDate(at('2028-03-01T12:00:00Z'), '03-01').toISOString()).toBe('2030-02-28T23:00:00.000Z');
  });

  test('leap years with a 28 February start: 29 Feb belongs to the year just begun', () => {
    expect(schoolYearStartYear(at('2028-02-29T12:00:00Z'), '02-28')).toBe(2028);
    expect(lebDeletionDate(at('2028-02-29T12:00:00Z'), '02-28').toISOString()).toBe('2030-02-27T23:00:00.000Z');
    expect(lebDeletionDate(at('2028-02-27T12:00:00Z'), '02-28').toISOString()).toBe('2029-02-27T23:00:00.000Z');
  });

  test('a start on a day not every year has is refused', () => {
    expect(() => parseSchoolYearStart('02-29')).toThrow(RangeError);
    expect(() => parseSchoolYearStart('04-31')).toThrow(RangeError);
    expect(() => parseSchoolYearStart('13-01')).toThrow(RangeError);
    expect(() => parseSchoolYearStart('8-1')).toThrow(RangeError);
  });
});

describe('RET-09: the retention cutoff agrees with the per-LEB date', () => {
  test('due ⇔ standard reached before the cutoff, for many instants around the boundaries', () => {
    const starts = ['08-01', '09-15', '03-01', '02-28', '01-01'];
    const instants: Date[] = [];
    for (let y = 2024; y <= 2030; y++) {
      for (const md of ['01-01', '02-28', '02-29', '03-01', '07-31', '08-01', '09-14', '09-15', '12-31']) {
        for (const hh of ['00:30', '21:59', '22:00', '23:30']) {
          const d = new Date(`${y}-${md}T${hh}:00Z`);
          if (!Number.isNaN(d.getTime())) instants.push(d);
        }
      }
    }
    let checked = 0;
    for (const start of starts) {
      for (const now of instants.filter((_, i) => i % 5 === 0)) {
        const cutoff = lebDeletionCutoff(now, start);
        for (const reached of instants) {
          if (reached > now) continue;
          expect({ start, now, reached, due: lebDeletionDate(reached, start) <= now }).toEqual({ start, now, reached, due: reached < cutoff });
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(5000);
  });

  test('cutoff on 22 Nov 2026 (school year 2026/27) is the start of 2025/26', () => {
    expect(lebDeletionCutoff(at('2026-11-22T08:00:00Z')).toISOString()).toBe('2025-07-31T22:00:00.000Z');
  });
});

describe('school-year labels', () => {
  test('labels', () => {
    expect(schoolYearLabel(2025)).toBe('2025/26');
    expect(schoolYearLabel(2099)).toBe('2099/00');
    expect(isSchoolYearLabel('2025/26')).toBe(true);
    expect(isSchoolYearLabel('2099/00')).toBe(true);
    expect(isSchoolYearLabel('2025/27')).toBe(false);
    expect(isSchoolYearLabel('25/26')).toBe(false);
  });
});
