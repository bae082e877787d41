/** Scopes a tenant token can carry. `admin`: tenant admin; `lms`: the LMS's service account; `dpo`: data-protection officer. */
export const SCOPES = ['admin', 'lms', 'dpo'] as const;
export type Scope = (typeof SCOPES)[number];

/** Who is calling the REST API, as the bridge itself verified it. */
export type Principal =
  | { kind: 'operator' }
  | { kind: 'token'; tokenId: string; tenantId: string; scopes: Scope[] };

/** How the admin-action log names the actor: never a person's name (RET-03). */
export function actorOf(principal: Principal): string {
  return principal.kind === 'operator' ? 'operator' : `token:${principal.tokenId}`;
}
