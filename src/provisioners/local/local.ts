import { randomUUID } from 'node:crypto';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';

import type { Agent, Provisioner, ProvisionContext, ProvisionRequest, ProvisionResult, Resource } from '../../provisionersdk/provisioner.js';

import { isAlive, launch, terminate } from './processes.js';
import { bwrapCommand, findBwrap, prefixOf, SANDBOX_HOME } from './sandbox.js';
import { encodeState, parseState, type LocalAgentState, type LocalState } from './state.js';
import { expand, readLocalTemplate, TemplateError, type LocalTemplate } from './template.js';

export interface LocalProvisionerOptions {
  /** The server's data dir: workspaces live in `<dataDir>/workspaces/<owner>/<workspace>`. */
  dataDir: string;
  /** How to run `kiln agent` (e.g. [node, bin/kiln.js, 'agent']). */
  agentCommand: string[];
  /** Used when a job carries no access URL (imports). */
  accessUrl: string;
  /** 'auto' uses bwrap when it works here; 'none' never sandboxes (tests of the fallback). */
  sandbox?: 'auto' | 'none';
  /** How long a stopping agent gets for its shutdown script before SIGKILL (default 10 s). */
  stopGraceMs?: number;
}

/** Path components must stay components: names come from users. */
function safeName(s: string | undefined, what: string): string {
  if (!s || s === '.' || s === '..' || /[/\\\0]/.test(s)) throw new TemplateError(`cannot use ${what} "${s ?? ''}" as a directory name`);
  return s;
}

/**
 * The `local` provisioner: a workspace is a home directory on this machine and one `kiln agent` per declared agent,
 * each in a bwrap sandbox (read-only root, the home writable at /home/kiln, its own PID namespace). Agents run
 * detached, so they outlive a server restart. Start (re)launches agents, stop ends them and keeps the home, delete
 * ends them and removes the workspace's directory; each is idempotent and logs what it does.
 */
export class LocalProvisioner implements Provisioner {
  constructor(private readonly o: LocalProvisionerOptions) {}

  async provision(req: ProvisionRequest, ctx: ProvisionContext): Promise<ProvisionResult> {
    let template: LocalTemplate;
    try {
      template = await readLocalTemplate(req.directory);
    } catch (e) {
      if (e instanceof TemplateError) return { resources: [], error: e.message };
      throw e;
    }
    if (req.phase === 'import') {
      ctx.log('info', `kiln.json: ${template.agents.length} agent(s): ${template.agents.map((a) => a.name).join(', ') || 'none'}`);
      return { resources: this.#resources(template, req, { agents: true, home: SANDBOX_HOME }) };
    }
    if (req.dry_run) {
      // Plan only: what the transition would leave, without touching a process or a directory.
      ctx.log('info', `Dry run: nothing is ${req.phase === 'start' ? 'started' : req.phase === 'stop' ? 'stopped' : 'removed'}`);
      return { resources: req.phase === 'delete' ? [] : this.#resources(template, req, { agents: req.phase === 'start', home: SANDBOX_HOME }) };
    }
    let state = parseState(req.state);
    try {
      state ??= this.#freshState(req);
    } catch (e) {
      if (e instanceof TemplateError) return { resources: [], error: e.message };
      throw e;
    }
    switch (req.phase) {
      case 'start':
        return this.#start(template, req, ctx, state);
      case 'stop':
        await this.#stopAgents(state, ctx, true);
        return { resources: this.#resources(template, req, { agents: false, state, home: '' }), state: encodeState(state) };
      case 'delete':
        await this.#stopAgents(state, ctx, true);
        ctx.log('info', `Removing ${state.dir}`);
        await rm(state.dir, { recursive: true, force: true });
        return { resources: [] };
    }
  }

  #freshState(req: ProvisionRequest): LocalState {
    const owner = safeName(req.metadata.workspace_owner, 'owner name');
    const name = safeName(req.metadata.workspace_name, 'workspace name');
    const dir = path.join(this.o.dataDir, 'workspaces', owner, name);
    return { version: 1, dir, home: path.join(dir, 'home'), agents: [] };
  }

  async #start(template: LocalTemplate, req: ProvisionRequest, ctx: ProvisionContext, state: LocalState): Promise<ProvisionResult> {
    const existed = await stat(state.home).then(() => true, () => false);
    ctx.log('info', existed ? `Using the existing home ${state.home}` : `Creating the home ${state.home}`);
    await mkdir(state.home, { recursive: true, mode: 0o755 });
    // Start of a running workspace restarts its agents: they pick up the new build's scripts.
    await this.#stopAgents(state, ctx);
    const bwrap = this.o.sandbox === 'none' ? undefined : await findBwrap();
    if (!bwrap) ctx.log('warn', 'bwrap is not available: the agents run UNSANDBOXED, with the server user\'s full access to this machine');
    const homeInside = bwrap ? SANDBOX_HOME : state.home;
    const tokens = new Map(state.agents.map((a) => [a.name, a.token]));
    state.agents = template.agents.map((a) => ({ name: a.name, token: tokens.get(a.name) ?? randomUUID() }));
    const accessUrl = req.metadata.access_url || this.o.accessUrl;
    for (const a of state.agents) {
      if (ctx.signal.aborted) {
        await this.#stopAgents(state, ctx);
        return { resources: [], state: encodeState(state), error: 'canceled' };
      }
      a.log = path.join(state.dir, `agent-${a.name}.log`);
      a.sandboxed = !!bwrap;
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
        LANG: process.env.LANG ?? 'C.UTF-8',
        HOME: homeInside,
        USER: req.metadata.workspace_owner ?? 'kiln',
        KILN_AGENT_URL: accessUrl,
        KILN_AGENT_TOKEN: a.token,
      };
      const command = bwrap
        ? bwrapCommand({ bwrap, home: state.home, needs: this.o.agentCommand.filter((p) => path.isAbsolute(p)).map(prefixOf), command: this.o.agentCommand })
        : this.o.agentCommand;
      try {
        const p = await launch({ command, env, cwd: state.home, logFile: a.log, infoFd: !!bwrap });
        a.pid = p.pid;
        a.start = p.start;
      } catch (e) {
        ctx.log('error', `Could not start agent ${a.name}: ${(e as Error).message}`);
        await this.#stopAgents(state, ctx);
        return { resources: [], state: encodeState(state), error: `agent ${a.name} did not start: ${(e as Error).message}` };
      }
      ctx.log('info', `Started agent ${a.name} (pid ${a.pid}) ${bwrap ? 'in a bwrap sandbox, home at ' + SANDBOX_HOME : 'without a sandbox'}; its log: ${a.log}`);
    }
    return { resources: this.#resources(template, req, { agents: true, state, home: homeInside }), state: encodeState(state) };
  }

  /** Ends every recorded agent; a workspace already stopped logs so and does nothing. */
  async #stopAgents(state: LocalState, ctx: ProvisionContext, sayNone = false): Promise<void> {
    const running: LocalAgentState[] = [];
    for (const a of state.agents) if (a.pid && a.start && (await isAlive({ pid: a.pid, start: a.start }))) running.push(a);
    if (running.length === 0 && sayNone) ctx.log('info', 'No agent is running: nothing to stop');
    await Promise.all(
      running.map(async (a) => {
        ctx.log('info', `Stopping agent ${a.name} (pid ${a.pid}): SIGTERM, SIGKILL after ${(this.o.stopGraceMs ?? 10_000) / 1000} s`);
        const how = await terminate({ pid: a.pid as number, start: a.start as string }, this.o.stopGraceMs ?? 10_000, !a.sandboxed);
        ctx.log(how === 'killed' ? 'warn' : 'info', `Agent ${a.name} ${how === 'killed' ? 'did not stop in time and was killed' : 'stopped'}`);
      }),
    );
    for (const a of state.agents) {
      delete a.pid;
      delete a.start;
    }
  }

  /** One resource for the workspace, with its agents while it runs; the home directory is reported as metadata. */
  #resources(t: LocalTemplate, req: ProvisionRequest, o: { agents: boolean; state?: LocalState; home: string }): Resource[] {
    const { state, home } = o;
    const params = new Map(req.parameters.map((p) => [p.name, p]));
    const base: Record<string, string> = {
      KILN_WORKSPACE_NAME: req.metadata.workspace_name ?? '',
      KILN_WORKSPACE_OWNER: req.metadata.workspace_owner ?? '',
      KILN_WORKSPACE_ID: req.metadata.workspace_id ?? '',
    };
    // Parameters override the template's env defaults: they are what the workspace's creator chose.
    const fromParams: Record<string, string> = {};
    for (const p of req.parameters) if (p.destination_scheme === 'environment_variable') fromParams[p.name] = p.value;
    for (const [param, envName] of Object.entries(t.parameters)) {
      const v = params.get(param);
      if (v) fromParams[envName] = v.value;
    }
    const agents: Agent[] = o.agents
      ? t.agents.map((a) => {
          const env: Record<string, string> = { ...base, KILN_AGENT_NAME: a.name };
          for (const [k, v] of Object.entries(a.env ?? {})) env[k] = fromParams[k] ?? expand(v, { ...env, ...fromParams });
          Object.assign(env, fromParams);
          const dir = !a.directory || a.directory === '~' ? home : a.directory.startsWith('~/') ? path.posix.join(home, a.directory.slice(2)) : path.posix.resolve(home, a.directory);
          return {
            name: a.name,
            auth_token: state?.agents.find((s) => s.name === a.name)?.token,
            operating_system: 'linux',
            architecture: process.arch === 'x64' ? 'amd64' : process.arch,
            directory: dir,
            environment_variables: env,
            startup_script: a.startup_script,
            startup_script_timeout_seconds: a.startup_script_timeout_seconds,
            shutdown_script: a.shutdown_script,
            connection_timeout_seconds: a.connection_timeout_seconds,
            apps: (a.apps ?? []).map((app) => ({
              ...app,
              url: app.url === undefined ? undefined : expand(app.url, env),
              healthcheck: app.healthcheck && { ...app.healthcheck, url: app.healthcheck.url === undefined ? undefined : expand(app.healthcheck.url, env) },
            })),
          };
        })
      : [];
    const metadata = [...t.metadata.map((m) => ({ key: m.key, value: m.value, sensitive: m.sensitive ?? false }))];
    if (state) metadata.push({ key: 'home', value: state.home, sensitive: false });
    return [{ name: 'workspace', type: 'local_workspace', agents, metadata }];
  }
}
