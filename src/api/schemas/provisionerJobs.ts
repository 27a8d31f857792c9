// The shapes are defined once in the SDK; these names are what routes import.
export { ProvisionerJob as provisionerJobSchema, ProvisionerJobLog as provisionerJobLogSchema } from '../../sdk/types/provisionerJobs.js';
