import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmod, chown, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

import type { Agent, Provisioner, ProvisionContext, ProvisionRequest, ProvisionResult, Resource } from '../../provisionersdk/provisioner.js';

import { cgroupsAvailable, workspaceCgroup, type Limits, type WorkspaceCgroup } from './cgroups.js';
import { isRoot, releaseWorkspaceUid, workspaceGroup, workspaceUid } from './identity.js';
import { findSlirp, OUTBOUND_INSTALL_HINT, SLIRP_DNS, startOutbound } from './network.js';
import { belongsTo, launch, terminate } from './processes.js';
import { BWRAP_INSTALL_HINT, bwrapCommand, findBwrap, firstBlocked, prefixOf, SANDBOX_AGENT_SOCKET, SANDBOX_HOME, which } from './sandbox.js';
import { encodeState, parseState, type LocalAgentState, type LocalState } from './state.js';
import { expand, readLocalTemplate, TemplateError, type LocalTemplate } from './template.js';

export interface LocalProvisionerOptions {
  /** The server's data dir: workspaces live in `<dataDir>/workspaces/<workspace id>`. */
  dataDir: string;
  /** How to run `kiln agent` (e.g. [node, bin/kiln.js, 'agent']). */
  agentCommand: string[];
  /** Used when a job carries no access URL (imports). */
  accessUrl: string;
  /**
   * 'required' (default): every agent runs in a bwrap sandbox, and a build fails when bwrap cannot run here.
   * 'none': no sandbox at all (`kiln server --local-unsandboxed`, development only); every build says so.
   */
  sandbox?: 'required' | 'none';
  /** The directory holding the server's agent socket (src/api/agentSocket.ts); required with a sandbox. */
  agentSocketDir?: string;
  /** How long a stopping agent gets for its shutdown script before SIGKILL (default 10 s). */
  stopGraceMs?: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A failed build with its reason in the log, so the build's error and its log say the same thing. */
function fail(ctx: ProvisionContext, message: string, state?: LocalState): ProvisionResult {
  ctx.log('error', message);
  return { resources: [], error: message, ...(state ? { state: encodeState(state) } : {}) };
}

const mib = (bytes: number) => `${Math.round(bytes / (1024 * 1024))} MiB`;

/** The size of a directory tree in bytes (du: it does not follow symlinks out of the home). */
function du(dir: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    execFile('du', ['-s', '-x', '--block-size=1', dir], { timeout: 60_000 }, (err, out) => resolve(err ? undefined : Number(out.split('\t')[0])));
  });
}

/**
 * The `local` provisioner: a workspace is a home directory on this machine and one `kiln agent` per declared agent,
 * each in its own bwrap sandbox (sandbox.ts) under the workspace's own uid, in the workspace's cgroup (limits and
 * process tracking). Everything on the host derives from the workspace id and the server's own files, never from the
 * build state, which users can replace (`kiln state push`). Agents run detached, so they outlive a server restart.
 * Start (re)launches agents, stop ends every process of the workspace and keeps the home, delete also removes the
 * workspace's directory; each is idempotent and logs what it does.
 */
export class LocalProvisioner implements Provisioner {
  constructor(private readonly o: LocalProvisionerOptions) {}

  get #sandboxed(): boolean {
    return this.o.sandbox !== 'none';
  }

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
      return { resources: this.#resources(template, req, { agents: true, home: SANDBOX_HOME }), parameters: template.richParameters };
    }
    if (req.dry_run) {
      // Plan only: what the transition would leave, without touching a process or a directory.
      ctx.log('info', `Dry run: nothing is ${req.phase === 'start' ? 'started' : req.phase === 'stop' ? 'stopped' : 'removed'}`);
      return { resources: req.phase === 'delete' ? [] : this.#resources(template, req, { agents: req.phase === 'start', home: SANDBOX_HOME }) };
    }
    const id = req.metadata.workspace_id ?? '';
    if (!UUID.test(id)) return fail(ctx, `the job names no valid workspace id ("${id}"): cannot locate the workspace`);
    if (!this.#sandboxed) ctx.log('warn', 'UNSANDBOXED: this server runs with --local-unsandboxed (development only): the workspace runs as the server\'s user with full access to this machine and its network');
    const dir = path.join(this.o.dataDir, 'workspaces', id);
    // The state keeps tokens and the pids of running agents; where things live comes from the id alone.
    const previous = parseState(req.state);
    const state: LocalState = { version: 1, dir, home: path.join(dir, 'home'), agents: previous?.agents ?? [] };
    if (previous && (previous.dir !== state.dir || previous.home !== state.home)) {
      ctx.log('warn', `The build state names other directories (${JSON.stringify(previous.dir)}); they are ignored: a workspace's directory derives from its id`);
    }
    // Looked up, not created: stop and delete of a workspace that never ran leave no trace.
    const cgroup = await workspaceCgroup(id, false).catch(() => undefined);
    switch (req.phase) {
      case 'start':
        return this.#start(template, req, ctx, state, id, cgroup);
      case 'stop':
        await this.#stopAll(state, ctx, id, cgroup, true);
        return { resources: this.#resources(template, req, { agents: false, state, home: '' }), state: encodeState(state) };
      case 'delete':
        await this.#stopAll(state, ctx, id, cgroup, true);
        ctx.log('info', `Removing ${dir}`);
        await rm(dir, { recursive: true, force: true });
        if (isRoot()) await releaseWorkspaceUid(this.o.dataDir, id);
        return { resources: [] };
    }
  }

  /** Directories: the data dir and workspaces/ traversable (not listable) by workspace uids, the home theirs alone. */
  async #prepareHome(home: string, owner: { uid: number; gid: number } | undefined, ctx: ProvisionContext): Promise<void> {
    const dir = path.dirname(home);
    const existed = await stat(home).then(() => true, () => false);
    ctx.log('info', existed ? `Using the existing home ${home}` : `Creating the home ${home}`);
    await mkdir(home, { recursive: true, mode: 0o700 });
    if (owner) {
      // bwrap runs as the workspace's uid and must reach the home to bind it: search permission only, no listing.
      for (const d of [this.o.dataDir, path.join(this.o.dataDir, 'workspaces'), dir]) await chmod(d, ((await stat(d)).mode & 0o777) | 0o011);
      await chown(home, owner.uid, owner.gid);
    }
    await chmod(home, 0o700);
  }

  async #start(template: LocalTemplate, req: ProvisionRequest, ctx: ProvisionContext, state: LocalState, id: string, cgroup: WorkspaceCgroup | undefined): Promise<ProvisionResult> {
    let bwrap: string | undefined;
    let slirp: string | undefined;
    if (this.#sandboxed) {
      bwrap = await findBwrap();
      if (!bwrap) return fail(ctx, BWRAP_INSTALL_HINT, state);
      if (!this.o.agentSocketDir) return fail(ctx, 'the server serves no agent socket, which sandboxed workspaces need to reach it', state);
      if (template.network === 'outbound') {
        slirp = await findSlirp();
        if (!slirp) return fail(ctx, OUTBOUND_INSTALL_HINT, state);
      }
    }
    const owner = bwrap && isRoot() ? { uid: await workspaceUid(this.o.dataDir, id), gid: await workspaceGroup() } : undefined;
    const needs = this.o.agentCommand.filter((p) => path.isAbsolute(p)).map(prefixOf);
    await this.#prepareHome(state.home, owner, ctx);
    if (owner) {
      if (!(await which('setpriv'))) return fail(ctx, 'setpriv (util-linux) is needed to run workspaces under their own uid and is not on this server\'s PATH: install util-linux', state);
      for (const p of [...needs, this.o.agentSocketDir as string]) {
        const blocked = await firstBlocked(p, owner.uid, owner.gid);
        if (blocked) {
          return fail(ctx, `workspaces run as their own uid and cannot reach ${p}: ${blocked} is closed to other users. Install kiln (and Node) where every user may read them (e.g. /opt/kiln), or allow passage: chmod o+x ${blocked}`, state);
        }
      }
    }
    // Start of a running workspace restarts its agents: they pick up the new build's scripts.
    await this.#stopAll(state, ctx, id, cgroup);
    const limitsLine = describeLimits(template.limits);
    cgroup = await workspaceCgroup(id).catch(() => undefined);
    if (cgroup) {
      await cgroup.apply(template.limits);
      ctx.log('info', `Limits (cgroup v${cgroup.version}): ${limitsLine}`);
    } else {
      const why = await cgroupsAvailable();
      ctx.log('warn', `Limits NOT enforced (${why.ok ? 'the cgroup could not be created' : why.why}); the template asks for ${limitsLine}`);
    }
    if (bwrap) {
      ctx.log('info', `Sandbox: bwrap, ${owner ? `host uid ${owner.uid}` : 'the server\'s uid'}, own network namespace (${template.network === 'outbound' ? 'outbound through slirp4netns' : 'no outbound network'})`);
    } else if (template.network === 'outbound') ctx.log('info', 'network: "outbound" has no effect without a sandbox: the workspace shares the host\'s network');
    const tokens = new Map(state.agents.map((a) => [a.name, a.token]));
    state.agents = template.agents.map((a) => ({ name: a.name, token: tokens.get(a.name) ?? randomUUID() }));
    const accessUrl = req.metadata.access_url || this.o.accessUrl;
    let resolvConf: string | undefined;
    if (slirp) {
      resolvConf = path.join(state.dir, 'resolv.conf');
      await writeFile(resolvConf, `nameserver ${SLIRP_DNS}\n`, { mode: 0o644 });
    }
    for (const a of state.agents) {
      if (ctx.signal.aborted) {
        await this.#stopAll(state, ctx, id, cgroup);
        return { resources: [], state: encodeState(state), error: 'canceled' };
      }
      a.log = path.join(state.dir, `agent-${a.name}.log`);
      a.sandboxed = !!bwrap;
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
        LANG: process.env.LANG ?? 'C.UTF-8',
        HOME: bwrap ? SANDBOX_HOME : state.home,
        USER: req.metadata.workspace_owner ?? 'kiln',
        KILN_AGENT_URL: accessUrl,
        KILN_AGENT_TOKEN: a.token,
        // How stop and delete recognise this workspace's processes (processes.ts belongsTo).
        KILN_WORKSPACE_ID: id,
      };
      if (bwrap) env.KILN_AGENT_SOCKET = SANDBOX_AGENT_SOCKET;
      const command = bwrap
        ? await bwrapCommand({
            bwrap,
            home: state.home,
            needs,
            hide: [this.o.dataDir],
            agentDir: this.o.agentSocketDir as string,
            hostname: (req.metadata.workspace_name ?? 'workspace').slice(0, 63),
            resolvConf,
            allowNestedUserns: !!slirp && !isRoot(),
            command: this.o.agentCommand,
          })
        : this.o.agentCommand;
      try {
        const p = await launch({ command, env, cwd: state.home, logFile: a.log, infoFd: !!bwrap, runAs: owner, cgroupProcs: cgroup?.procsFiles });
        a.pid = p.pid;
        a.start = p.start;
        if (slirp) await startOutbound({ slirp, pid: p.pid, logFile: path.join(state.dir, `network-${a.name}.log`), cgroupProcs: cgroup?.procsFiles });
      } catch (e) {
        const message = `agent ${a.name} did not start: ${(e as Error).message}`;
        await this.#stopAll(state, ctx, id, cgroup);
        return fail(ctx, message, state);
      }
      ctx.log('info', `Started agent ${a.name} (pid ${a.pid}) ${bwrap ? 'in a bwrap sandbox, home at ' + SANDBOX_HOME : 'WITHOUT a sandbox'}; its log: ${a.log}`);
    }
    await this.#checkDisk(state.home, template.limits, ctx);
    return { resources: this.#resources(template, req, { agents: true, state, home: bwrap ? SANDBOX_HOME : state.home }), state: encodeState(state) };
  }

  /** The home's size against `limits.disk_mb`: reported by every start, a warning when over (not enforced). */
  async #checkDisk(home: string, limits: Limits, ctx: ProvisionContext): Promise<void> {
    const used = await du(home);
    if (used === undefined) {
      ctx.log('warn', `Disk: could not measure ${home}`);
      return;
    }
    const limit = limits.diskMb * 1024 * 1024;
    if (used > limit) ctx.log('warn', `Disk: the home uses ${mib(used)}, over its ${mib(limit)} limit (limits.disk_mb); free space in it`);
    else ctx.log('info', `Disk: the home uses ${mib(used)} of ${mib(limit)}`);
  }

  /**
   * Ends this workspace's processes: first each recorded agent that really is ours (shutdown script, SIGTERM, then
   * SIGKILL), then whatever is left in the workspace's cgroup. A pid from the state is never signalled unless it
   * belongs to this workspace (processes.ts belongsTo).
   */
  async #stopAll(state: LocalState, ctx: ProvisionContext, id: string, cgroup: WorkspaceCgroup | undefined, sayNone = false): Promise<void> {
    const members = cgroup ? await cgroup.pids() : undefined;
    const running: LocalAgentState[] = [];
    for (const a of state.agents) {
      if (a.pid === undefined && a.start === undefined) continue;
      if (await belongsTo({ pid: a.pid as number, start: a.start as string }, id, members)) running.push(a);
      else if (a.pid !== undefined) ctx.log('info', `Agent ${a.name}: pid ${String(a.pid)} from the build state is not a process of this workspace; not signalled`);
    }
    if (running.length === 0 && (members?.length ?? 0) === 0 && sayNone) ctx.log('info', 'No agent is running: nothing to stop');
    await Promise.all(
      running.map(async (a) => {
        ctx.log('info', `Stopping agent ${a.name} (pid ${a.pid}): SIGTERM, SIGKILL after ${(this.o.stopGraceMs ?? 10_000) / 1000} s`);
        const how = await terminate({ pid: a.pid as number, start: a.start as string }, this.o.stopGraceMs ?? 10_000, !a.sandboxed);
        ctx.log(how === 'killed' ? 'warn' : 'info', `Agent ${a.name} ${how === 'killed' ? 'did not stop in time and was killed' : 'stopped'}`);
      }),
    );
    if (cgroup) {
      const left = await cgroup.pids();
      if (left.length) ctx.log('info', `Ending ${left.length} remaining process(es) of the workspace`);
      await cgroup.destroy();
    }
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
    // Parameters override the template's env defaults: they are what the workspace's creator chose. Only names the
    // template declares become variables (checked at import), so no value can set BASH_ENV, LD_PRELOAD or PATH.
    const fromParams: Record<string, string> = {};
    for (const [param, envName] of Object.entries(t.parameters)) {
      const v = params.get(param);
      if (v) fromParams[envName] = v.value;
    }
    const rich = new Map((req.richParameters ?? []).map((p) => [p.name, p.value]));
    for (const p of t.richParameters) {
      const v = rich.get(p.name);
      if (v !== undefined) fromParams[p.name] = v;
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

function describeLimits(l: Limits): string {
  return `memory ${l.memoryMb} MiB, ${l.pids} processes, ${l.cpus} CPU, home ${l.diskMb} MiB (checked)`;
}
