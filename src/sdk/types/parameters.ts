/** Rich parameters and template variables on the wire (Coder's codersdk shapes). */
import { Arr, Bool, Int, LIMITS, Obj, Opt, Req, Str, StringEnum, Type, type Static } from './wire.js';

export const ValidationMonotonicOrder = StringEnum(['increasing', 'decreasing']);
export type ValidationMonotonicOrder = Static<typeof ValidationMonotonicOrder>;

export const TemplateVersionParameterOption = Obj({ name: Str(), description: Str(), value: Str(), icon: Str() });
export type TemplateVersionParameterOption = Static<typeof TemplateVersionParameterOption>;

/** `GET /templateversions/{id}/rich-parameters`: one per declared parameter, in display order. */
export const TemplateVersionParameter = Obj({
  name: Str(),
  display_name: Opt(Str()),
  description: Str(),
  description_plaintext: Str(),
  type: StringEnum(['string', 'number', 'bool', 'list(string)']),
  form_type: Str(),
  mutable: Bool(),
  default_value: Str(),
  icon: Str(),
  options: Arr(TemplateVersionParameterOption),
  validation_error: Opt(Str()),
  validation_regex: Opt(Str()),
  validation_min: Opt(Int()),
  validation_max: Opt(Int()),
  validation_monotonic: Opt(StringEnum(['increasing', 'decreasing', ''])),
  required: Bool(),
  ephemeral: Bool(),
});
export type TemplateVersionParameter = Static<typeof TemplateVersionParameter>;
export const TemplateVersionParameters = Arr(TemplateVersionParameter);

/** `GET /templateversions/{id}/variables`; a sensitive variable's value and default read `*redacted*`. */
export const TemplateVersionVariable = Obj({
  name: Str(),
  description: Str(),
  type: StringEnum(['string', 'number', 'bool']),
  value: Str(),
  default_value: Str(),
  required: Bool(),
  sensitive: Bool(),
});
export type TemplateVersionVariable = Static<typeof TemplateVersionVariable>;
export const TemplateVersionVariables = Arr(TemplateVersionVariable);

/** A value of a build: `GET /workspacebuilds/{id}/parameters`. */
export const WorkspaceBuildParameter = Obj({ name: Str(), value: Str() });
export type WorkspaceBuildParameter = Static<typeof WorkspaceBuildParameter>;
export const WorkspaceBuildParameters = Arr(WorkspaceBuildParameter);

/** `{name, value}` in requests: `rich_parameter_values` of builds and workspaces, `user_variable_values` of versions. */
export const NameValueRequest = Req({ name: Str(LIMITS.name), value: Str(LIMITS.value) });
/** Go clients send `null` for none. */
export const NameValuesRequest = Type.Unsafe<{ name: string; value: string }[] | null>({ type: ['array', 'null'], items: NameValueRequest, maxItems: LIMITS.items });

/** `user_variable_values` of `POST /organizations/{org}/templateversions`. */
export type VariableValue = Static<typeof NameValueRequest>;
