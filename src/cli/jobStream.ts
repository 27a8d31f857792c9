import type { FollowEnd } from '../sdk/follow.js';
import type { ProvisionerJob, ProvisionerJobLog } from '../sdk/types/provisionerJobs.js';

import { ExitError } from './errors.js';
import { isInteractive, println, styles, type CliIO, type Styles } from './io.js';
import { formatDuration } from './output.js';
import { confirm } from './prompt.js';
import { Spinner } from './spinner.js';

export type LogFollower = (after: number, signal: AbortSignal) => AsyncIterable<ProvisionerJobLog> & { end: Promise<FollowEnd> };

export interface WatchJobOptions {
  /** The job as first seen (its `created_at` starts the "Queued" stage). */
  job: ProvisionerJob;
  follow: LogFollower;
  /** Re-reads the job once its log stream has ended, for the final status and error. */
  refresh(): Promise<ProvisionerJob>;
  /** Offered on Ctrl-C at a terminal; without it Ctrl-C just stops watching. */
  cancel?: () => Promise<void>;
  /** Names the job in the Ctrl-C question, e.g. `build #3 of "dev"`. */
  what: string;
  /** Shown after a detach (second Ctrl-C), e.g. `kiln cancel dev`. */
  cancelHint?: string;
}

const TERMINAL = new Set(['succeeded', 'failed', 'canceled']);
const RECONNECTS = 5;

/**
 * Streams a provisioner job to the terminal as it happens: log lines as they arrive, and one line per stage when the
 * stage ends, with its duration (from the server's timestamps). A terminal gets a spinner with the running stage and
 * its elapsed time; a pipe gets the same lines without it. Resolves with the job in its final state.
 */
export async function watchJob(io: CliIO, opts: WatchJobOptions): Promise<ProvisionerJob> {
  const view = new StageView(io, opts.job);
  const abort = new AbortController();
  let detached = false;
  let prompting = false;
  const onInterrupt = async () => {
    if (prompting) return;
    prompting = true;
    view.pause();
    const yes = opts.cancel ? await confirm(io, `Cancel ${opts.what}?`) : null;
    prompting = false;
    if (yes === null) {
      detached = true;
      abort.abort();
      return;
    }
    view.resume();
    if (yes && opts.cancel) {
      view.note('Canceling…');
      await opts.cancel().catch((e: unknown) => view.note(`Could not cancel: ${e instanceof Error ? e.message : String(e)}`));
    }
  };
  const removeHandler = isInteractive(io) ? io.onInterrupt(() => void onInterrupt()) : () => {};
  try {
    let job = opts.job;
    let after = 0;
    for (let failures = 0; ; ) {
      try {
        for await (const log of opts.follow(after, abort.signal)) {
          after = log.id;
          view.log(log);
        }
      } catch (e) {
        // A dropped stream (server restart, proxy timeout) resumes after the last line shown: no gaps, no repeats.
        if (++failures > RECONNECTS || abort.signal.aborted) throw e;
        await new Promise((r) => setTimeout(r, 200 * failures));
        continue;
      }
      if (detached) break;
      job = await opts.refresh();
      if (TERMINAL.has(job.status)) break;
    }
    if (detached) {
      view.pause();
      println(io.stderr, `Stopped watching; ${opts.what} goes on.${opts.cancelHint ? ` To cancel it: ${opts.cancelHint}` : ''}`);
      throw new ExitError(130);
    }
    view.finish(job);
    return job;
  } finally {
    removeHandler();
    view.pause();
  }
}

interface Stage {
  name: string;
  /** Server time (ms) the stage began, for its reported duration. */
  startedAt: number;
  /** Local time it was first seen, for the ticking spinner. */
  seenAt: number;
}

/**
 * Prints the log of a job that may be over, the way watchJob shows it live (without a spinner). A job still running
 * leaves its current stage open.
 */
export function replayJob(io: CliIO, job: ProvisionerJob, logs: ProvisionerJobLog[]): void {
  const view = new StageView(io, job, false);
  for (const log of logs) view.log(log);
  if (TERMINAL.has(job.status)) view.finish(job);
}

/** Renders stages and lines; the only place that knows what a build looks like on screen. */
class StageView {
  readonly #s: Styles;
  readonly #spinner: Spinner | undefined;
  #stage: Stage;
  #stageFailed = false;
  #anyFailed = false;

  constructor(
    private readonly io: CliIO,
    job: ProvisionerJob,
    live = true,
  ) {
    this.#s = styles(io);
    this.#spinner = live && isInteractive(io) ? new Spinner(io.stdout) : undefined;
    this.#stage = { name: 'Queued', startedAt: Date.parse(job.created_at), seenAt: Date.now() };
    this.resume();
  }

  log(log: ProvisionerJobLog): void {
    const t = Date.parse(log.created_at);
    // The daemon marks each stage with an empty line; a line from another stage also starts that stage.
    const marker = log.log_source === 'provisioner_daemon' && log.output === '';
    if (marker || log.stage !== this.#stage.name) {
      this.#endStage(t, 'ok');
      this.#stage = { name: log.stage, startedAt: t, seenAt: Date.now() };
    }
    // Multi-line output stays indented under its stage, line by line.
    if (!marker) for (const line of log.output.split(/\r?\n/)) this.#print(`    ${this.#colorLevel(log.log_level, line)}`);
    if (log.log_level === 'error') this.#stageFailed = true;
  }

  finish(job: ProvisionerJob): void {
    const end = Date.parse(job.completed_at ?? job.canceled_at ?? '') || Date.now();
    // A failed job whose error showed in no stage is charged to the last one.
    this.#endStage(end, job.status !== 'succeeded' && !this.#anyFailed ? 'failed' : 'ok');
    this.pause();
  }

  /** A line from the CLI itself (not the job), e.g. "Canceling…". */
  note(text: string): void {
    this.#print(this.#s.yellow(text));
  }

  pause(): void {
    this.#spinner?.stop();
  }

  resume(): void {
    this.#spinner?.start(() => `${this.#stage.name} ${this.#s.dim(formatDuration(Date.now() - this.#stage.seenAt))}`);
  }

  /** A stage that logged an error line is marked failed: that is where the user should look. */
  #endStage(at: number, result: 'ok' | 'failed'): void {
    if (this.#stageFailed) result = 'failed';
    this.#stageFailed = false;
    if (result === 'failed') this.#anyFailed = true;
    const mark = result === 'ok' ? this.#s.green('✔') : this.#s.red('✘');
    this.#print(`${mark} ${this.#stage.name} ${this.#s.dim(`[${formatDuration(at - this.#stage.startedAt)}]`)}`);
  }

  #print(line: string): void {
    if (this.#spinner) this.#spinner.print(line);
    else println(this.io.stdout, line);
  }

  #colorLevel(level: ProvisionerJobLog['log_level'], text: string): string {
    if (level === 'error') return this.#s.red(text);
    if (level === 'warn') return this.#s.yellow(text);
    if (level === 'debug' || level === 'trace') return this.#s.dim(text);
    return text;
  }
}
