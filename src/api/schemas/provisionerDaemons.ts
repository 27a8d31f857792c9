// The shape is defined once in the SDK; this name is what routes import.
export { ProvisionerDaemon as provisionerDaemonSchema } from '../../sdk/types/provisionerJobs.js';
