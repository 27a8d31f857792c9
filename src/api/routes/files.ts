import { createHash, randomUUID } from 'node:crypto';

import type { FastifyInstance } from 'fastify';

import { getFileByID, insertFileOrGetExisting } from '../../db/queries/files.js';
import { authz } from '../authz.js';
import type { ServerContext } from '../context.js';
import { errors } from '../http/errors.js';
import { requireAuth, subjectOf } from '../middleware/apiKey.js';
import { UploadResponse } from '../../sdk/types/users.js';
import { errorResponses, uuidParams } from '../schemas/common.js';

const TAR = 'application/x-tar';

export async function fileRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const tags = ['Files'];
  app.post(
    '/api/v2/files',
    {
      onRequest: requireAuth(ctx),
      bodyLimit: ctx.options.maxFileBytes,
      config: { rawBody: true },
      schema: { tags, response: { 200: UploadResponse, 201: UploadResponse, ...errorResponses } },
    },
    async (req, reply) => {
      const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
      if (contentType !== TAR) throw errors.badRequest(`Unsupported content type header "${contentType}".`, `Only "${TAR}" is accepted.`);
      const data = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      if (data.length === 0) throw errors.badRequest('The uploaded file is empty.');
      const hash = createHash('sha256').update(data).digest('hex');
      const s = subjectOf(req);
      // Content-addressed per creator: the same bytes from the same user are one file.
      const out = await insertFileOrGetExisting(ctx.pool, { id: randomUUID(), hash, createdBy: s.userId, mimetype: TAR, data, now: ctx.clock.now() });
      return reply.code(out.created ? 201 : 200).send({ hash: out.id });
    },
  );

  app.get<{ Params: { fileID: string } }>(
    '/api/v2/files/:fileID',
    { onRequest: requireAuth(ctx), schema: { tags, params: uuidParams('fileID'), response: { ...errorResponses } } },
    async (req, reply) => {
      const s = subjectOf(req);
      const file = await getFileByID(ctx.pool, req.params.fileID);
      if (!file || (file.created_by !== s.userId && !authz.canReadAllFiles(s))) throw errors.resourceNotFound();
      return reply.type(file.mimetype).header('content-length', file.data.length).send(file.data);
    },
  );
}
