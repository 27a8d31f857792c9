// The shapes are defined once in the SDK; these names are what routes import.
export {
  TemplateVersionParameters as templateVersionParametersSchema,
  TemplateVersionVariables as templateVersionVariablesSchema,
  WorkspaceBuildParameters as workspaceBuildParametersSchema,
} from '../../sdk/types/parameters.js';
