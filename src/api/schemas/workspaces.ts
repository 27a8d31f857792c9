// The shapes are defined once in the SDK; these names are what routes import.
export {
  CreateWorkspaceRequest as createWorkspaceBody,
  PutExtendWorkspaceRequest as extendWorkspaceBody,
  UpdateWorkspaceTTLRequest as updateWorkspaceTTLBody,
  Workspace as workspaceSchema,
  WorkspacesResponse as workspacesResponseSchema,
} from '../../sdk/types/workspaces.js';
