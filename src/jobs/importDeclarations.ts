import type { Queryable } from '../db/pool.js';
import {
  getTemplateVersionUserVariableValues,
  insertTemplateVersionParameters,
  insertTemplateVersionVariables,
} from '../db/queries/parameters.js';
import { checkParameterDeclarations, checkVariableDeclarations, DeclarationError, type CheckedParameter, type CheckedVariable } from '../provisionersdk/parameters.js';
import type { CompleteJobRequest } from '../sdk/types/provisionerd.js';

export { DeclarationError };

export interface ImportDeclarations {
  parameters: CheckedParameter[];
  variables: CheckedVariable[];
}

/**
 * Checks what an import declared, before anything is written: a daemon may run elsewhere, so the server does not take
 * its word for it. Throws DeclarationError with a message for the template author.
 */
export function checkImportDeclarations(req: CompleteJobRequest['template_import']): ImportDeclarations {
  return { parameters: checkParameterDeclarations(req?.rich_parameters ?? []), variables: checkVariableDeclarations(req?.variables ?? []) };
}

/**
 * Stores a version's parameters and variables inside the import's completing transaction. A variable takes the value
 * the version was created with; a required one without a value fails the import (as Coder's does), nothing written.
 */
export async function storeImportDeclarations(tx: Queryable, versionId: string, d: ImportDeclarations): Promise<void> {
  const given = new Map((await getTemplateVersionUserVariableValues(tx, versionId)).map((v) => [v.name, v.value]));
  const missing = d.variables.filter((v) => v.required && !given.has(v.name) && v.default_value === '').map((v) => v.name);
  if (missing.length) throw new DeclarationError(`required template variables need values: ${missing.join(', ')}`);
  await insertTemplateVersionParameters(
    tx,
    versionId,
    d.parameters.map(({ order, ...p }) => ({ ...p, display_order: order })),
  );
  await insertTemplateVersionVariables(
    tx,
    versionId,
    d.variables.map((v) => ({ ...v, value: given.get(v.name) ?? '' })),
  );
}
