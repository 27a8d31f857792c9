/**
 * Rich parameter and template variable declarations, as a provisioner reports them from a template version's import
 * (echo.json `parameters`, kiln.json `parameters`, Terraform's `coder_parameter` and `variable` blocks). Field names are
 * Coder's `TemplateVersionParameter` ones. The server checks them again before storing (the same function), since a
 * provisioner may run on another machine.
 */

export type ParameterType = 'string' | 'number' | 'bool' | 'list(string)';
export const PARAMETER_TYPES: readonly ParameterType[] = ['string', 'number', 'bool', 'list(string)'];

export interface ParameterOption {
  name: string;
  value: string;
  description?: string;
  icon?: string;
}

export interface ParameterDeclaration {
  name: string;
  display_name?: string;
  description?: string;
  type?: ParameterType;
  form_type?: string;
  mutable?: boolean;
  /** Absent (or null) means the parameter is required. */
  default_value?: string | null;
  icon?: string;
  options?: ParameterOption[];
  validation_regex?: string;
  validation_error?: string;
  validation_min?: number | null;
  validation_max?: number | null;
  validation_monotonic?: 'increasing' | 'decreasing' | '';
  ephemeral?: boolean;
  /** Display order (Terraform's `order`); ties sort by name. */
  order?: number;
}

/** A declaration checked and filled with defaults: what the server stores. */
export interface CheckedParameter extends Required<Omit<ParameterDeclaration, 'default_value' | 'validation_min' | 'validation_max' | 'options'>> {
  default_value: string;
  options: Required<ParameterOption>[];
  validation_min: number | null;
  validation_max: number | null;
  required: boolean;
}

export type VariableType = 'string' | 'number' | 'bool';

export interface VariableDeclaration {
  name: string;
  description?: string;
  type?: VariableType;
  default_value?: string | null;
  required?: boolean;
  sensitive?: boolean;
}

/** Limits on what one version may declare: a template is trusted, but a typo should not fill the database. */
export const MAX_PARAMETERS = 256;
export const MAX_OPTIONS = 64;
const MAX_TEXT = 64 * 1024;

export class DeclarationError extends Error {}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks one list of declarations (from any provisioner) and fills defaults; every problem names the parameter. */
export function checkParameterDeclarations(raw: unknown, where = 'parameters'): CheckedParameter[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new DeclarationError(`${where} must be a list`);
  if (raw.length > MAX_PARAMETERS) throw new DeclarationError(`${where}: at most ${MAX_PARAMETERS} parameters`);
  const seen = new Set<string>();
  return raw.map((p: unknown, i) => {
    const at = `${where}[${i}]`;
    if (!isObject(p)) throw new DeclarationError(`${at} must be an object`);
    if (typeof p.name !== 'string' || p.name === '' || p.name.length > 128) throw new DeclarationError(`${at}.name must be a non-empty string (at most 128 characters)`);
    const name = p.name;
    const fail = (msg: string): never => {
      throw new DeclarationError(`parameter "${name}": ${msg}`);
    };
    if (seen.has(name)) fail('declared twice');
    seen.add(name);
    const str = (k: string): string => {
      const v = p[k];
      if (v === undefined || v === null) return '';
      if (typeof v !== 'string' || v.length > MAX_TEXT) fail(`${k} must be a string`);
      return v as string;
    };
    const bool = (k: string): boolean => {
      if (p[k] === undefined || p[k] === null) return false;
      if (typeof p[k] !== 'boolean') fail(`${k} must be true or false`);
      return p[k] as boolean;
    };
    const int = (k: string): number | null => {
      const v = p[k];
      if (v === undefined || v === null) return null;
      if (typeof v !== 'number' || !Number.isInteger(v) || Math.abs(v) > 2 ** 31 - 1) fail(`${k} must be a 32-bit integer`);
      return v as number;
    };
    const type = (p.type ?? 'string') as ParameterType;
    if (!PARAMETER_TYPES.includes(type)) fail(`type must be one of "number", "string", "bool", or "list(string)"`);
    const hasDefault = p.default_value !== undefined && p.default_value !== null;
    const def = str('default_value');
    const monotonic = str('validation_monotonic');
    if (monotonic !== '' && monotonic !== 'increasing' && monotonic !== 'decreasing') fail('number monotonicity can be either "increasing" or "decreasing"');
    const min = int('validation_min');
    const max = int('validation_max');
    const regex = str('validation_regex');
    const error = str('validation_error');
    if (type !== 'number' && (min !== null || max !== null)) fail(`a min or max cannot be specified for a ${type} type`);
    if (type !== 'number' && monotonic) fail(`monotonic validation can only be specified for number types, not ${type} types`);
    if (type !== 'string' && regex) fail(`a regex cannot be specified for a ${type} type`);
    if (regex) {
      if (!error) fail('an error must be specified with a regex validation');
      try {
        new RegExp(regex);
      } catch (e) {
        fail(`invalid regex ${JSON.stringify(regex)}: ${(e as Error).message}`);
      }
    }
    const optionsRaw = p.options ?? [];
    if (!Array.isArray(optionsRaw)) fail('options must be a list');
    if ((optionsRaw as unknown[]).length > MAX_OPTIONS) fail(`at most ${MAX_OPTIONS} options`);
    const names = new Set<string>();
    const values = new Set<string>();
    const options = (optionsRaw as unknown[]).map((o, j) => {
      if (!isObject(o) || typeof o.name !== 'string' || typeof o.value !== 'string') fail(`options[${j}] needs a string name and value`);
      const opt = o as Record<string, unknown>;
      if (names.has(opt.name as string)) fail(`multiple options cannot have the same name ${JSON.stringify(opt.name)}`);
      if (values.has(opt.value as string)) fail(`multiple options cannot have the same value ${JSON.stringify(opt.value)}`);
      names.add(opt.name as string);
      values.add(opt.value as string);
      const typeErr = typeError(type, opt.value as string);
      if (typeErr) fail(typeErr);
      return { name: opt.name as string, value: opt.value as string, description: typeof opt.description === 'string' ? opt.description : '', icon: typeof opt.icon === 'string' ? opt.icon : '' };
    });
    if (hasDefault && def !== '') {
      const typeErr = typeError(type, def);
      if (typeErr) fail(`default_value: ${typeErr}`);
      if (options.length && !values.has(def)) fail(`default value ${JSON.stringify(def)} must be defined as one of options`);
    }
    const order = int('order') ?? 0;
    return {
      name,
      display_name: str('display_name'),
      description: str('description'),
      type,
      form_type: str('form_type'),
      mutable: bool('mutable'),
      default_value: def,
      icon: str('icon'),
      options,
      validation_regex: regex,
      validation_error: error,
      validation_min: min,
      validation_max: max,
      validation_monotonic: monotonic as CheckedParameter['validation_monotonic'],
      ephemeral: bool('ephemeral'),
      order,
      required: !hasDefault,
    };
  });
}

/** Why `value` is not of `type` (Coder's wording), or undefined when it is. */
export function typeError(type: ParameterType, value: string): string | undefined {
  switch (type) {
    case 'number':
      return value.trim() !== '' && Number.isFinite(Number(value)) ? undefined : `${JSON.stringify(value)} is not a number`;
    case 'bool':
      return ['true', 'false', '1', '0', 't', 'f', 'TRUE', 'FALSE', 'True', 'False', 'T', 'F'].includes(value) ? undefined : `${JSON.stringify(value)} is not a bool`;
    case 'list(string)':
      try {
        const v: unknown = JSON.parse(value);
        if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return undefined;
      } catch {
        // falls through to the message
      }
      return `${JSON.stringify(value)} is not an array of strings`;
    default:
      return undefined;
  }
}

export interface CheckedVariable {
  name: string;
  description: string;
  type: VariableType;
  default_value: string;
  required: boolean;
  sensitive: boolean;
}

export function checkVariableDeclarations(raw: unknown): CheckedVariable[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new DeclarationError('variables must be a list');
  if (raw.length > MAX_PARAMETERS) throw new DeclarationError(`at most ${MAX_PARAMETERS} variables`);
  const seen = new Set<string>();
  return raw.map((v: unknown, i) => {
    if (!isObject(v) || typeof v.name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_-]*$/.test(v.name)) throw new DeclarationError(`variables[${i}] needs a valid name`);
    if (seen.has(v.name)) throw new DeclarationError(`variable "${v.name}" declared twice`);
    seen.add(v.name);
    const type = (v.type ?? 'string') as VariableType;
    if (!['string', 'number', 'bool'].includes(type)) throw new DeclarationError(`variable "${v.name}": type must be string, number or bool`);
    const hasDefault = v.default_value !== undefined && v.default_value !== null;
    return {
      name: v.name,
      description: typeof v.description === 'string' ? v.description : '',
      type,
      default_value: hasDefault ? String(v.default_value) : '',
      required: typeof v.required === 'boolean' ? v.required : !hasDefault,
      sensitive: v.sensitive === true,
    };
  });
}

/**
 * Environment variable names a workspace parameter may never set: they change how every program in the workspace
 * runs (loader, shell start-up, interpreter options) or how kiln's own agent reaches the server.
 */
const FORBIDDEN_ENV = new Set([
  'PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'PWD', 'OLDPWD', 'IFS', 'ENV', 'BASH_ENV', 'CDPATH', 'PS4', 'PROMPT_COMMAND',
  'SHELLOPTS', 'BASHOPTS', 'GLOBIGNORE', 'TMPDIR', 'TZDIR', 'HOSTALIASES', 'LOCALDOMAIN', 'RES_OPTIONS', 'GCONV_PATH',
  'NLSPATH', 'GLIBC_TUNABLES', 'NODE_OPTIONS', 'NODE_PATH', 'NODE_EXTRA_CA_CERTS', 'PYTHONPATH', 'PYTHONSTARTUP', 'PYTHONHOME',
  'PERL5LIB', 'PERL5OPT', 'PERLLIB', 'RUBYOPT', 'RUBYLIB', 'JAVA_TOOL_OPTIONS', '_JAVA_OPTIONS', 'SSL_CERT_FILE', 'SSL_CERT_DIR',
  'GIT_SSH', 'GIT_SSH_COMMAND', 'GIT_EXEC_PATH', 'EDITOR', 'VISUAL', 'PAGER', 'SSH_AUTH_SOCK', 'TERM', 'TERMINFO',
]);
const FORBIDDEN_ENV_PREFIXES = ['LD_', 'DYLD_', 'BASH_FUNC_', 'MALLOC_', 'KILN_', 'CODER_', 'XDG_'];

/** Why a parameter cannot be exported under `name` as an environment variable, or undefined when it can. */
export function unsafeEnvName(name: string): string | undefined {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return `"${name}" is not a valid environment variable name (letters, digits and _)`;
  const upper = name.toUpperCase();
  if (FORBIDDEN_ENV.has(upper) || FORBIDDEN_ENV_PREFIXES.some((p) => upper.startsWith(p))) {
    return `"${name}" cannot be set by a parameter: it changes how programs in the workspace run`;
  }
  return undefined;
}
