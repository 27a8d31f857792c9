export type SiteRole = 'owner' | 'template-admin' | 'user-admin' | 'member';
export type UserStatus = 'active' | 'suspended';

export interface Role {
  name: string;
  display_name: string;
}

export interface User {
  id: string;
  username: string;
  email: string;
  created_at: string;
  last_seen_at: string;
  status: UserStatus;
  organization_ids: string[];
  roles: Role[];
  avatar_url: string;
}

export interface CreateFirstUserRequest {
  email: string;
  username: string;
  password: string;
  trial?: boolean;
}

export interface CreateFirstUserResponse {
  user_id: string;
  organization_id: string;
}

export interface CreateUserRequest {
  email: string;
  username: string;
  password: string;
  organization_id?: string;
  /** kiln extension: site roles to grant (owner only). */
  roles?: Exclude<SiteRole, 'member'>[];
}

export interface LoginWithPasswordRequest {
  email: string;
  password: string;
}

export interface LoginWithPasswordResponse {
  session_token: string;
}

export interface GenerateAPIKeyResponse {
  key: string;
}

export interface Organization {
  id: string;
  name: string;
  created_at: string;
  updated_at: string;
}

export interface UploadResponse {
  hash: string;
}

export interface BuildInfoResponse {
  version: string;
  external_url: string;
}
