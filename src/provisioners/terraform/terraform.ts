import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import type { LogLevel, Provisioner, ProvisionContext, ProvisionRequest, ProvisionResult, Resource } from '../../provisionersdk/provisioner.js';

import { declarationEnv, declarationsFromPlan } from './declarations.js';
import { provisionEnv, provisionVars } from './env.js';
import { flattenModule, graphFromConfig, graphFromState, labelOf, type ConfigModule, type JsonModule } from './graph.js';
import { convertJsonLine, summarizeTextErrors, type Diagnostic } from './jsonLog.js';
import { prepareCoderProvider } from './provider/install.js';
import { convertResources } from './resources.js';
import { runTerraform, type RunResult } from './run.js';

export interface TerraformProvisionerOptions {
  /** The terraform binary (found and version-checked by findTerraform). */
  terraform: string;
  /** Providers downloaded once are kept here and shared by every job (`plugin_cache_dir`). */
  pluginCacheDir: string;
  /** Used when a job carries no access URL (imports). */
  accessUrl: string;
  /** After a cancel, how long Terraform gets between SIGINT and SIGKILL (default 30 s). */
  cancelGraceMs?: number;
  /** Resolve coder/coder from the registry instead of kiln's own provider. */
  useRegistry?: boolean;
  /** The node binary kiln's provider runs with (default: this process's). */
  nodePath?: string;
}

const STATE_FILE = 'terraform.tfstate';
const PLAN_FILE = 'terraform.tfplan';
/** Coder's stage names for the two plans of an import. */
const IMPORT_STAGES = { start: 'Detecting persistent resources', stop: 'Detecting ephemeral resources' } as const;

class TerraformFailed extends Error {}

/**
 * The `terraform` provisioner (Coder's provisioner/terraform): runs the template's Terraform in the job's directory.
 * An import plans `start` and `stop` to learn what each creates; a build plans its transition (a destroy for `delete`)
 * and applies the plan, storing the state Terraform leaves even when the apply fails or is canceled; a dry run only
 * plans. Cancel sends SIGINT, then SIGKILL after the grace period.
 */
export class TerraformProvisioner implements Provisioner {
  constructor(private readonly o: TerraformProvisionerOptions) {}

  async provision(req: ProvisionRequest, ctx: ProvisionContext): Promise<ProvisionResult> {
    const job = new TerraformJob(this.o, req, ctx);
    try {
      return await job.run();
    } catch (e) {
      if (!(e instanceof TerraformFailed)) throw e;
      const canceled = ctx.signal.aborted;
      // Whatever Terraform managed to create is in the state file: keep it, so nothing is forgotten.
      const state = req.phase === 'import' || req.dry_run ? undefined : await readFile(path.join(req.directory, STATE_FILE)).catch(() => undefined);
      return { resources: [], state: state && new Uint8Array(state), error: canceled ? 'canceled' : e.message };
    }
  }
}

class TerraformJob {
  readonly #env: Promise<Record<string, string>>;

  constructor(
    private readonly o: TerraformProvisionerOptions,
    private readonly req: ProvisionRequest,
    private readonly ctx: ProvisionContext,
  ) {
    this.#env = prepareCoderProvider({ workDir: req.directory, pluginCacheDir: o.pluginCacheDir, nodePath: o.nodePath, useRegistry: o.useRegistry }).then((p) => p.env);
  }

  async run(): Promise<ProvisionResult> {
    const { req, ctx } = this;
    if (req.phase === 'delete' && req.state.length === 0 && !req.dry_run) {
      ctx.log('info', 'The terraform state does not exist, there is nothing to do');
      return { resources: [] };
    }
    if (req.state.length > 0) await writeFile(path.join(req.directory, STATE_FILE), req.state, { mode: 0o600 });
    await this.#init();
    if (req.phase === 'import') {
      const start = await this.#plan('start', IMPORT_STAGES.start);
      const stop = await this.#plan('stop', IMPORT_STAGES.stop);
      // The provider has read every coder_parameter while planning: the start plan carries what the template declares.
      const { parameters, variables } = declarationsFromPlan(start.plan, new Set((req.variables ?? []).map((v) => v.name)));
      return { resources: start.resources, stop_resources: stop.resources, parameters, variables };
    }
    const planned = await this.#plan(req.phase);
    if (req.dry_run) return { resources: planned.resources };
    await this.#terraform(req.phase, 'apply', ['apply', '-json', '-no-color', '-input=false', '-auto-approve', PLAN_FILE]);
    const state = await readFile(path.join(req.directory, STATE_FILE)).catch(() => Buffer.alloc(0));
    return { resources: await this.#stateResources(), state: new Uint8Array(state) };
  }

  async #init(): Promise<void> {
    // `init -json` needs terraform 1.9: its text output is logged line by line; errors come on stderr.
    const errors: string[] = [];
    const r = await this.#exec('start', ['init', '-no-color', '-input=false'], {
      onStdout: (l) => this.ctx.log('info', l),
      onStderr: (l) => {
        this.ctx.log('error', l);
        errors.push(l);
      },
    });
    if (this.ctx.signal.aborted) throw new TerraformFailed('canceled');
    if (r.code !== 0) throw new TerraformFailed(`terraform init: ${summarizeTextErrors(errors) ?? exitText(r)}`);
  }

  /** Plans the transition into PLAN_FILE and returns the resources the plan would leave, and the plan itself. */
  async #plan(transition: 'start' | 'stop' | 'delete', stage?: string): Promise<{ resources: Resource[]; plan: unknown }> {
    const args = ['plan', '-json', '-no-color', '-input=false', `-out=${PLAN_FILE}`, ...provisionVars(this.req)];
    if (transition === 'delete') args.push('-destroy');
    if (stage) this.ctx.log('info', `Planning the ${transition} transition`, stage);
    await this.#terraform(transition, 'plan', args, stage);
    const show = await this.#exec(transition, ['show', '-json', '-no-color', PLAN_FILE], { captureStdout: true, onStderr: (l) => this.ctx.log('error', l, stage) });
    if (show.code !== 0) throw new TerraformFailed(`terraform show: ${exitText(show)}`);
    const plan = JSON.parse(show.stdout) as { planned_values?: { root_module?: JsonModule }; configuration?: { root_module?: ConfigModule } };
    const all = flattenModule(plan.planned_values?.root_module);
    return { resources: convertResources(all, graphFromConfig(plan.configuration?.root_module, new Set(all.map((r) => labelOf(r.address))))), plan };
  }

  async #stateResources(): Promise<Resource[]> {
    const show = await this.#exec(this.req.phase as 'start', ['show', '-json', '-no-color'], { captureStdout: true, onStderr: (l) => this.ctx.log('error', l) });
    if (show.code !== 0) throw new TerraformFailed(`terraform show: ${exitText(show)}`);
    const state = JSON.parse(show.stdout) as { values?: { root_module?: JsonModule } };
    const all = flattenModule(state.values?.root_module);
    return convertResources(all, graphFromState(all));
  }

  /** A `-json` command: each output line becomes log lines; error diagnostics make the failure's message. */
  async #terraform(transition: 'start' | 'stop' | 'delete', what: string, args: string[], stage?: string): Promise<void> {
    const errors: Diagnostic[] = [];
    const log = (level: LogLevel, output: string) => this.ctx.log(level, output, stage);
    const r = await this.#exec(transition, args, {
      onStdout: (line) => {
        const c = convertJsonLine(line, 'info');
        if (c.diagnostic?.severity === 'error') errors.push(c.diagnostic);
        for (const l of c.lines) log(l.level, l.output);
      },
      onStderr: (line) => log('error', line),
    });
    if (this.ctx.signal.aborted) throw new TerraformFailed('canceled');
    if (r.code !== 0) {
      const first = errors[0];
      throw new TerraformFailed(`terraform ${what}: ${first ? `${first.summary}${first.detail ? `: ${first.detail}` : ''}` : exitText(r)}`);
    }
  }

  async #exec(transition: 'start' | 'stop' | 'delete', args: string[], io: { onStdout?: (l: string) => void; onStderr?: (l: string) => void; captureStdout?: boolean }): Promise<RunResult> {
    const env = { ...provisionEnv(this.req, transition, this.o.accessUrl), ...declarationEnv(this.req), ...(await this.#env) };
    return runTerraform({ terraform: this.o.terraform, args, cwd: this.req.directory, env, signal: this.ctx.signal, graceMs: this.o.cancelGraceMs ?? 30_000, ...io });
  }
}

function exitText(r: RunResult): string {
  return r.killed ? 'killed after the cancel grace period' : r.signal ? `ended by ${r.signal}` : `exit status ${r.code}`;
}
