// The shapes are defined once in the SDK; these names are what routes import.
export {
  CreateWorkspaceBuildRequest as createWorkspaceBuildBody,
  ParameterValues as parameterValuesSchema,
  WorkspaceAgent as workspaceAgentSchema,
  WorkspaceApp as workspaceAppSchema,
  WorkspaceBuild as workspaceBuildSchema,
  WorkspaceResource as workspaceResourceSchema,
} from '../../sdk/types/workspaceBuilds.js';
