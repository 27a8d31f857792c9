import { Arr, Bool, LIMITS, Obj, Opt, Req, Str, StringEnum, Time, Uuid, type Static } from './wire.js';

export type SiteRole = 'owner' | 'template-admin' | 'user-admin' | 'member';
export const UserStatus = StringEnum(['active', 'suspended']);
export type UserStatus = Static<typeof UserStatus>;

export const Role = Obj({ name: Str(), display_name: Str() });
export type Role = Static<typeof Role>;

export const User = Obj({
  id: Uuid(),
  username: Str(),
  email: Str(),
  created_at: Time(),
  last_seen_at: Time(),
  status: UserStatus,
  organization_ids: Arr(Uuid()),
  roles: Arr(Role),
  avatar_url: Str(),
});
export type User = Static<typeof User>;

// Field rules are checked in code (api/routes/users.ts) so each failing field gets a precise message; the schemas
// state shape and size.
const email = Str(LIMITS.short);
const username = Str(LIMITS.name);
const password = Str(LIMITS.short);

export const CreateFirstUserRequest = Req({ email, username, password, trial: Opt(Bool()), organization_name: Opt(Str(LIMITS.name)) });
export type CreateFirstUserRequest = Static<typeof CreateFirstUserRequest>;

export const CreateFirstUserResponse = Obj({ user_id: Uuid(), organization_id: Uuid() });
export type CreateFirstUserResponse = Static<typeof CreateFirstUserResponse>;

export const CreateUserRequest = Req({
  email,
  username,
  password,
  organization_id: Opt(Uuid()),
  /** kiln extension: site roles to grant (owner only). */
  roles: Opt(Arr(StringEnum(['owner', 'template-admin', 'user-admin']), LIMITS.items)),
});
export type CreateUserRequest = Static<typeof CreateUserRequest>;

export const LoginWithPasswordRequest = Req({ email, password });
export type LoginWithPasswordRequest = Static<typeof LoginWithPasswordRequest>;

export const LoginWithPasswordResponse = Obj({ session_token: Str() });
export type LoginWithPasswordResponse = Static<typeof LoginWithPasswordResponse>;

export const GenerateAPIKeyResponse = Obj({ key: Str() });
export type GenerateAPIKeyResponse = Static<typeof GenerateAPIKeyResponse>;

export const Organization = Obj({ id: Uuid(), name: Str(), created_at: Time(), updated_at: Time() });
export type Organization = Static<typeof Organization>;

export const UploadResponse = Obj({ hash: Uuid() });
export type UploadResponse = Static<typeof UploadResponse>;

export const BuildInfoResponse = Obj({ version: Str(), external_url: Str() });
export type BuildInfoResponse = Static<typeof BuildInfoResponse>;
