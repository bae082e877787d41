/** The LTI module's public surface. */
export { allowPlatformFraming } from './framing.js';
export { purgeExpiredLtiRecords, LtiDocumentStore, LTI_COLLECTIONS } from './documents.js';
export { syncRoster, type RosterSyncResult } from './nrps.js';
export { ltiMount } from './routes.js';
export { DEFAULT_ROLE_MAPPING, mapRoles, landingPath } from './policy.js';
