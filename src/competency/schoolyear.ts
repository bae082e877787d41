/**
 * School-year arithmetic for RET-09 ("end of the school year after the one in
 * which the standard was reached"). Pure: no clock, no database. School years
 * begin at local midnight of the tenant's `schoolYearStart` (MM-DD, default
 * 08-01) in the school's time zone.
 */
export const DEFAULT_SCHOOL_YEAR_START = '08-01';
export const DEFAULT_TIME_ZONE = 'Europe/Berlin';

export interface MonthDay {
  month: number;
  day: number;
}

interface LocalDate extends MonthDay {
  year: number;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** '08-01' → { month: 8, day: 1 }. 02-29 is refused: a school year must start on a day every year has. */
export function parseSchoolYearStart(value: string): MonthDay {
  const match = /^(\d{2})-(\d{2})$/.exec(value);
  const month = Number(match?.[1]);
  const day = Number(match?.[2]);
  if (!match || month < 1 || month > 12 || day < 1 || day > DAYS_IN_MONTH[month - 1]!) {
    throw new RangeError(`schoolYearStart must be MM-DD on a day every year has, got "${value}"`);
  }
  return { month, day };
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(timeZone, f);
  }
  return f;
}

function wallClock(instant: Date, timeZone: string): { year: number; month: number; day: number; hour: number; minute: number; second: number } {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(instant)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour!, minute: parts.minute!, second: parts.second! };
}

/** Local wall time minus UTC at that instant, in ms (Berlin: +1 h in winter, +2 h in summer). */
function offsetMs(instant: Date, timeZone: string): number {
  const w = wallClock(instant, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(instant.getTime() / 1000) * 1000;
}

/** The instant of local midnight at the start of `date` in `timeZone`. */
export function startOfLocalDay(date: LocalDate, timeZone: string = DEFAULT_TIME_ZONE): Date {
  const guess = Date.UTC(date.year, date.month - 1, date.day);
  const first = guess - offsetMs(new Date(guess), timeZone);
  const second = guess - offsetMs(new Date(first), timeZone);
  return new Date(second);
}

/** The calendar year in which the school year containing `instant` began. */
export function schoolYearStartYear(instant: Date, schoolYearStart: string = DEFAULT_SCHOOL_YEAR_START, timeZone: string = DEFAULT_TIME_ZONE): number {
  const start = parseSchoolYearStart(schoolYearStart);
  const local = wallClock(instant, timeZone);
  const onOrAfterStart = local.month > start.month || (local.month === start.month && local.day >= start.day);
  return onOrAfterStart ? local.year : local.year - 1;
}

/** First instant of the school year that began in `startYear`. */
export function schoolYearBegins(startYear: number, schoolYearStart: string = DEFAULT_SCHOOL_YEAR_START, timeZone: string = DEFAULT_TIME_ZONE): Date {
  const start = parseSchoolYearStart(schoolYearStart);
  return startOfLocalDay({ year: startYear, month: start.month, day: start.day }, timeZone);
}

/** '2025/26' for the school year that began in 2025. */
export function schoolYearLabel(startYear: number): string {
  return `${startYear}/${String((startYear + 1) % 100).padStart(2, '0')}`;
}

/** True for labels like '2025/26' whose second half is the following year. */
export function isSchoolYearLabel(label: string): boolean {
  const match = /^(\d{4})\/(\d{2})$/.exec(label);
  return Boolean(match) && (Number(match![1]) + 1) % 100 === Number(match![2]);
}

/**
 * RET-09: the instant an LEB is due for deletion: the end of the school year
 * after the one in which the standard was reached, i.e. the first instant of
 * the school year two starts later.
 */
export function lebDeletionDate(standardReachedAt: Date, schoolYearStart: string = DEFAULT_SCHOOL_YEAR_START, timeZone: string = DEFAULT_TIME_ZONE): Date {
  return schoolYearBegins(schoolYearStartYear(standardReachedAt, schoolYearStart, timeZone) + 2, schoolYearStart, timeZone);
}

/**
 * RET-09 as one comparison for the retention run: at `now`, every LEB whose
 * standard was reached before the returned instant is due. (Due ⇔ its school
 * year began at least two school years before the current one ⇔ it was reached
 * before the start of the previous school year.)
 */
export function lebDeletionCutoff(now: Date, schoolYearStart: string = DEFAULT_SCHOOL_YEAR_START, timeZone: string = DEFAULT_TIME_ZONE): Date {
  return schoolYearBegins(schoolYearStartYear(now, schoolYearStart, timeZone) - 1, schoolYearStart, timeZone);
}
