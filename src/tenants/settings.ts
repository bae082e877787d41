import { z } from 'zod';

/** Catalogue maxima; a tenant may only shorten them ("tenant may: shorten"). */
export const RETENTION_MAXIMA = {
  activityLogDays: 35, // RET-01
  accessLogDays: 7, // RET-02
  adminLogDays: 56, // RET-03
  exportFileDays: 7, // RET-10
} as const;

const shorterThan = (max: number, rule: string) =>
  z.number().int().min(1).max(max, { message: `darf höchstens ${max} Tage sein (${rule})` });

const retention = z
  .object({
    activityLogDays: shorterThan(RETENTION_MAXIMA.activityLogDays, 'RET-01').default(35),
    accessLogDays: shorterThan(RETENTION_MAXIMA.accessLogDays, 'RET-02').default(7),
    adminLogDays: shorterThan(RETENTION_MAXIMA.adminLogDays, 'RET-03').default(56),
    /** RET-05: days a permitted recording is kept on the BBB server. */
    recordingDays: z.number().int().min(1).max(365).default(7),
    /** RET-06: the purgatory window (EduU 60 days, IServ 90 days). */
    purgatoryDays: z.union([z.literal(60), z.literal(90)]).default(90),
    /** RET-07: Moodle BW deletes a year after leaving; IServ at once. */
    leftSchool: z.enum(['after-one-year', 'immediately']).default('after-one-year'),
    exportFileDays: shorterThan(RETENTION_MAXIMA.exportFileDays, 'RET-10').default(7),
  })
  .strict();

/** A tenant's settings: one validated object, read in one place. */
export const tenantSettingsSchema = z
  .object({
    locale: z.enum(['de', 'en']).default('de'),
    /** RET-09, RET-11: first day of the school year as MM-DD (default 1 August). */
    schoolYearStart: z
      .string()
      .regex(/^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, { message: 'Format MM-TT, z. B. 08-01' })
      .refine((v) => v !== '02-29' && !/^(04|06|09|11)-31$/.test(v), { message: 'kein gültiger Tag in jedem Jahr' })
      .default('08-01'),
    /** VC-07: pupils need a recorded consent to join (the IServ video module needs it). */
    consentRequired: z.boolean().default(true),
    conference: z
      .object({
        /** VC-04: the lobby default for `lesson` rooms; `sensitive` always has one. */
        lessonLobby: z.boolean().default(true),
        /** VC-05: teachers may enable recording for a room. */
        recordingAllowed: z.boolean().default(false),
        /** VC-15: maximum share-link lifetime, at most 24 h. */
        shareLinkMaxHours: z.number().int().min(1).max(24, { message: 'höchstens 24 Stunden (VC-15)' }).default(24),
        /** VC-14: private chat in `lesson` rooms. */
        lessonPrivateChat: z.boolean().default(false),
      })
      .strict()
      .default({ lessonLobby: true, recordingAllowed: false, shareLinkMaxHours: 24, lessonPrivateChat: false }),
    retention: retention.default(retention.parse({})),
    identity: z
      .object({
        /** Store e-mail addresses from launches (off: data minimisation, VC-12). */
        storeEmail: z.boolean().default(false),
        /** Activate dynamically registered LTI platforms without an admin's review. */
        autoActivatePlatforms: z.boolean().default(false),
      })
      .strict()
      .default({ storeEmail: false, autoActivatePlatforms: false }),
    competency: z
      .object({
        /** Pupils may edit their own self-assessment. */
        selfAssessment: z.boolean().default(true),
        /** Levels of the grading scheme ('Bewertungsschema'), lowest first. */
        gradingScheme: z.array(z.string().min(1).max(60)).min(2).max(10).default(['nicht erreicht', 'teilweise erreicht', 'erreicht', 'übertroffen']),
      })
      .strict()
      .default({ selfAssessment: true, gradingScheme: ['nicht erreicht', 'teilweise erreicht', 'erreicht', 'übertroffen'] }),
    privacy: z
      .object({
        /** DSR-05: exports may be approved without the DPO. */
        autoApproveExports: z.boolean().default(false),
      })
      .strict()
      .default({ autoApproveExports: false }),
  })
  .strict();

export type TenantSettings = z.output<typeof tenantSettingsSchema>;
export type TenantSettingsInput = z.input<typeof tenantSettingsSchema>;

export const defaultSettings = (): TenantSettings => tenantSettingsSchema.parse({});

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

/** JSON merge patch (RFC 7396): objects merge, `null` resets a field to its default. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlain(patch)) return patch;
  const result: Plain = isPlain(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}
