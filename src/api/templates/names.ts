import { randomInt } from 'node:crypto';

import type { ValidationError } from '../../sdk/types/response.js';

/**
 * Coder's name rules for templates and their versions (its `template_name`, `template_display_name` and
 * `template_version_name` validators), so a name kiln accepts is one Coder accepts too.
 */
const TEMPLATE_NAME = /^[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*$/;
const TEMPLATE_DISPLAY_NAME = /^[^\s](.*[^\s])?$/;
const TEMPLATE_VERSION_NAME = /^[a-zA-Z0-9]+(?:[_.-][a-zA-Z0-9]+)*$/;

const failed = (field: string, tag: string, value: string): ValidationError => ({ field, detail: `Validation failed for tag "${tag}" with value: "${value}"` });

export function checkTemplateName(field: string, v: string, out: ValidationError[]): void {
  if (v.length > 32 || !TEMPLATE_NAME.test(v)) out.push(failed(field, 'template_name', v));
}

/** Empty is allowed: a template without a display name shows its name. */
export function checkTemplateDisplayName(field: string, v: string, out: ValidationError[]): void {
  if (v !== '' && (v.length > 64 || !TEMPLATE_DISPLAY_NAME.test(v))) out.push(failed(field, 'template_display_name', v));
}

export function checkTemplateVersionName(field: string, v: string, out: ValidationError[]): void {
  if (v.length > 64 || !TEMPLATE_VERSION_NAME.test(v)) out.push(failed(field, 'template_version_name', v));
}

/** Coder's limit (`lt=128`). */
export function checkDescription(field: string, v: string, out: ValidationError[]): void {
  if (v.length >= 128) out.push(failed(field, 'lt', v));
}

// Our own word lists for generated version names; any readable pair will do.
const ADJECTIVES = [
  'amber', 'bold', 'brave', 'bright', 'calm', 'clever', 'cosy', 'crisp', 'daring', 'eager', 'fancy', 'fast', 'gentle', 'glad', 'golden',
  'happy', 'humble', 'jolly', 'keen', 'kind', 'lively', 'lucky', 'mellow', 'merry', 'nimble', 'noble', 'patient', 'plucky', 'proud',
  'quiet', 'rapid', 'shiny', 'silent', 'steady', 'sunny', 'swift', 'tidy', 'vivid', 'warm', 'witty',
];
const NOUNS = [
  'anvil', 'badger', 'beacon', 'bellows', 'birch', 'brick', 'cedar', 'comet', 'crane', 'ember', 'falcon', 'fern', 'forge', 'glaze',
  'harbor', 'heron', 'hearth', 'kettle', 'lantern', 'maple', 'meadow', 'otter', 'pebble', 'pine', 'quartz', 'raven', 'river', 'saffron',
  'sparrow', 'spark', 'spruce', 'stone', 'thistle', 'tinder', 'walnut', 'willow', 'wren', 'yarrow', 'zephyr', 'kiln',
];
const SUFFIX = 'abcdefghijklmnopqrstuvwxyz0123456789';

const pick = (xs: readonly string[]): string => xs[randomInt(xs.length)] as string;

/** `adjective_noun_xxxx`: readable, valid under the version name rule, and rarely the same twice. */
export function generateVersionName(): string {
  let suffix = '';
  for (let i = 0; i < 4; i++) suffix += SUFFIX[randomInt(SUFFIX.length)];
  return `${pick(ADJECTIVES)}_${pick(NOUNS)}_${suffix}`;
}
