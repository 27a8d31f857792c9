import { coerceError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { AgentClient } from '../sdk/agentsdk.js';
import type { WorkspaceApp, WorkspaceAppHealth } from '../sdk/types/workspaceBuilds.js';

/** Reference §9.5: changes are compared and posted once a second. */
const REPORT_INTERVAL_MS = 1_000;

interface Checked {
  app: WorkspaceApp;
  failures: number;
  timer: NodeJS.Timeout;
}

/**
 * Coder's app health reporter (reference §9.5): for each app with a healthcheck URL, interval and threshold, a GET
 * every `interval` seconds with a timeout of the interval; any status < 500 is healthy; `unhealthy` takes threshold + 1
 * consecutive failures. Apps start `initializing`; the full map is posted whenever it changed.
 */
export class HealthReporter {
  #health = new Map<string, WorkspaceAppHealth>();
  #lastSent = '';
  #checks: Checked[] = [];
  #reporter: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: AgentClient,
    private readonly logger: Logger,
  ) {}

  start(apps: WorkspaceApp[]): void {
    for (const app of apps) {
      const hc = app.healthcheck;
      if (app.health === 'disabled' || !hc.url || hc.interval <= 0 || hc.threshold <= 0) continue;
      this.#health.set(app.id, 'initializing');
      const c: Checked = { app, failures: 0, timer: setInterval(() => void this.#check(c), hc.interval * 1000) };
      this.#checks.push(c);
      // The first check runs at once rather than one interval in, so a quick app turns healthy quickly.
      void this.#check(c);
    }
    if (this.#checks.length === 0) return;
    this.#lastSent = JSON.stringify(Object.fromEntries(this.#health));
    this.#reporter = setInterval(() => void this.#report(), REPORT_INTERVAL_MS);
  }

  async #check(c: Checked): Promise<void> {
    const { url, interval, threshold } = c.app.healthcheck;
    let ok = false;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(interval * 1000) });
      await res.body?.cancel();
      ok = res.status < 500;
    } catch {
      ok = false;
    }
    if (ok) {
      c.failures = 0;
      this.#health.set(c.app.id, 'healthy');
    } else if (c.failures < threshold) c.failures++;
    else this.#health.set(c.app.id, 'unhealthy');
  }

  async #report(): Promise<void> {
    const now = JSON.stringify(Object.fromEntries(this.#health));
    if (now === this.#lastSent) return;
    try {
      await this.client.postAppHealth({ healths: Object.fromEntries(this.#health) });
      this.#lastSent = now;
    } catch (e) {
      // Sent again on the next tick: the comparison is against the last report the server took.
      this.logger.debug({ err: coerceError(e).message }, 'could not report app health');
    }
  }

  stop(): void {
    clearInterval(this.#reporter);
    for (const c of this.#checks) clearInterval(c.timer);
    this.#checks = [];
  }
}
