import { arr, bool, int, obj, str } from './common.js';

/** A `{name, value}` in a request; bounded so one request cannot carry an unbounded payload. */
const nameValueBody = {
  type: 'object',
  properties: { name: { type: 'string', maxLength: 256 }, value: { type: 'string', maxLength: 65_536 } },
  required: ['name', 'value'],
} as const;

/** `rich_parameter_values` / `user_variable_values` in request bodies (null is what Go clients send for none). */
export const nameValuesBody = { type: ['array', 'null'], maxItems: 1_000, items: nameValueBody } as const;

export const workspaceBuildParametersSchema = arr(obj({ name: str, value: str }, ['name', 'value']));

export const templateVersionParametersSchema = arr(
  obj(
    {
      name: str,
      display_name: str,
      description: str,
      description_plaintext: str,
      type: str,
      form_type: str,
      mutable: bool,
      default_value: str,
      icon: str,
      options: arr(obj({ name: str, description: str, value: str, icon: str }, ['name', 'description', 'value', 'icon'])),
      validation_error: str,
      validation_regex: str,
      validation_min: int,
      validation_max: int,
      validation_monotonic: str,
      required: bool,
      ephemeral: bool,
    },
    ['name', 'description', 'description_plaintext', 'type', 'form_type', 'mutable', 'default_value', 'icon', 'options', 'required', 'ephemeral'],
  ),
);

export const templateVersionVariablesSchema = arr(
  obj(
    { name: str, description: str, type: str, value: str, default_value: str, required: bool, sensitive: bool },
    ['name', 'description', 'type', 'value', 'default_value', 'required', 'sensitive'],
  ),
);
