import type { Queryable } from '../../db/pool.js';
import { getMembershipsByUsers } from '../../db/queries/organizations.js';
import { getTemplateByID, getTemplateVersionByID, type TemplateRow, type TemplateVersionRow } from '../../db/queries/templates.js';
import { authz, type Subject } from '../authz.js';
import { errors } from '../http/errors.js';

/**
 * Who sees what (Coder's December 2022 RBAC, reduced to kiln's roles):
 * - every member of an organization reads its templates and the versions bound to them (Coder grants read through the
 *   organization's "everyone" group on each template);
 * - a version not yet bound to a template is a draft: only template managers (owner, template-admin) read it;
 * - writes (create, update, delete, promote, cancel an import) take a template manager.
 * A caller who may not read something gets the same 404 as for a missing row. A caller who may read but not write
 * also gets 404, as Coder answers every failed template authorization with ResourceNotFound.
 */

async function canSeeOrganization(db: Queryable, s: Subject, organizationId: string): Promise<boolean> {
  if (authz.isOwner(s) || authz.canManageTemplates(s)) return true;
  const memberships = await getMembershipsByUsers(db, [s.userId]);
  return memberships.some((m) => m.organization_id === organizationId);
}

/** A live template the caller may read; 404 otherwise (deleted templates are gone for every template route). */
export async function readableTemplate(db: Queryable, s: Subject, id: string): Promise<TemplateRow> {
  const t = await getTemplateByID(db, id);
  if (!t || t.deleted || !(await canSeeOrganization(db, s, t.organization_id))) throw errors.resourceNotFound();
  return t;
}

/** A template the caller may change; 404 when they may not (Coder's answer to a failed update/delete check). */
export async function manageableTemplate(db: Queryable, s: Subject, id: string): Promise<TemplateRow> {
  const t = await readableTemplate(db, s, id);
  if (!authz.canManageTemplates(s)) throw errors.resourceNotFound();
  return t;
}

/** A template version the caller may read. Versions of a deleted template stay readable, as in Coder. */
export async function readableTemplateVersion(db: Queryable, s: Subject, id: string): Promise<TemplateVersionRow> {
  const v = await getTemplateVersionByID(db, id);
  if (!v) throw errors.resourceNotFound();
  const visible = v.template_id ? await canSeeOrganization(db, s, v.organization_id) : authz.canManageTemplates(s);
  if (!visible) throw errors.resourceNotFound();
  return v;
}

export async function manageableTemplateVersion(db: Queryable, s: Subject, id: string): Promise<TemplateVersionRow> {
  const v = await readableTemplateVersion(db, s, id);
  if (!authz.canManageTemplates(s)) throw errors.resourceNotFound();
  return v;
}
