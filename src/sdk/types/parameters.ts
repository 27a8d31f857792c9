/** Rich parameters and template variables on the wire (Coder's codersdk shapes). */

export type ValidationMonotonicOrder = 'increasing' | 'decreasing';

export interface TemplateVersionParameterOption {
  name: string;
  description: string;
  value: string;
  icon: string;
}

/** `GET /templateversions/{id}/rich-parameters`: one per declared parameter, in display order. */
export interface TemplateVersionParameter {
  name: string;
  display_name?: string;
  description: string;
  description_plaintext: string;
  type: 'string' | 'number' | 'bool' | 'list(string)';
  form_type: string;
  mutable: boolean;
  default_value: string;
  icon: string;
  options: TemplateVersionParameterOption[];
  validation_error?: string;
  validation_regex?: string;
  validation_min?: number;
  validation_max?: number;
  validation_monotonic?: ValidationMonotonicOrder | '';
  required: boolean;
  ephemeral: boolean;
}

/** `GET /templateversions/{id}/variables`; a sensitive variable's value and default read `*redacted*`. */
export interface TemplateVersionVariable {
  name: string;
  description: string;
  type: 'string' | 'number' | 'bool';
  value: string;
  default_value: string;
  required: boolean;
  sensitive: boolean;
}

/** A value in `rich_parameter_values` of a build or workspace request, and in `GET /workspacebuilds/{id}/parameters`. */
export interface WorkspaceBuildParameter {
  name: string;
  value: string;
}

/** `user_variable_values` of `POST /organizations/{org}/templateversions`. */
export interface VariableValue {
  name: string;
  value: string;
}
