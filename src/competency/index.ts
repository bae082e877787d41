/** The competency module's public surface: grids (ACC-01, RET-08) and LEBs (ACC-02, RET-09). */
export { decideGrid, decideLeb, decideLebCreate, type CallerFacts, type Decision } from './policy.js';
export { competencyPrivacy, createCompetencyPrivacy } from './privacy.js';
export { competencyRetention, gridRetention, lebRetention } from './retention.js';
export { isSchoolYearLabel, lebDeletionCutoff, lebDeletionDate, schoolYearLabel, schoolYearStartYear } from './schoolyear.js';
export { classOverview, listGrids, readGrid, readLeb, type Actor, type ClassOverview, type GridView, type LebView } from './service.js';
export { GRID_CATEGORY, LEB_CATEGORY } from './store.js';
