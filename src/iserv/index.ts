/** IServ single sign-on (OpenID Connect): the module's public surface (HTTP lives in routes.ts). */
export { DEFAULT_RULES, RESTRICTING_RULES, mapRoles, type MappingRule } from './policy.js';
export { purgeLogins } from './store.js';
