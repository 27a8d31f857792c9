import type { TemplateVersionParameterRow, TemplateVersionVariableRow } from '../../db/queries/parameters.js';
import type { TemplateVersionParameter, TemplateVersionVariable } from '../../sdk/types/parameters.js';

/** Coder shows a sensitive variable's value and default as this, never the value. */
export const REDACTED = '*redacted*';

export function templateVersionParameter(r: TemplateVersionParameterRow): TemplateVersionParameter {
  return {
    name: r.name,
    ...(r.display_name ? { display_name: r.display_name } : {}),
    description: r.description,
    description_plaintext: plaintext(r.description),
    type: r.type,
    form_type: r.form_type,
    mutable: r.mutable,
    default_value: r.default_value,
    icon: r.icon,
    options: r.options.map((o) => ({ name: o.name, description: o.description ?? '', value: o.value, icon: o.icon ?? '' })),
    ...(r.validation_error ? { validation_error: r.validation_error } : {}),
    ...(r.validation_regex ? { validation_regex: r.validation_regex } : {}),
    ...(r.validation_min !== null ? { validation_min: r.validation_min } : {}),
    ...(r.validation_max !== null ? { validation_max: r.validation_max } : {}),
    ...(r.validation_monotonic ? { validation_monotonic: r.validation_monotonic } : {}),
    required: r.required,
    ephemeral: r.ephemeral,
  };
}

export function templateVersionVariable(r: TemplateVersionVariableRow): TemplateVersionVariable {
  return {
    name: r.name,
    description: r.description,
    type: r.type,
    value: r.sensitive ? REDACTED : r.value,
    default_value: r.sensitive ? REDACTED : r.default_value,
    required: r.required,
    sensitive: r.sensitive,
  };
}

/** Descriptions are Markdown; the plaintext form drops the markup a terminal cannot show. */
function plaintext(md: string): string {
  return md
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/^#{1,6}\s+/gm, '')
    .replace(/(\*\*|__)(.*?)\1/g, '$2')
    .replace(/(\*|_)(.*?)\1/g, '$2')
    .replace(/`([^`]*)`/g, '$1')
    .trim();
}
