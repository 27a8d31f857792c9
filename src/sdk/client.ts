import type { AppHostResponse } from './apps.js';
import { HttpTransport, type Query } from './http.js';
import { followJsonLines, type FollowOptions } from './follow.js';
import type { TemplateVersionParameter, TemplateVersionVariable, WorkspaceBuildParameter } from './types/parameters.js';
import type { ProvisionerDaemon, ProvisionerDaemonsQuery } from './types/provisionerDaemons.js';
import type { ProvisionerJob, ProvisionerJobLog } from './types/provisionerJobs.js';
import type { CreateProvisionerKeyRequest, CreateProvisionerKeyResponse, ProvisionerKey, Replica } from './types/provisionerKeys.js';
import type {
  CreateTemplateRequest,
  CreateTemplateVersionDryRunRequest,
  CreateTemplateVersionRequest,
  Template,
  TemplateVersion,
  TemplateVersionsQuery,
  UpdateTemplateMeta,
} from './types/templates.js';
import type {
  BuildInfoResponse,
  CreateFirstUserRequest,
  CreateFirstUserResponse,
  CreateUserRequest,
  GenerateAPIKeyResponse,
  LoginWithPasswordResponse,
  Organization,
  UploadResponse,
  User,
} from './types/users.js';
import type { WorkspaceAgentStartupLog } from './types/workspaceAgents.js';
import type { CreateWorkspaceBuildRequest, WorkspaceAgent, WorkspaceBuild, WorkspaceBuildTimings, WorkspaceResource } from './types/workspaceBuilds.js';
import type { CreateWorkspaceRequest, Workspace, WorkspacesResponse } from './types/workspaces.js';
import type { Response } from './types/response.js';

export interface ClientOptions {
  token?: string;
}

export interface LogQuery {
  before?: number;
  after?: number;
}

export interface BuildListQuery {
  after_id?: string;
  limit?: number;
  offset?: number;
  since?: string;
}

/**
 * The typed client for kiln's API (Coder's v2 paths). The CLI, the dashboard, the agent, external daemons and the
 * tests all talk to the server through it.
 *
 * @example
 * const client = new KilnClient('http://127.0.0.1:3000', { token });
 * const me = await client.me();
 */
export class KilnClient {
  readonly http: HttpTransport;

  constructor(url: string | URL, opts: ClientOptions = {}) {
    this.http = new HttpTransport(new URL(url), opts.token);
  }

  get url(): URL {
    return this.http.baseUrl;
  }
  get token(): string | undefined {
    return this.http.token;
  }
  setToken(token: string | undefined): void {
    this.http.token = token;
  }
  /** A client for the same server with another token. */
  withToken(token: string): KilnClient {
    return new KilnClient(this.http.baseUrl, { token });
  }

  // --- meta
  /** The wildcard host apps are served under (`GET /applications/host`); see sdk/apps.ts for building app URLs. */
  appHost = () => this.http.json<AppHostResponse>('GET', '/api/v2/applications/host');
  buildInfo = () => this.http.json<BuildInfoResponse>('GET', '/api/v2/buildinfo');

  // --- users and auth
  hasFirstUser = async (): Promise<boolean> => {
    const res = await fetch(this.http.url('/api/v2/users/first'));
    await res.body?.cancel();
    return res.status === 200;
  };
  createFirstUser = (req: CreateFirstUserRequest) => this.http.json<CreateFirstUserResponse>('POST', '/api/v2/users/first', { body: req });
  login = async (email: string, password: string): Promise<LoginWithPasswordResponse> => {
    const res = await this.http.json<LoginWithPasswordResponse>('POST', '/api/v2/users/login', { body: { email, password } });
    this.setToken(res.session_token);
    return res;
  };
  logout = () => this.http.json<Response>('POST', '/api/v2/users/logout');
  me = () => this.http.json<User>('GET', '/api/v2/users/me');
  user = (user: string) => this.http.json<User>('GET', `/api/v2/users/${enc(user)}`);
  createUser = (req: CreateUserRequest) => this.http.json<User>('POST', '/api/v2/users', { body: req });
  userOrganizations = (user = 'me') => this.http.json<Organization[]>('GET', `/api/v2/users/${enc(user)}/organizations`);
  createAPIKey = (user = 'me') => this.http.json<GenerateAPIKeyResponse>('POST', `/api/v2/users/${enc(user)}/keys`);
  organization = (org: string) => this.http.json<Organization>('GET', `/api/v2/organizations/${enc(org)}`);

  // --- files
  upload = (data: Uint8Array, contentType = 'application/x-tar') =>
    this.http.json<UploadResponse>('POST', '/api/v2/files', { raw: { data, contentType } });
  download = async (id: string): Promise<{ data: Uint8Array; contentType: string }> => {
    const res = await this.http.fetch('GET', `/api/v2/files/${enc(id)}`);
    return { data: await res.bytes(), contentType: res.header('content-type') ?? '' };
  };

  // --- templates and versions
  createTemplateVersion = (org: string, req: CreateTemplateVersionRequest) =>
    this.http.json<TemplateVersion>('POST', `/api/v2/organizations/${enc(org)}/templateversions`, { body: req });
  templateVersion = (id: string) => this.http.json<TemplateVersion>('GET', `/api/v2/templateversions/${enc(id)}`);
  templateVersionLogs = (id: string, q: LogQuery = {}) =>
    this.http.json<ProvisionerJobLog[]>('GET', `/api/v2/templateversions/${enc(id)}/logs`, { query: q as Query });
  followTemplateVersionLogs = (id: string, opts: FollowOptions = {}) =>
    followJsonLines<ProvisionerJobLog>(this.http, `/api/v2/templateversions/${enc(id)}/logs`, opts);
  templateVersionResources = (id: string) => this.http.json<WorkspaceResource[]>('GET', `/api/v2/templateversions/${enc(id)}/resources`);
  cancelTemplateVersion = (id: string) => this.http.json<Response>('PATCH', `/api/v2/templateversions/${enc(id)}/cancel`);
  templateVersionRichParameters = (id: string) => this.http.json<TemplateVersionParameter[]>('GET', `/api/v2/templateversions/${enc(id)}/rich-parameters`);
  templateVersionVariables = (id: string) => this.http.json<TemplateVersionVariable[]>('GET', `/api/v2/templateversions/${enc(id)}/variables`);
  workspaceBuildParameters = (id: string) => this.http.json<WorkspaceBuildParameter[]>('GET', `/api/v2/workspacebuilds/${enc(id)}/parameters`);
  createTemplateVersionDryRun = (id: string, req: CreateTemplateVersionDryRunRequest = {}) =>
    this.http.json<ProvisionerJob>('POST', `/api/v2/templateversions/${enc(id)}/dry-run`, { body: req });
  templateVersionDryRun = (id: string, jobId: string) => this.http.json<ProvisionerJob>('GET', `/api/v2/templateversions/${enc(id)}/dry-run/${enc(jobId)}`);
  templateVersionDryRunResources = (id: string, jobId: string) =>
    this.http.json<WorkspaceResource[]>('GET', `/api/v2/templateversions/${enc(id)}/dry-run/${enc(jobId)}/resources`);
  templateVersionDryRunLogs = (id: string, jobId: string, q: LogQuery = {}) =>
    this.http.json<ProvisionerJobLog[]>('GET', `/api/v2/templateversions/${enc(id)}/dry-run/${enc(jobId)}/logs`, { query: q as Query });
  cancelTemplateVersionDryRun = (id: string, jobId: string) => this.http.json<Response>('PATCH', `/api/v2/templateversions/${enc(id)}/dry-run/${enc(jobId)}/cancel`);
  createTemplate = (org: string, req: CreateTemplateRequest) => this.http.json<Template>('POST', `/api/v2/organizations/${enc(org)}/templates`, { body: req });
  templates = (org: string) => this.http.json<Template[]>('GET', `/api/v2/organizations/${enc(org)}/templates`);
  templateByName = (org: string, name: string) => this.http.json<Template>('GET', `/api/v2/organizations/${enc(org)}/templates/${enc(name)}`);
  template = (id: string) => this.http.json<Template>('GET', `/api/v2/templates/${enc(id)}`);
  updateTemplate = (id: string, req: UpdateTemplateMeta) => this.http.json<Template>('PATCH', `/api/v2/templates/${enc(id)}`, { body: req });
  deleteTemplate = (id: string) => this.http.json<Response>('DELETE', `/api/v2/templates/${enc(id)}`);
  templateVersions = (id: string, q: TemplateVersionsQuery = {}) =>
    this.http.json<TemplateVersion[]>('GET', `/api/v2/templates/${enc(id)}/versions`, { query: q as Query });
  setActiveTemplateVersion = (templateId: string, versionId: string) =>
    this.http.json<Response>('PATCH', `/api/v2/templates/${enc(templateId)}/versions`, { body: { id: versionId } });

  // --- workspaces
  createWorkspace = (org: string, user: string, req: CreateWorkspaceRequest) =>
    this.http.json<Workspace>('POST', `/api/v2/organizations/${enc(org)}/members/${enc(user)}/workspaces`, { body: req });
  workspace = (id: string, opts: { deleted?: boolean } = {}) =>
    this.http.json<Workspace>('GET', `/api/v2/workspaces/${enc(id)}`, { query: { deleted: opts.deleted } });
  workspaces = (q: { q?: string; owner?: string; limit?: number; offset?: number } = {}) =>
    this.http.json<WorkspacesResponse>('GET', '/api/v2/workspaces', { query: q });
  workspaceByOwnerAndName = (owner: string, name: string, opts: { deleted?: boolean } = {}) =>
    this.http.json<Workspace>('GET', `/api/v2/users/${enc(owner)}/workspace/${enc(name)}`, { query: { include_deleted: opts.deleted } });
  updateWorkspaceTTL = (id: string, ttl_ms: number | null) => this.http.fetch('PUT', `/api/v2/workspaces/${enc(id)}/ttl`, { body: { ttl_ms } }).then(() => undefined);
  extendWorkspace = (id: string, deadline: string) => this.http.json<Response>('PUT', `/api/v2/workspaces/${enc(id)}/extend`, { body: { deadline } });

  // --- workspace builds
  createWorkspaceBuild = (workspaceId: string, req: CreateWorkspaceBuildRequest) =>
    this.http.json<WorkspaceBuild>('POST', `/api/v2/workspaces/${enc(workspaceId)}/builds`, { body: req });
  workspaceBuilds = (workspaceId: string, q: BuildListQuery = {}) =>
    this.http.json<WorkspaceBuild[]>('GET', `/api/v2/workspaces/${enc(workspaceId)}/builds`, { query: q as Query });
  workspaceBuild = (id: string) => this.http.json<WorkspaceBuild>('GET', `/api/v2/workspacebuilds/${enc(id)}`);
  workspaceBuildTimings = (id: string) => this.http.json<WorkspaceBuildTimings>('GET', `/api/v2/workspacebuilds/${enc(id)}/timings`);
  workspaceBuildByNumber = (user: string, workspace: string, buildNumber: number | string) =>
    this.http.json<WorkspaceBuild>('GET', `/api/v2/users/${enc(user)}/workspace/${enc(workspace)}/builds/${enc(String(buildNumber))}`);
  cancelWorkspaceBuild = (id: string, opts: { expect_status?: 'pending' | 'running' } = {}) =>
    this.http.json<Response>('PATCH', `/api/v2/workspacebuilds/${enc(id)}/cancel`, { query: opts });
  workspaceBuildLogs = (id: string, q: LogQuery = {}) =>
    this.http.json<ProvisionerJobLog[]>('GET', `/api/v2/workspacebuilds/${enc(id)}/logs`, { query: q as Query });
  followWorkspaceBuildLogs = (id: string, opts: FollowOptions = {}) =>
    followJsonLines<ProvisionerJobLog>(this.http, `/api/v2/workspacebuilds/${enc(id)}/logs`, opts);
  workspaceBuildResources = (id: string) => this.http.json<WorkspaceResource[]>('GET', `/api/v2/workspacebuilds/${enc(id)}/resources`);
  workspaceBuildState = async (id: string): Promise<Uint8Array> => {
    const res = await this.http.fetch('GET', `/api/v2/workspacebuilds/${enc(id)}/state`);
    return res.bytes();
  };

  // --- workspace agents (user side; the agent's own calls are in agentsdk.ts)
  workspaceAgent = (id: string) => this.http.json<WorkspaceAgent>('GET', `/api/v2/workspaceagents/${enc(id)}`);
  workspaceAgentStartupLogs = (id: string, q: LogQuery = {}) =>
    this.http.json<WorkspaceAgentStartupLog[]>('GET', `/api/v2/workspaceagents/${enc(id)}/startup-logs`, { query: q as Query });
  /** Follows the startup log; ends once the agent left `starting` and every line was sent. */
  followWorkspaceAgentStartupLogs = (id: string, opts: FollowOptions = {}) =>
    followJsonLines<WorkspaceAgentStartupLog>(this.http, `/api/v2/workspaceagents/${enc(id)}/startup-logs`, opts);

  // --- provisioners
  provisionerDaemons = (org: string, q: ProvisionerDaemonsQuery = {}) =>
    this.http.json<ProvisionerDaemon[]>('GET', `/api/v2/organizations/${enc(org)}/provisionerdaemons`, { query: q as Query });
  provisionerJobs = (org: string, q: ProvisionerDaemonsQuery = {}) =>
    this.http.json<ProvisionerJob[]>('GET', `/api/v2/organizations/${enc(org)}/provisionerjobs`, { query: q as Query });
  provisionerJob = (org: string, id: string) => this.http.json<ProvisionerJob>('GET', `/api/v2/organizations/${enc(org)}/provisionerjobs/${enc(id)}`);
  createProvisionerKey = (org: string, req: CreateProvisionerKeyRequest) =>
    this.http.json<CreateProvisionerKeyResponse>('POST', `/api/v2/organizations/${enc(org)}/provisionerkeys`, { body: req });
  provisionerKeys = (org: string) => this.http.json<ProvisionerKey[]>('GET', `/api/v2/organizations/${enc(org)}/provisionerkeys`);
  deleteProvisionerKey = (org: string, name: string) =>
    this.http.fetch('DELETE', `/api/v2/organizations/${enc(org)}/provisionerkeys/${enc(name)}`).then(() => undefined);
  replicas = () => this.http.json<Replica[]>('GET', '/api/v2/replicas');
}

function enc(s: string): string {
  return encodeURIComponent(s);
}
