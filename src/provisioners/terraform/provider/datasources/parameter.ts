// coder_parameter: a rich parameter. Its value is the build's input for it (CODER_PARAMETER_<sha256(name)>, as Coder's
// provisioner passes it), else its default; options and the validation block are checked as the original does.
import { createHash, randomUUID } from 'node:crypto';

import type { ObjectValue } from '../cty.js';
import { bool, computed, num, opt, req, type SchemaSpec, str, withDefault } from '../schema.js';
import { type DataSourceType, type Diagnostic, error } from '../types.js';
import { validUrl } from '../resources/validate.js';

const TYPES = ['string', 'number', 'bool', 'list(string)'] as const;

/** Allowed form types per type, with and without options; the first is the default. */
const FORM_TYPES: Record<string, { withOptions: string[]; without: string[] }> = {
  string: { withOptions: ['radio', 'dropdown'], without: ['input', 'textarea'] },
  number: { withOptions: ['radio', 'dropdown'], without: ['input', 'slider'] },
  bool: { withOptions: ['radio', 'dropdown'], without: ['checkbox', 'switch'] },
  'list(string)': { withOptions: ['radio', 'multi-select'], without: ['tag-select'] },
};

const hash = (name: string) => createHash('sha256').update(name).digest('hex');
export const parameterEnv = (name: string) => `CODER_PARAMETER_${hash(name)}`;
export const previousParameterEnv = (name: string) => `CODER_PARAMETER_PREVIOUS_${hash(name)}`;

const schema: SchemaSpec = {
  version: 1,
  block: {
    attributes: {
      id: computed('string'),
      value: computed('string'),
      optional: computed('bool'),
      name: req('string'),
      display_name: opt('string'),
      description: opt('string'),
      type: withDefault('string', 'string'),
      form_type: { type: 'string', optional: true, computed: true },
      styling: withDefault('string', '{}'),
      mutable: withDefault('bool', false),
      default: opt('string'),
      icon: opt('string'),
      order: opt('number'),
      ephemeral: withDefault('bool', false),
      legacy_variable_name: opt('string', { deprecated: 'Legacy variable migration is not supported.' }),
      legacy_variable: opt('string', { deprecated: 'Legacy variable migration is not supported.' }),
    },
    blocks: {
      option: {
        nesting: 'list',
        block: { attributes: { name: req('string'), description: opt('string'), value: req('string'), icon: opt('string') } },
      },
      validation: {
        nesting: 'list',
        maxItems: 1,
        block: {
          attributes: {
            min: opt('number'),
            min_disabled: computed('bool'),
            max: opt('number'),
            max_disabled: computed('bool'),
            monotonic: opt('string'),
            regex: opt('string'),
            error: opt('string'),
          },
        },
      },
    },
  },
};

function isType(type: string, value: string): string | undefined {
  switch (type) {
    case 'number':
      return value.trim() !== '' && Number.isFinite(Number(value)) ? undefined : `"${value}" is not a number`;
    case 'bool':
      return ['true', 'false', '1', '0', 't', 'f', 'TRUE', 'FALSE', 'True', 'False', 'T', 'F'].includes(value) ? undefined : `"${value}" is not a bool`;
    case 'list(string)':
      return listOfStrings(value) ? undefined : `value "${value}" is not a valid list of strings`;
    default:
      return undefined;
  }
}

function listOfStrings(value: string): string[] | undefined {
  try {
    const v: unknown = JSON.parse(value);
    return Array.isArray(v) && v.every((e) => typeof e === 'string') ? v : undefined;
  } catch {
    return undefined;
  }
}

function checkValidation(type: string, rule: ObjectValue, value: string, previous: string | undefined): string | undefined {
  const min = num(rule, 'min');
  const max = num(rule, 'max');
  const monotonic = str(rule, 'monotonic') ?? '';
  const regex = str(rule, 'regex') ?? '';
  const message = str(rule, 'error') ?? '';
  if (type !== 'number') {
    if (min !== undefined) return `a min cannot be specified for a ${type} type`;
    if (max !== undefined) return `a max cannot be specified for a ${type} type`;
    if (monotonic) return `monotonic validation can only be specified for number types, not ${type} types`;
  }
  if (type !== 'string' && regex) return `a regex cannot be specified for a ${type} type`;
  const rendered = () => message.replaceAll('{min}', String(min ?? 0)).replaceAll('{max}', String(max ?? 0)).replaceAll('{value}', value);
  switch (type) {
    case 'bool':
      return value === 'true' || value === 'false' ? undefined : 'boolean value can be either "true" or "false"';
    case 'string': {
      if (!regex) return undefined;
      let re: RegExp;
      try {
        re = new RegExp(regex);
      } catch (e) {
        return `compile regex "${regex}": ${(e as Error).message}`;
      }
      if (!message) return 'an error must be specified with a regex validation';
      return re.test(value) ? undefined : `${message} (value "${value}" does not match "${regex}")`;
    }
    case 'number': {
      const n = Number(value);
      if (!/^[-+]?\d+$/.test(value.trim())) return message ? rendered() : `value "${value}" is not a number`;
      if (min !== undefined && n < min) return message ? rendered() : `value ${n} is less than the minimum ${min}`;
      if (max !== undefined && n > max) return message ? rendered() : `value ${n} is more than the maximum ${max}`;
      if (monotonic && monotonic !== 'increasing' && monotonic !== 'decreasing') {
        return 'number monotonicity can be either "increasing" or "decreasing"';
      }
      if (monotonic && previous !== undefined && /^[-+]?\d+$/.test(previous.trim())) {
        const p = Number(previous);
        if (monotonic === 'increasing' && n < p) return `parameter value '${n}' must be equal or greater than previous value: ${p}`;
        if (monotonic === 'decreasing' && n > p) return `parameter value '${n}' must be equal or lower than previous value: ${p}`;
      }
      return undefined;
    }
    case 'list(string)':
      return listOfStrings(value) ? undefined : `value "${value}" is not valid list of strings`;
    default:
      return undefined;
  }
}

function read(config: ObjectValue, env: NodeJS.ProcessEnv): { state?: ObjectValue; diagnostics?: Diagnostic[] } {
  const name = str(config, 'name') ?? '';
  const type = str(config, 'type') ?? 'string';
  const options = (Array.isArray(config.option) ? config.option : []) as ObjectValue[];
  const rules = (Array.isArray(config.validation) ? config.validation : []) as ObjectValue[];
  const defaultValue = str(config, 'default');
  const mutable = bool(config, 'mutable') ?? false;
  const ephemeral = bool(config, 'ephemeral') ?? false;

  if (!(TYPES as readonly string[]).includes(type)) {
    return { diagnostics: [error(`"type" attribute="${type}" is not supported, choose one of ${TYPES.join(', ')}`, undefined, ['type'])] };
  }
  const forms = FORM_TYPES[type]!;
  const allowed = options.length > 0 ? forms.withOptions : forms.without;
  const formType = str(config, 'form_type') || allowed[0]!;
  if (!allowed.includes(formType)) {
    return {
      diagnostics: [
        error('Invalid form_type for parameter', `"form_type" attribute="${formType}" is not supported for "type"="${type}", choose one of ${allowed.join(', ')}`, ['form_type']),
      ],
    };
  }
  const optionType = type === 'list(string)' && formType === 'multi-select' ? 'string' : type;
  if (!mutable && ephemeral) return { diagnostics: [error("parameter can't be immutable and ephemeral")] };
  if (defaultValue === undefined && ephemeral) return { diagnostics: [error('ephemeral parameter requires the default property')] };

  const names = new Set<string>();
  const values = new Set<string>();
  for (const [i, o] of options.entries()) {
    const on = str(o, 'name') ?? '';
    const ov = str(o, 'value') ?? '';
    if (names.has(on)) return { diagnostics: [error('Option names must be unique.', `multiple options found with the same name "${on}"`)] };
    if (values.has(ov)) return { diagnostics: [error('Option values must be unique.', `multiple options found with the same value "${ov}"`)] };
    const problem = isType(optionType, ov);
    if (problem) return { diagnostics: [error(`Option "${on}" with value="${ov}" is not of type "${optionType}"`, problem, ['option', i, 'value'])] };
    names.add(on);
    values.add(ov);
  }

  const input = env[parameterEnv(name)];
  const previous = env[previousParameterEnv(name)];
  const fromDefault = input === undefined;
  const raw = input ?? defaultValue;
  const validation = rules.map((r) => ({ ...r, min_disabled: num(r, 'min') === undefined, max_disabled: num(r, 'max') === undefined }));
  const state = (value: string): ObjectValue => ({
    ...config,
    id: randomUUID(),
    value,
    optional: defaultValue !== undefined,
    form_type: formType,
    validation,
  });
  if (raw === undefined && rules.length === 0) return { state: state('') };

  const value = raw ?? '';
  const label = fromDefault && defaultValue !== undefined ? 'Default value' : 'Value';
  const at = fromDefault && defaultValue !== undefined ? ['default'] : undefined;
  if (values.size > 0) {
    if (type === 'list(string)' && optionType === 'string') {
      const list = listOfStrings(value);
      if (!list) return { diagnostics: [error('When using list(string) type, value must be a json encoded list of strings', `value "${value}" is not a valid list of strings`, at)] };
      const missing = list.filter((v) => !values.has(v));
      if (missing.length) {
        return { diagnostics: [error(`${label}s must be a valid option`, `${label} "${value}" is not a valid option, values "${missing.join(', ')}" are missing from the options`, at)] };
      }
    } else if (!values.has(value)) {
      const extra = value === '' ? '. The value is empty, did you forget to set it with a default or from user input?' : '';
      return { diagnostics: [error(`${label} must be a valid option${extra}`, `the value "${value}" must be defined as one of options`, at)] };
    }
  }
  if (rules[0]) {
    const problem = checkValidation(type, rules[0], value, previous);
    if (problem) return { diagnostics: [error(`Invalid parameter ${label.toLowerCase()} according to 'validation' block`, problem, at)] };
  }
  const typeProblem = isType(type, value);
  if (typeProblem) return { diagnostics: [error(`Parameter value is not of type "${type}"`, typeProblem)] };
  return { state: state(value) };
}

export const parameter: DataSourceType = {
  name: 'coder_parameter',
  schema,
  validate(config) {
    const diags = [...validUrl(config, 'icon')];
    const options = (Array.isArray(config.option) ? config.option : []) as ObjectValue[];
    for (const [i, o] of options.entries()) diags.push(...validUrl(o, 'icon', ['option', i]));
    return diags;
  },
  read: (config, ctx) => read(config, ctx.env),
};
