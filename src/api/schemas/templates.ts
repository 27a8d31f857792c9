// The shapes are defined once in the SDK; these names are what routes import.
export {
  CreateTemplateRequest as createTemplateBody,
  CreateTemplateVersionDryRunRequest as createDryRunBody,
  CreateTemplateVersionRequest as createTemplateVersionBody,
  Template as templateSchema,
  TemplateVersion as templateVersionSchema,
  TemplateVersions as templateVersionsListSchema,
  UpdateActiveTemplateVersion as updateActiveTemplateVersionBody,
  UpdateTemplateMeta as updateTemplateMetaBody,
} from '../../sdk/types/templates.js';
