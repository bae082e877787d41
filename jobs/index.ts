export { formatReport, JOBS, JOB_NAMES, runJob, type Job, type JobName, type JobReport, type RunJobOptions } from './jobs.js';
export { startJobs, type Scheduler } from './scheduler.js';
