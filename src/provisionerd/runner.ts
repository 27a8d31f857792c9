import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { backoffDelay, sleep } from '../lib/backoff.js';
import type { Clock } from '../lib/clock.js';
import { coerceError, isRetryable } from '../lib/errors.js';
import { extractTar, templateFiles } from '../provisionersdk/extract.js';
import { PHASE_STAGE, type Phase, type Provisioner, type ProvisionResult } from '../provisionersdk/provisioner.js';
import type { LogLevel } from '../sdk/types/provisionerJobs.js';
import { isProvisionerdError, type AcquiredJob, type JobLog, type ProvisionerDaemonClient } from '../sdk/types/provisionerd.js';

import type { DaemonLogger } from './logger.js';
import { JobUpdater, type UpdaterOptions } from './updater.js';

export interface RunnerOptions extends UpdaterOptions {
  client: ProvisionerDaemonClient;
  provisioners: Record<string, Provisioner>;
  clock: Clock;
  logger: DaemonLogger;
  /** Parent of each job's scratch directory. */
  workDir: string;
  /** After a cancel, how long the provisioner gets to stop before the job is failed anyway. */
  forceCancelMs: number;
}

/** How long a closing daemon waits for its provisioner to stop before failing the job anyway. */
const CLOSE_WAIT_MS = 5_000;
const SHUTDOWN_ERROR = 'The provisioner daemon shut down while this job was running.';
const EMPTY = new Uint8Array(0);
/** Attempts at the final report while the server cannot be reached (backoff up to 5 s: about a minute in all). */
const REPORT_ATTEMPTS = 16;

type Outcome = { ok: true; result: ProvisionResult } | { ok: false; error: string; state?: Uint8Array };

/** Runs one acquired job from start to its final report. */
export class JobRunner {
  readonly #abort = new AbortController();
  /** Aborted by close(): waits for an unreachable server end at once, so shutdown stays bounded. */
  readonly #closed = new AbortController();
  readonly #updater: JobUpdater;
  #canceled = false;
  #closing = false;

  constructor(
    readonly job: AcquiredJob,
    private readonly o: RunnerOptions,
  ) {
    this.#updater = new JobUpdater(
      job.job_id,
      o.client,
      o,
      o.clock,
      o.logger,
      () => {
        if (this.#canceled) return;
        this.#canceled = true;
        o.logger.info({ job_id: job.job_id }, 'job canceled; stopping the provisioner');
        this.#abort.abort();
      },
      (e) => {
        o.logger.warn({ job_id: job.job_id, err: e.message }, 'the server no longer accepts this job; abandoning it');
        this.#abort.abort();
      },
    );
  }

  /** The daemon is closing: stop the provisioner and fail the job with a message saying so. */
  close(): void {
    this.#closing = true;
    this.#abort.abort();
    this.#closed.abort();
  }

  async run(): Promise<void> {
    const { job, o } = this;
    this.#updater.start();
    const unsubscribe = o.client.onCancelRequested?.(job.job_id, () => void this.#updater.update());
    let outcome: Outcome;
    try {
      outcome = await this.#execute();
    } catch (e) {
      outcome = { ok: false, error: coerceError(e).message };
    } finally {
      unsubscribe?.();
    }
    this.#updater.stop();
    // A success takes its last lines along when the server stores them with it (one statement fewer per build).
    const tail = outcome.ok && o.client.completeCarriesLogs && !this.#closing ? await this.#updater.takeTail() : undefined;
    if (!tail) await this.#updater.drain(undefined, this.#closed.signal);
    if (this.#updater.lost) return;
    await this.#report(outcome, tail);
  }

  async #execute(): Promise<Outcome> {
    const { job, o } = this;
    this.#marker('Setting up');
    // A provisioner that only reads the template gets its files in memory: no directory to make, fill and remove.
    const inMemory = o.provisioners[job.provisioner]?.inMemory === true;
    const dir = inMemory ? '' : await mkdtemp(path.join(o.workDir, 'kiln-job-'));
    try {
      const build = job.workspace_build;
      if (build?.orphan && build.transition === 'delete') {
        // Deviation 14: an orphan delete never runs the provisioner; the infrastructure stays where it is.
        this.#log('provisioner_daemon', 'warn', 'Orphan delete: the provisioner was not run, so this workspace\'s resources were left in place.', PHASE_STAGE.delete);
        return { ok: true, result: { resources: [], state: EMPTY } };
      }
      const unpacked = await (inMemory ? Promise.resolve().then(() => templateFiles(job.template_source_archive)) : extractTar(job.template_source_archive, dir)).catch(
        (e: unknown) => {
          throw new Error(`unpack template archive: ${coerceError(e).message}`);
        },
      );
      for (const s of unpacked.skipped) this.#log('provisioner_daemon', 'warn', `${s.path}: ${s.reason}`, 'Setting up');
      // A template version dry run plans the `start` of a would-be workspace.
      const phase: Phase = build ? build.transition : job.template_dry_run ? 'start' : 'import';
      this.#marker(PHASE_STAGE[phase]);
      return await this.#provision(phase, dir, 'contents' in unpacked ? unpacked.contents : undefined);
    } finally {
      this.#marker('Cleaning Up');
      if (!inMemory) {
        await rm(dir, { recursive: true, force: true }).catch((e: unknown) => o.logger.warn({ dir, err: coerceError(e).message }, 'could not remove a job directory'));
      }
    }
  }

  async #provision(phase: Phase, directory: string, files?: ReadonlyMap<string, Uint8Array>): Promise<Outcome> {
    const { job, o } = this;
    const provisioner = o.provisioners[job.provisioner];
    if (!provisioner) return { ok: false, error: `This provisioner daemon cannot run provisioner "${job.provisioner}".` };
    if (this.#abort.signal.aborted) return this.#stopped();
    const build = job.workspace_build;
    const imp = job.template_import;
    const dry = job.template_dry_run;
    const stage = PHASE_STAGE[phase];
    const run = provisioner.provision(
      {
        phase,
        directory,
        ...(files ? { files } : {}),
        state: build?.state ?? EMPTY,
        parameters: build?.parameter_values ?? dry?.parameter_values ?? imp?.parameter_values ?? [],
        richParameters: build?.rich_parameter_values ?? [],
        variables: build?.variable_values ?? imp?.variable_values ?? [],
        dry_run: build?.dry_run === true || !!dry,
        metadata: build?.metadata ?? dry?.metadata ?? {
          access_url: imp?.metadata.access_url ?? '',
          template_name: imp?.metadata.template_name ?? '',
          template_version: imp?.metadata.template_version ?? '',
          template_id: imp?.metadata.template_id,
        },
      },
      {
        signal: this.#abort.signal,
        log: (level, output, s) => this.#log('provisioner', level, output, s || stage),
        room: () => this.#updater.room(),
      },
    );
    // A provisioner that ignores the cancel must not hold the job forever.
    let forceTimer: NodeJS.Timeout | undefined;
    const forced = new Promise<'forced'>((resolve) => {
      // On close the wait is short: the server is going away and must not hang on a provisioner ignoring the abort.
      const arm = () => (forceTimer = setTimeout(() => resolve('forced'), this.#closing ? Math.min(o.forceCancelMs, CLOSE_WAIT_MS) : o.forceCancelMs));
      if (this.#abort.signal.aborted) arm();
      else this.#abort.signal.addEventListener('abort', arm, { once: true });
    });
    try {
      const r = await Promise.race([run, forced]);
      if (r === 'forced') return { ok: false, error: this.#closing ? SHUTDOWN_ERROR : 'Cancel timed out' };
      if (r.error) {
        return { ok: false, error: this.#closing ? SHUTDOWN_ERROR : r.error, state: r.state };
      }
      return { ok: true, result: r };
    } catch (e) {
      return { ok: false, error: `provisioner "${job.provisioner}" failed: ${coerceError(e).message}` };
    } finally {
      clearTimeout(forceTimer);
    }
  }

  #stopped(): Outcome {
    return { ok: false, error: this.#closing ? SHUTDOWN_ERROR : 'canceled' };
  }

  async #report(outcome: Outcome, tail?: JobLog[]): Promise<void> {
    const { job, o } = this;
    if (!outcome.ok && this.#closing) {
      this.#log('provisioner_daemon', 'warn', `kiln: ${SHUTDOWN_ERROR}`, 'Cleaning Up');
      await this.#updater.drain(2, this.#closed.signal);
    }
    for (let attempt = 0; ; attempt++) {
      try {
        if (outcome.ok) {
          const resources = outcome.result.resources;
          // A dry run changes nothing: the build keeps the state it started from, whatever the provisioner says.
          const state = job.workspace_build?.dry_run ? job.workspace_build.state : (outcome.result.state ?? EMPTY);
          const logs = tail?.length ? { logs: tail } : {};
          await o.client.completeJob(
            job.type === 'workspace_build'
              ? { job_id: job.job_id, workspace_build: { state, resources }, ...logs }
              : job.type === 'template_version_dry_run'
                ? { job_id: job.job_id, template_dry_run: { resources }, ...logs }
                : { job_id: job.job_id, template_import: {
                      start_resources: resources,
                      stop_resources: outcome.result.stop_resources,
                      rich_parameters: outcome.result.parameters ?? [],
                      variables: outcome.result.variables ?? [],
                    }, ...logs,
                  },
          );
        } else {
          await o.client.failJob({
            job_id: job.job_id,
            error: outcome.error || 'The provisioner failed without an error message.',
            workspace_build: job.type === 'workspace_build' && !job.workspace_build?.dry_run ? { state: outcome.state } : undefined,
          });
        }
        o.logger.info({ job_id: job.job_id, ok: outcome.ok, error: outcome.ok ? undefined : outcome.error }, 'job finished');
        return;
      } catch (e) {
        // A refused report (already completed, not ours) will not succeed on retry. An unreachable server is retried with
        // backoff for about a minute (a database restarting), but not past a close: shutdown must stay bounded.
        if (isProvisionerdError(e) || attempt >= REPORT_ATTEMPTS || (!isRetryable(e) && attempt >= 2) || (this.#closed.signal.aborted && attempt >= 1)) {
          o.logger.error({ job_id: job.job_id, err: coerceError(e).message }, 'could not report the job result');
          return;
        }
        await sleep(backoffDelay(attempt, 100, 5_000), this.#closed.signal);
      }
    }
  }

  #marker(stage: string): void {
    this.#log('provisioner_daemon', 'info', '', stage);
  }

  #log(source: 'provisioner' | 'provisioner_daemon', level: LogLevel, output: string, stage: string): void {
    this.#updater.log({ source, level, stage, output });
  }
}

export function defaultWorkDir(): string {
  return os.tmpdir();
}
