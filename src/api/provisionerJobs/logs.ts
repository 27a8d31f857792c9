import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';

import { getProvisionerJobLogs } from '../../db/queries/provisionerJobs.js';
import type { ProvisionerJobLog } from '../../sdk/types/provisionerJobs.js';
import type { ValidationError } from '../../sdk/types/response.js';
import { holdFollowSlot } from '../http/streamCaps.js';
import type { ServerContext } from '../context.js';
import { convertProvisionerJobLog } from '../convert/provisionerJobLogs.js';
import { ApiError, errors } from '../http/errors.js';
import { arr, errorResponses } from '../schemas/common.js';
import { provisionerJobLogSchema } from '../schemas/provisionerJobs.js';

import { followJobLogs } from './follower.js';

/** The job whose logs a request reads: a job row, or the few columns a route read with its access check. */
export interface JobLogsTarget {
  id: string;
  completed_at: Date | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    logsRequest?: { job: JobLogsTarget; after?: number; before?: number; follow: boolean; text: boolean };
  }
}

function parseLogId(q: Record<string, unknown>, name: 'after' | 'before', v: ValidationError[]): number | undefined {
  const raw = q[name];
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string' || !/^-?\d+$/.test(raw)) {
    v.push({ field: name, detail: 'Must be an integer' });
    return undefined;
  }
  return Number(raw);
}

/** `?follow`, `?follow=true` and `?follow=1` follow; `?follow=false` lists (deviation 6). */
function parseFollow(q: Record<string, unknown>): boolean {
  if (!('follow' in q)) return false;
  const raw = q.follow;
  return raw === '' || raw === 'true' || raw === '1' || raw === true;
}

/** One line of `?format=text`: `<time> [<level>] <stage>: <output>`, newline-terminated. */
export function formatLogLine(l: ProvisionerJobLog): string {
  return `${l.created_at} [${l.log_level}] ${l.stage}: ${l.output}\n`;
}

/**
 * The logs endpoint of a job-backed resource (workspace builds, template versions): a JSON list with optional
 * `before`/`after` log-id bounds, or with `?follow` a WebSocket stream (see follower.ts).
 * Spread into a route: `app.route({ method: 'GET', url, onRequest: auth, ...jobLogsRoute(ctx, loadJob) })`.
 */
export function jobLogsRoute(ctx: ServerContext, loadJob: (req: FastifyRequest) => Promise<JobLogsTarget>) {
  return {
    schema: { response: { 200: arr(provisionerJobLogSchema), ...errorResponses } },
    preHandler: async (req: FastifyRequest) => {
      const q = (req.query ?? {}) as Record<string, unknown>;
      const v: ValidationError[] = [];
      const after = parseLogId(q, 'after', v);
      const before = parseLogId(q, 'before', v);
      const first = v[0];
      if (first) throw new ApiError(400, `Query param "${first.field}" must be an integer.`, undefined, v);
      const follow = parseFollow(q);
      if (follow && before !== undefined) throw errors.badRequest('Query param "before" cannot be used with "follow".');
      const format = q.format ?? 'json';
      if (format !== 'json' && format !== 'text') {
        throw errors.badRequest('Query parameters have invalid values.', undefined, [{ field: 'format', detail: 'must be "json" or "text"' }]);
      }
      const job = await loadJob(req);
      req.logsRequest = { job, after, before, follow, text: format === 'text' };
    },
    handler: async (req: FastifyRequest, reply: FastifyReply) => {
      const r = req.logsRequest;
      if (!r) throw errors.internal('Internal error querying job.');
      if (r.follow) throw errors.badRequest('Failed to accept websocket.', 'The request was not a WebSocket upgrade; follow needs one.');
      const rows = await getProvisionerJobLogs(ctx.pool, r.job.id, { after: r.after, before: r.before });
      if (r.text) return reply.type('text/plain; charset=utf-8').send(rows.map((l) => formatLogLine(convertProvisionerJobLog(l))).join(''));
      return reply.send(rows.map(convertProvisionerJobLog));
    },
    wsHandler: (socket: WebSocket, req: FastifyRequest) => {
      const r = req.logsRequest;
      if (!r) {
        socket.close(1011);
        return;
      }
      if (!holdFollowSlot(ctx, req.subject?.userId, socket)) return;
      void followJobLogs(ctx, socket, r.job, r.after);
    },
  };
}
