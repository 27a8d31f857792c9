-- GET /workspaces pages newest first in SQL (src/db/queries/views.ts): this index serves a page without sorting
-- every live workspace.
CREATE INDEX workspaces_live_created ON workspaces (created_at DESC, id) WHERE NOT deleted;
