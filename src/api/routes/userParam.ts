import type { Queryable } from '../../db/pool.js';
import { getUserByID, getUserByUsername, type UserRow } from '../../db/queries/users.js';
import type { Subject } from '../authz.js';
import { ApiError } from '../http/errors.js';
import { isUuid } from '../../sdk/uuid.js';

/** `{user}` in a path: `me`, a username or a user id. An unknown one answers as Coder does (400). */
export async function resolveUserParam(db: Queryable, subject: Subject, raw: string): Promise<UserRow> {
  const id = raw === 'me' ? subject.userId : undefined;
  const user = id ? await getUserByID(db, id) : isUuid(raw) ? await getUserByID(db, raw) : await getUserByUsername(db, raw);
  if (!user || user.deleted) throw new ApiError(400, `"user" must be an existing uuid or username.`, `user "${raw}" was not found`);
  return user;
}
