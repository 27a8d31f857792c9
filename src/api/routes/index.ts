import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

import type { ServerContext } from '../context.js';

import { applicationRoutes } from './applications.js';
import { agentBinaryRoutes } from './agentBinary.js';
import { fileRoutes } from './files.js';
import { metaRoutes } from './meta.js';
import { organizationRoutes } from './organizations.js';
import { parameterRoutes } from './parameters.js';
import { templateExtraRoutes } from './templateExtras.js';
import { DaemonSessions } from '../provisionerdserver/serve.js';

import { provisionerDaemonRoutes } from './provisionerDaemons.js';
import { provisionerKeyRoutes } from './provisionerKeys.js';
import { replicaRoutes } from './replicas.js';
import { templateRoutes } from './templates.js';
import { templateVersionDryRunRoutes } from './templateVersionDryRun.js';
import { templateVersionRoutes } from './templateVersions.js';
import { userRoutes } from './users.js';
import { webRoutes } from './web.js';
import { workspaceAgentRoutes } from './workspaceAgents.js';
import { workspaceAgentShellRoutes } from './workspaceAgentShell.js';
import { workspaceBuildRoutes } from './workspaceBuilds.js';
import type { BuildViewCache } from '../builds/buildViewCache.js';
import { workspaceRoutes } from './workspaces.js';
import { workspaceUpdateRoutes } from './workspaceUpdates.js';

/** Every route of the API, registered in one place so a newcomer finds each endpoint's file from here. */
export async function registerRoutes(app: FastifyInstance, ctx: ServerContext, deps: { metrics: Registry; buildViews: BuildViewCache }): Promise<void> {
  await metaRoutes(app, ctx, deps);
  await userRoutes(app, ctx);
  await organizationRoutes(app, ctx);
  await fileRoutes(app, ctx);
  await templateVersionRoutes(app, ctx);
  await templateVersionDryRunRoutes(app, ctx);
  await templateRoutes(app, ctx);
  await templateExtraRoutes(app, ctx);
  await workspaceRoutes(app, ctx);
  await workspaceUpdateRoutes(app, ctx);
  await workspaceBuildRoutes(app, ctx, deps.buildViews);
  await parameterRoutes(app, ctx);
  // External daemons' connections: closed first on shutdown, so they reconnect to another replica at once.
  const sessions = new DaemonSessions(ctx);
  app.addHook('preClose', async () => sessions.close());
  await provisionerDaemonRoutes(app, ctx, sessions);
  await provisionerKeyRoutes(app, ctx);
  await replicaRoutes(app, ctx);
  await workspaceAgentRoutes(app, ctx);
  await workspaceAgentShellRoutes(app, ctx);
  await applicationRoutes(app, ctx);
  await agentBinaryRoutes(app);
  await webRoutes(app); // last: the dashboard's static files and its single-page-app fallback
}
