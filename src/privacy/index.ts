/** The DSR module's public surface. */
export { isRestricted } from './restrictions.js';
export { eraseSubject, PrivacyRegistry, type CategoryResult, type DataCategory, type DataSubject, type PrivacyProvider } from './registry.js';
export { REQUEST_TYPES, REQUEST_STATUSES, transition, type RequestType, type RequestStatus } from './policy.js';
export { fileRequest, decideRequest, cancelRequest, processRequest, processOpenRequests, liftRestriction, createDownloadLink, useDownloadLink, type Actor } from './requests.js';
export { processingRegister } from './register.js';
export { exportFileRetention, requestRecordRetention } from './retention.js';
