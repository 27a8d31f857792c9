import type { NameValue, TemplateVersionParameterRow } from '../../db/queries/parameters.js';
import { ParameterValueError, resolveParameterValue } from '../../sdk/parameters.js';
import type { WorkspaceTransition } from '../../sdk/types/workspaceBuilds.js';
import { templateVersionParameter } from '../convert/parameters.js';
import { errors } from '../http/errors.js';

/**
 * The full set of rich parameter values a new build stores (Coder's wsbuilder): for each parameter the version
 * declares, the value given, else the previous build's (unless ephemeral), else the default, each checked against the
 * declaration and the previous value. Values for names the version does not declare are dropped. A delete is never
 * refused over a parameter: values carry over unchecked, so a workspace can always be removed. Pure: the caller read
 * the declarations and the previous values with everything else the build is decided from (getBuildSource).
 */
export function resolveBuildParameters(p: {
  declared: readonly TemplateVersionParameterRow[];
  previousValues: readonly NameValue[];
  given?: NameValue[] | null;
  transition: WorkspaceTransition;
}): NameValue[] {
  const { declared, previousValues } = p;
  if (declared.length === 0) return [];
  const given = new Map((p.given ?? []).map((v) => [v.name, v.value]));
  const previous = new Map(previousValues.map((v) => [v.name, v.value]));
  const out: NameValue[] = [];
  for (const row of declared) {
    const param = templateVersionParameter(row);
    if (p.transition === 'delete') {
      out.push({ name: param.name, value: given.get(param.name) ?? (param.ephemeral ? undefined : previous.get(param.name)) ?? param.default_value });
      continue;
    }
    try {
      out.push({ name: param.name, value: resolveParameterValue(param, given.get(param.name), previous.get(param.name)) });
    } catch (e) {
      if (!(e instanceof ParameterValueError)) throw e;
      throw errors.badRequest(`Unable to validate parameter ${JSON.stringify(param.name)}`, e.message, [{ field: param.name, detail: e.message }]);
    }
  }
  return out;
}
