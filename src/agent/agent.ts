import os from 'node:os';
import path from 'node:path';

import { coerceError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { AgentClient } from '../sdk/agentsdk.js';
import type { WorkspaceAgentMetadata } from '../sdk/types/workspaceAgents.js';
import type { WorkspaceAgentLifecycle } from '../sdk/types/workspaceBuilds.js';

import { Connection } from './connection.js';
import { HealthReporter } from './health.js';
import { LogSender } from './logSender.js';
import { PtySessions, type PtyEnvironment } from './pty.js';
import { SshServer } from './ssh.js';
import { retry } from './retry.js';
import { runScript, type ScriptResult } from './script.js';

export interface AgentOptions {
  url: string;
  token: string;
  /** The server's agent API on a unix socket (sandboxed workspaces); `url` then only names paths. */
  socketPath?: string;
  version: string;
  logger: Logger;
}

/**
 * The workspace agent (Coder's `agent`): stays connected, fetches its metadata, runs the startup script with the
 * workspace's environment while streaming its output as startup logs, reports lifecycle and app health, and on
 * `shutdown()` runs the shutdown script and reports `off`.
 */
export class Agent {
  readonly client: AgentClient;
  readonly #log: Logger;
  readonly #stop = new AbortController();
  readonly #conn: Connection;
  readonly #health: HealthReporter;
  readonly #logs: LogSender;
  readonly #ptys: PtySessions;
  #ssh: SshServer | undefined;
  #meta: WorkspaceAgentMetadata | undefined;
  #startup: Promise<void> | undefined;

  constructor(private readonly o: AgentOptions) {
    this.client = new AgentClient(o.url, o.token, { socketPath: o.socketPath });
    this.#log = o.logger;
    const environment: PtyEnvironment = { cwd: () => expandHome(this.#meta?.directory || '~'), env: () => this.#workspaceEnv() };
    this.#ptys = new PtySessions(environment, o.logger);
    this.#conn = new Connection(this.client, o.logger, {
      pty: (spec) => this.#ptys.open(spec),
      // The SSH server (and its host key) exists from the first SSH connection on.
      ssh: () => (this.#ssh ??= new SshServer(environment, o.logger)).open(),
    });
    this.#health = new HealthReporter(this.client, o.logger);
    this.#logs = new LogSender(this.client, o.logger, this.#stop.signal);
  }

  /** Connects and runs the startup script; resolves once startup is over (the agent keeps running after). */
  start(): Promise<void> {
    this.#conn.start();
    this.#startup ??= this.#run();
    return this.#startup;
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    const onError = (what: string) => (e: unknown, attempt: number) => {
      if (attempt % 10 === 0) this.#log.warn({ err: coerceError(e).message }, `${what}; retrying`);
    };
    this.#meta = await retry(() => this.client.metadata(signal), signal, onError('could not fetch metadata'));
    if (!this.#meta) return;
    void retry(() => this.client.postVersion(this.o.version), signal).catch((e: unknown) => this.#log.warn({ err: coerceError(e).message }, 'version rejected'));
    this.#health.start(this.#meta.apps);
    const script = this.#meta.startup_script;
    if (!script.trim()) {
      await this.#report('ready');
      return;
    }
    await this.#report('starting');
    const r = await this.#runScript(script, this.#meta.startup_script_timeout_seconds);
    const state: WorkspaceAgentLifecycle = r.timedOut ? 'start_timeout' : r.code === 0 ? 'ready' : 'start_error';
    if (state !== 'ready') this.#logs.add(describeFailure('startup', r, this.#meta.startup_script_timeout_seconds), 'error');
    // Every line reaches the server before the lifecycle says the script is over: a follower ends on that change.
    await this.#logs.flush();
    await this.#report(state);
  }

  async #runScript(script: string, timeoutS: number): Promise<ScriptResult> {
    const meta = this.#meta as WorkspaceAgentMetadata;
    const cwd = expandHome(meta.directory || '~');
    return runScript(script, {
      cwd,
      env: this.#workspaceEnv(),
      timeoutMs: timeoutS * 1000,
      onLine: (line, stream) => this.#logs.add(line, stream === 'stderr' ? 'error' : 'info'),
    });
  }

  /** The environment of scripts and terminals: the agent's, plus the workspace's variables, minus the agent's secrets. */
  #workspaceEnv(): NodeJS.ProcessEnv {
    const env = { ...process.env, ...this.#meta?.environment_variables };
    delete env.KILN_AGENT_TOKEN;
    delete env.KILN_AGENT_SOCKET;
    delete env.CODER_AGENT_TOKEN;
    return env;
  }

  async #report(state: WorkspaceAgentLifecycle): Promise<void> {
    this.#log.info({ state }, 'lifecycle');
    try {
      await retry(() => this.client.reportLifecycle(state), this.#stop.signal);
    } catch (e) {
      this.#log.warn({ err: coerceError(e).message, state }, 'could not report lifecycle');
    }
  }

  /** SIGTERM: the shutdown script, then `off` (or why not), then the connection is closed. */
  async shutdown(): Promise<void> {
    this.#health.stop();
    const meta = this.#meta;
    let final: WorkspaceAgentLifecycle = 'off';
    if (meta?.shutdown_script.trim()) {
      await this.#report('shutting_down');
      const r = await this.#runScript(meta.shutdown_script, meta.shutdown_script_timeout_seconds);
      if (r.timedOut) final = 'shutdown_timeout';
      else if (r.code !== 0) final = 'shutdown_error';
      if (final !== 'off') this.#logs.add(describeFailure('shutdown', r, meta.shutdown_script_timeout_seconds), 'error');
      await this.#logs.flush();
    }
    await this.#report(final);
    this.#ptys.closeAll();
    this.#stop.abort();
    await this.#conn.stop();
  }
}

function describeFailure(which: string, r: ScriptResult, timeoutS: number): string {
  if (r.error) return `kiln agent: the ${which} script could not start: ${r.error}`;
  if (r.timedOut) return `kiln agent: the ${which} script ran longer than ${timeoutS} s and was stopped`;
  return `kiln agent: the ${which} script exited with ${r.code === null ? 'a signal' : `code ${r.code}`}`;
}

function expandHome(dir: string): string {
  if (dir === '~') return os.homedir();
  if (dir.startsWith('~/')) return path.join(os.homedir(), dir.slice(2));
  return dir;
}
