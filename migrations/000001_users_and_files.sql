-- Users, organizations, API keys and uploaded files: the ground every later table stands on.

CREATE TABLE organizations (
  id uuid PRIMARY KEY,
  name text NOT NULL UNIQUE,
  description text NOT NULL DEFAULT '',
  is_default boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
-- At most one default organization.
CREATE UNIQUE INDEX organizations_one_default ON organizations (is_default) WHERE is_default;

CREATE TABLE users (
  id uuid PRIMARY KEY,
  email text NOT NULL,
  username text NOT NULL,
  hashed_password text NOT NULL,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
  -- Site-wide roles beyond the implicit `member`: owner, template-admin, user-admin.
  rbac_roles text[] NOT NULL DEFAULT '{}',
  avatar_url text NOT NULL DEFAULT '',
  -- Users are soft-deleted so that builds keep naming their initiator.
  deleted boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX users_email_lower ON users (lower(email)) WHERE NOT deleted;
CREATE UNIQUE INDEX users_username_lower ON users (lower(username)) WHERE NOT deleted;

CREATE TABLE organization_members (
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  roles text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX organization_members_user ON organization_members (user_id);

CREATE TABLE api_keys (
  -- The 10-character public part of `<id>-<secret>`.
  id text PRIMARY KEY,
  -- sha256 of the 22-character secret; the secret itself is never stored.
  hashed_secret bytea NOT NULL,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  login_type text NOT NULL CHECK (login_type IN ('password', 'token')),
  lifetime_seconds bigint NOT NULL,
  expires_at timestamptz NOT NULL,
  last_used timestamptz NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX api_keys_user ON api_keys (user_id);

CREATE TABLE files (
  id uuid PRIMARY KEY,
  -- sha256 of the bytes, hex; content-addressed per creator.
  hash text NOT NULL,
  created_by uuid NOT NULL REFERENCES users (id),
  mimetype text NOT NULL,
  data bytea NOT NULL,
  created_at timestamptz NOT NULL,
  UNIQUE (hash, created_by)
);
