import { randomUUID } from 'node:crypto';

import type { FastifyInstance, FastifyReply } from 'fastify';

import { inTx, isUniqueViolation } from '../../db/pool.js';
import { insertApiKey, deleteApiKey } from '../../db/queries/apiKeys.js';
import {
  getDefaultOrganization,
  getMembershipsByUsers,
  getOrganizationByID,
  getOrganizationsByUser,
  insertOrganization,
  insertOrganizationMember,
} from '../../db/queries/organizations.js';
import { getUserByEmail, getUserCount, insertUser } from '../../db/queries/users.js';
import type { ValidationError } from '../../sdk/types/response.js';
import type { CreateFirstUserRequest, CreateUserRequest, LoginWithPasswordRequest } from '../../sdk/types/users.js';
import { generateApiKey } from '../auth/apiKeys.js';
import { LoginLimiter } from '../auth/loginLimiter.js';
import { dummyPasswordHash, hashPassword, verifyPassword } from '../auth/passwords.js';
import { authz } from '../authz.js';
import type { ServerContext } from '../context.js';
import { convertOrganization, convertUser } from '../convert/users.js';
import { ApiError, errors } from '../http/errors.js';
import { apiKeyCacheOf, requireAuth, SESSION_COOKIE, subjectOf } from '../middleware/apiKey.js';
import { arr, errorResponses, params, responseSchema, str } from '../schemas/common.js';
import { createFirstUserBody, createFirstUserResponse, createUserBody, generateApiKeyResponse, loginBody, loginResponse, organizationSchema, userSchema } from '../schemas/users.js';

import { resolveUserParam } from './userParam.js';

const USERNAME_RE = /^[a-zA-Z0-9](-?[a-zA-Z0-9])*$/;
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
// Any constant; serialises concurrent first-user requests.
const FIRST_USER_LOCK = 7_451_288_032;

function validateNewUser(req: { email: string; username: string; password: string }): void {
  const v: ValidationError[] = [];
  if (!USERNAME_RE.test(req.username) || req.username.length > 32) {
    v.push({ field: 'username', detail: `Validation failed for tag "username" with value: "${req.username}"` });
  }
  if (!EMAIL_RE.test(req.email)) v.push({ field: 'email', detail: `Validation failed for tag "email" with value: "${req.email}"` });
  if (req.password.length < 8) v.push({ field: 'password', detail: 'Password must be at least 8 characters.' });
  if (v.length) throw errors.validation(v);
}

/** The session cookie; `Secure` when users reach kiln over https, so it never travels in clear text. */
function sessionCookie(ctx: ServerContext, token: string, maxAgeS: number): string {
  const secure = ctx.options.accessUrl.toLowerCase().startsWith('https:') ? '; Secure' : '';
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeS}${secure}`;
}

export async function userRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const auth = requireAuth(ctx);
  const tags = ['Users'];
  const limiter = new LoginLimiter(ctx.clock, ctx.options.loginLimits);

  app.get('/api/v2/users/first', { schema: { tags, security: [], response: { 200: responseSchema, ...errorResponses } } }, async (_req, reply) => {
    if ((await getUserCount(ctx.pool)) === 0) throw new ApiError(404, 'The initial user has not been created!');
    return reply.send({ message: 'The initial user has already been created!' });
  });

  app.post<{ Body: CreateFirstUserRequest }>(
    '/api/v2/users/first',
    {
      schema: {
        tags,
        security: [],
        body: createFirstUserBody,
        response: { 201: createFirstUserResponse, ...errorResponses },
      },
    },
    async (req, reply) => {
      validateNewUser(req.body);
      const hashed = await hashPassword(req.body.password, ctx.options.passwordHashCost);
      const now = ctx.clock.now();
      const out = await inTx(ctx.pool, async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [FIRST_USER_LOCK]);
        if ((await getUserCount(tx)) > 0) throw errors.conflict('The initial user has already been created.');
        const user = await insertUser(tx, { id: randomUUID(), email: req.body.email, username: req.body.username, hashedPassword: hashed, roles: ['owner'], now });
        const org = (await getDefaultOrganization(tx)) ?? (await insertOrganization(tx, { id: randomUUID(), name: req.body.organization_name || 'default', isDefault: true, now }));
        await insertOrganizationMember(tx, { organizationId: org.id, userId: user.id, roles: ['organization-admin'], now });
        return { user_id: user.id, organization_id: org.id };
      });
      return reply.code(201).send(out);
    },
  );

  app.post<{ Body: LoginWithPasswordRequest }>(
    '/api/v2/users/login',
    { schema: { tags, security: [], body: loginBody, response: { 201: loginResponse, ...errorResponses } } },
    async (req, reply) => {
      // Checked before any password hash is computed: a refused guess costs nothing, so guessing slows nobody else.
      const attempt = limiter.begin(req.ip, req.body.email);
      if (!attempt.ok) {
        reply.header('retry-after', String(attempt.retryAfterS));
        throw new ApiError(429, 'Too many login attempts.', `Try again in ${attempt.retryAfterS} seconds.`);
      }
      let succeeded = false;
      try {
        const user = await getUserByEmail(ctx.pool, req.body.email);
        // Same work whether or not the email exists, and one message for both: no user enumeration.
        const ok = await verifyPassword(req.body.password, user?.hashed_password ?? (await dummyPasswordHash(ctx.options.passwordHashCost)));
        if (!user || !ok) throw new ApiError(401, 'Incorrect email or password.');
        if (user.status !== 'active') throw new ApiError(401, 'Your account is suspended. Contact an admin to reactivate your account.');
        const key = generateApiKey();
        await insertApiKey(ctx.pool, { id: key.id, hashedSecret: key.hashedSecret, userId: user.id, loginType: 'password', lifetimeMs: ctx.options.sessionDurationMs, now: ctx.clock.now() });
        succeeded = true;
        reply.header('set-cookie', sessionCookie(ctx, key.token, Math.round(ctx.options.sessionDurationMs / 1000)));
        return reply.code(201).send({ session_token: key.token });
      } finally {
        attempt.done(succeeded);
      }
    },
  );

  app.post('/api/v2/users/logout', { onRequest: auth, schema: { tags, response: { 200: responseSchema, ...errorResponses } } }, async (req, reply: FastifyReply) => {
    if (req.apiKeyId) {
      const cache = apiKeyCacheOf(ctx);
      // Listen for the trigger's notification before deleting: once it is back here, every replica has it too.
      const echoed = cache?.echo(`k:${req.apiKeyId}`);
      await deleteApiKey(ctx.pool, req.apiKeyId);
      cache?.forgetKey(req.apiKeyId);
      await echoed;
    }
    reply.header('set-cookie', sessionCookie(ctx, '', 0));
    return reply.send({ message: 'Logged out!' });
  });

  app.post<{ Body: CreateUserRequest }>(
    '/api/v2/users',
    { onRequest: auth, schema: { tags, body: createUserBody, response: { 201: userSchema, ...errorResponses } } },
    async (req, reply) => {
      const s = subjectOf(req);
      if (!authz.canManageUsers(s)) throw errors.forbidden();
      // Only an owner grants roles beyond member: a user-admin cannot mint template-admins, user-admins or owners.
      if ((req.body.roles ?? []).length > 0 && !authz.isOwner(s)) throw errors.forbidden();
      validateNewUser(req.body);
      const org = req.body.organization_id ? await getOrganizationByID(ctx.pool, req.body.organization_id) : await getDefaultOrganization(ctx.pool);
      if (!org) throw errors.badRequest(`Organization does not exist with the provided id "${req.body.organization_id ?? ''}".`);
      const hashed = await hashPassword(req.body.password, ctx.options.passwordHashCost);
      const now = ctx.clock.now();
      try {
        const user = await inTx(ctx.pool, async (tx) => {
          const u = await insertUser(tx, { id: randomUUID(), email: req.body.email, username: req.body.username, hashedPassword: hashed, roles: req.body.roles ?? [], now });
          await insertOrganizationMember(tx, { organizationId: org.id, userId: u.id, roles: [], now });
          return u;
        });
        return reply.code(201).send(convertUser(user, [org.id]));
      } catch (e) {
        if (isUniqueViolation(e)) {
          const field = (e as { constraint?: string }).constraint?.includes('email') ? 'email' : 'username';
          throw errors.conflict('User already exists.', `A user with this ${field} already exists.`);
        }
        throw e;
      }
    },
  );

  app.get<{ Params: { user: string } }>(
    '/api/v2/users/:user',
    { onRequest: auth, schema: { tags, params: params({ user: str }), response: { 200: userSchema, ...errorResponses } } },
    async (req) => {
      const user = await resolveUserParam(ctx.pool, subjectOf(req), req.params.user);
      const memberships = await getMembershipsByUsers(ctx.pool, [user.id]);
      return convertUser(user, memberships.map((m) => m.organization_id));
    },
  );

  app.get<{ Params: { user: string } }>(
    '/api/v2/users/:user/organizations',
    { onRequest: auth, schema: { tags, params: params({ user: str }), response: { 200: arr(organizationSchema), ...errorResponses } } },
    async (req) => {
      const s = subjectOf(req);
      const user = await resolveUserParam(ctx.pool, s, req.params.user);
      if (user.id !== s.userId && !authz.canManageUsers(s)) throw errors.resourceNotFound();
      return (await getOrganizationsByUser(ctx.pool, user.id)).map(convertOrganization);
    },
  );

  app.post<{ Params: { user: string } }>(
    '/api/v2/users/:user/keys',
    { onRequest: auth, schema: { tags, params: params({ user: str }), response: { 201: generateApiKeyResponse, ...errorResponses } } },
    async (req, reply) => {
      const s = subjectOf(req);
      const user = await resolveUserParam(ctx.pool, s, req.params.user);
      if (user.id !== s.userId && !authz.isOwner(s)) throw errors.forbidden();
      const key = generateApiKey();
      await insertApiKey(ctx.pool, { id: key.id, hashedSecret: key.hashedSecret, userId: user.id, loginType: 'token', lifetimeMs: ctx.options.tokenLifetimeMs, now: ctx.clock.now() });
      return reply.code(201).send({ key: key.token });
    },
  );
}
