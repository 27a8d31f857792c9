// The dashboard's only door to the rest of kiln: the SDK, re-exported. Nothing else under src/ is imported.
export { KilnClient } from '../sdk/client.js';
export { SdkError, isSdkError } from '../sdk/errors.js';
export { appSubdomainUrl } from '../sdk/apps.js';
export type { MatchedProvisioners, ProvisionerDaemon, ProvisionerJob, ProvisionerJobLog, ProvisionerJobStatus, LogLevel } from '../sdk/types/provisionerJobs.js';
export type { Template, TemplateVersion } from '../sdk/types/templates.js';
export type { Organization, User } from '../sdk/types/users.js';
export type {
  CreateParameterRequest,
  ParameterDestinationScheme,
  WorkspaceAgent,
  WorkspaceApp,
  WorkspaceAppHealth,
  WorkspaceBuild,
  WorkspaceBuildTimings,
  WorkspaceResource,
  WorkspaceStatus,
  WorkspaceTransition,
} from '../sdk/types/workspaceBuilds.js';
export type { Workspace } from '../sdk/types/workspaces.js';
export type { ValidationError } from '../sdk/types/response.js';
export type { TemplateVersionParameter, WorkspaceBuildParameter } from '../sdk/types/parameters.js';
export { valueProblem } from '../sdk/parameters.js';
