import type { FastifyInstance } from 'fastify';

import { getProvisionerDaemonsWithJobs } from '../../db/queries/provisionerDaemons.js';
import { getProvisionerJobByID, getQueuePositions } from '../../db/queries/provisionerJobs.js';
import { listOrganizationProvisionerJobs } from '../../db/queries/provisionerJobsList.js';
import type { ProvisionerDaemon, ProvisionerDaemonStatus } from '../../sdk/types/provisionerDaemons.js';
import type { ProvisionerJob, ProvisionerJobStatus } from '../../sdk/types/provisionerJobs.js';
import type { ValidationError } from '../../sdk/types/response.js';
import { authz } from '../authz.js';
import type { ServerContext } from '../context.js';
import { convertProvisionerDaemon } from '../convert/provisionerDaemons.js';
import { convertProvisionerJob } from '../convert/provisionerJobs.js';
import { errors } from '../http/errors.js';
import { requireAuth, subjectOf } from '../middleware/apiKey.js';
import { provisionerdServeRoute, type DaemonSessions } from '../provisionerdserver/serve.js';
import { arr, errorResponses, params, str, uuid } from '../schemas/common.js';
import { provisionerDaemonSchema } from '../schemas/provisionerDaemons.js';
import { provisionerJobSchema } from '../schemas/provisionerJobs.js';

import { resolveOrganizationParam } from './organizations.js';
import { loadJobNames } from '../provisionerJobs/names.js';

const DAEMON_STATUSES = new Set<ProvisionerDaemonStatus>(['offline', 'idle', 'busy']);
const JOB_STATUSES = new Set<ProvisionerJobStatus>(['pending', 'running', 'succeeded', 'canceling', 'canceled', 'failed']);
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1000;

type Query = { tags?: string; status?: string; limit?: string };

export async function provisionerDaemonRoutes(app: FastifyInstance, ctx: ServerContext, sessions: DaemonSessions): Promise<void> {
  const auth = requireAuth(ctx);
  const querySchema = { type: 'object', properties: { tags: str, status: str, limit: str } };

  // The daemons that can run this organization's jobs (built-in ones serve every organization), with their status and
  // their current and previous job: Coder main's shape.
  app.get<{ Params: { organization: string }; Querystring: Query }>(
    '/api/v2/organizations/:organization/provisionerdaemons',
    {
      onRequest: auth,
      schema: { tags: ['Provisioners'], params: params({ organization: str }), querystring: querySchema, response: { 200: arr(provisionerDaemonSchema), ...errorResponses } },
    },
    async (req): Promise<ProvisionerDaemon[]> => {
      const org = await resolveOrganizationParam(ctx.pool, subjectOf(req), req.params.organization);
      const v: ValidationError[] = [];
      const tags = parseTags(req.query.tags, v);
      const statuses = parseList(req.query.status, DAEMON_STATUSES, 'status', v);
      const limit = parseLimit(req.query.limit, v);
      if (v.length) throw errors.badRequest('Invalid query parameters.', undefined, v);
      const now = ctx.clock.now();
      const rows = await getProvisionerDaemonsWithJobs(ctx.pool, { organizationId: org.id, tags });
      const out = rows.map((d) => convertProvisionerDaemon(d, now, ctx.options.provisionerDaemonStaleMs));
      return out.filter((d) => statuses.length === 0 || statuses.includes(d.status as ProvisionerDaemonStatus)).slice(0, limit);
    },
  );

  // The organization's jobs, newest first. Template admins see every job; a member sees the jobs they started.
  app.get<{ Params: { organization: string }; Querystring: Query }>(
    '/api/v2/organizations/:organization/provisionerjobs',
    {
      onRequest: auth,
      schema: { tags: ['Provisioners'], params: params({ organization: str }), querystring: querySchema, response: { 200: arr(provisionerJobSchema), ...errorResponses } },
    },
    async (req): Promise<ProvisionerJob[]> => {
      const s = subjectOf(req);
      const org = await resolveOrganizationParam(ctx.pool, s, req.params.organization);
      const v: ValidationError[] = [];
      const tags = parseTags(req.query.tags, v);
      const statuses = parseList(req.query.status, JOB_STATUSES, 'status', v);
      const limit = parseLimit(req.query.limit, v);
      if (v.length) throw errors.badRequest('Invalid query parameters.', undefined, v);
      const rows = await listOrganizationProvisionerJobs(ctx.pool, {
        organizationId: org.id,
        statuses,
        tags,
        initiatorId: authz.canManageTemplates(s) ? undefined : s.userId,
        limit,
      });
      const [queue, names] = await Promise.all([
        getQueuePositions(ctx.pool, rows.filter((r) => !r.started_at && !r.completed_at).map((r) => r.id)),
        loadJobNames(ctx.pool, rows.map((r) => r.id)),
      ]);
      return rows.map((r) => convertProvisionerJob(r, names.get(r.id) ?? { templateVersionName: '' }, queue.get(r.id)));
    },
  );

  app.get<{ Params: { organization: string; job: string } }>(
    '/api/v2/organizations/:organization/provisionerjobs/:job',
    {
      onRequest: auth,
      schema: { tags: ['Provisioners'], params: params({ organization: str, job: uuid }), response: { 200: provisionerJobSchema, ...errorResponses } },
    },
    async (req): Promise<ProvisionerJob> => {
      const s = subjectOf(req);
      const org = await resolveOrganizationParam(ctx.pool, s, req.params.organization);
      const job = await getProvisionerJobByID(ctx.pool, req.params.job);
      if (!job || job.organization_id !== org.id || (!authz.canManageTemplates(s) && job.initiator_id !== s.userId)) throw errors.resourceNotFound();
      const [queue, names] = await Promise.all([getQueuePositions(ctx.pool, [job.id]), loadJobNames(ctx.pool, [job.id])]);
      return convertProvisionerJob(job, names.get(job.id) ?? { templateVersionName: '' }, queue.get(job.id));
    },
  );

  await provisionerdServeRoute(app, ctx, sessions);
}

/** `tags` is a JSON object of strings (Coder's encoding). */
function parseTags(raw: string | undefined, v: ValidationError[]): Record<string, string> | undefined {
  if (raw === undefined || raw === '') return undefined;
  try {
    const t = JSON.parse(raw) as unknown;
    if (t && typeof t === 'object' && !Array.isArray(t) && Object.values(t).every((x) => typeof x === 'string')) return t as Record<string, string>;
  } catch {
    // reported below
  }
  v.push({ field: 'tags', detail: 'Must be a JSON object of strings, e.g. {"env":"prod"}' });
  return undefined;
}

function parseList<T extends string>(raw: string | undefined, allowed: Set<T>, field: string, v: ValidationError[]): T[] {
  if (!raw) return [];
  const out: T[] = [];
  for (const s of raw.split(',').map((x) => x.trim()).filter(Boolean)) {
    if (allowed.has(s as T)) out.push(s as T);
    else v.push({ field, detail: `"${s}" is not one of ${[...allowed].join(', ')}` });
  }
  return out;
}

function parseLimit(raw: string | undefined, v: ValidationError[]): number {
  if (raw === undefined || raw === '') return DEFAULT_LIMIT;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) {
    v.push({ field: 'limit', detail: `Must be a whole number from 1 to ${MAX_LIMIT}` });
    return DEFAULT_LIMIT;
  }
  return n;
}
