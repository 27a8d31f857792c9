import { getAppTarget, getAppToken, insertAppToken, deleteExpiredAppTokens, type AppTargetRow } from '../../db/queries/workspaceApps.js';
import type { AppAddress } from '../../sdk/apps.js';
import { generateApiKey, parseToken, secretMatches } from '../auth/apiKeys.js';
import { authz, siteRoles, type Subject } from '../authz.js';
import type { ServerContext } from '../context.js';
import { ApiError, errors } from '../http/errors.js';

/** An app the proxy can reach: its row, and the port and path of its URL inside the workspace. */
export interface AppTarget extends AppTargetRow {
  port: number;
  /** The path of the app's URL, without a trailing slash ('' for the root). Request paths are appended to it. */
  basePath: string;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * The app an address names, if the subject may open it. Missing and forbidden are the same 404 (as for builds), so
 * nobody learns which workspaces others have.
 */
export async function resolveApp(ctx: ServerContext, subject: Subject, addr: AppAddress): Promise<AppTarget> {
  const row = await getAppTarget(ctx.pool, addr);
  if (!row || !authz.canConnectToWorkspace(subject, row)) throw errors.resourceNotFound();
  if (row.external || !row.url) throw new ApiError(404, 'This application has no URL kiln can proxy.', 'External apps and command apps open on the client.');
  let url: URL;
  try {
    url = new URL(row.url);
  } catch {
    throw new ApiError(502, 'The application URL is invalid.', `"${row.url}" is not a URL.`);
  }
  // The tunnel reaches the workspace's own loopback; an app elsewhere is not the workspace's to serve.
  if (url.protocol !== 'http:' || !LOOPBACK.has(url.hostname)) {
    throw new ApiError(502, 'kiln proxies apps served over http on the workspace loopback only.', `The app's URL is "${row.url}".`);
  }
  return { ...row, port: url.port ? Number(url.port) : 80, basePath: url.pathname.replace(/\/+$/, '') };
}

/** Mints a token that opens this one app for this subject, for `appTokenLifetimeMs`. */
export async function mintAppToken(ctx: ServerContext, subject: Subject, app: AppTargetRow): Promise<{ token: string; expiresAt: Date }> {
  const key = generateApiKey();
  const now = ctx.clock.now();
  const expiresAt = new Date(now.getTime() + ctx.options.appTokenLifetimeMs);
  await deleteExpiredAppTokens(ctx.pool, now);
  await insertAppToken(
    ctx.pool,
    { id: key.id, hashed_secret: key.hashedSecret, user_id: subject.userId, workspace_id: app.workspace_id, agent_name: app.agent_name, app_slug: app.app_slug, expires_at: expiresAt },
    now,
  );
  return { token: key.token, expiresAt };
}

/**
 * The subject an app token stands for, when it is valid for exactly this app (workspace, agent name, app slug) and
 * its user is still active; undefined otherwise, so the caller sends the browser for a new one.
 */
export async function subjectFromAppToken(ctx: ServerContext, token: string, addr: AppAddress): Promise<Subject | undefined> {
  const parsed = parseToken(token);
  if (!parsed.ok) return undefined;
  const t = await getAppToken(ctx.pool, parsed.id);
  if (!t || !secretMatches(parsed.secret, t.hashed_secret)) return undefined;
  if (t.expires_at.getTime() <= ctx.clock.now().getTime() || t.user_deleted || t.user_status !== 'active') return undefined;
  const target = await getAppTarget(ctx.pool, addr);
  if (!target || target.workspace_id !== t.workspace_id || target.agent_name !== t.agent_name || target.app_slug !== t.app_slug) return undefined;
  return { userId: t.user_id, username: t.username, roles: siteRoles(t.rbac_roles ?? []) };
}
