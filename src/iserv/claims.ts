import { z } from 'zod';

/**
 * The userinfo answer as IServ gives it (scopes `openid profile email uuid
 * groups roles`). Unknown claims are ignored; malformed group/role entries are
 * dropped rather than failing the whole login.
 */
const groupEntry = z.object({ act: z.string().min(1).max(200), name: z.string().max(300).optional() });
const roleEntry = z
  .object({ id: z.union([z.string(), z.number()]).transform(String).optional(), name: z.string().max(300).optional() })
  .refine((r) => r.id !== undefined || r.name !== undefined);

const lenientArray = <T extends z.ZodType>(entry: T) =>
  z
    .array(z.unknown())
    .optional()
    .transform((items) => (items ?? []).flatMap((item) => {
      const parsed = entry.safeParse(typeof item === 'string' ? { act: item, id: item, name: item } : item);
      return parsed.success ? [parsed.data as z.output<T>] : [];
    }));

export const userinfoSchema = z.object({
  sub: z.string().min(1),
  uuid: z.string().min(1).max(200).optional(),
  name: z.string().max(300).optional(),
  preferred_username: z.string().max(300).optional(),
  email: z.string().max(320).optional(),
  groups: lenientArray(groupEntry),
  roles: lenientArray(roleEntry),
});

export type IServUserinfo = z.output<typeof userinfoSchema>;

/** The stable subject: IServ's `uuid` (survives renames), else `sub`. */
export const subjectOf = (u: IServUserinfo): string => u.uuid ?? u.sub;

export const displayNameOf = (u: IServUserinfo): string => u.name?.trim() || u.preferred_username?.trim() || 'IServ';
