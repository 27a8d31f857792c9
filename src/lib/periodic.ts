/** A pass run now and then on a timer (see startPeriodic). */
export interface Periodic<T> {
  /** Runs one pass now (also what the timer does), or joins the one in progress; resolves when it is done. */
  runOnce(): Promise<T>;
  /** No pass starts after this; resolves once the one in progress has finished. */
  stop(): Promise<void>;
}

/**
 * Runs `pass` at once and then every `intervalMs`, never two at a time: a run asked for during a pass joins it. After
 * stop(), runOnce answers `idle` without running. `pass` must not reject (it logs its own failures) and may check
 * `stopped()` to end a long pass early. The timer never keeps the process alive.
 */
export function startPeriodic<T>(intervalMs: number, idle: T, pass: (stopped: () => boolean) => Promise<T>): Periodic<T> {
  let running: Promise<T> | null = null;
  let stopped = false;
  const isStopped = () => stopped;
  const runOnce = (): Promise<T> => {
    if (stopped) return Promise.resolve(idle);
    running ??= pass(isStopped).finally(() => {
      running = null;
    });
    return running;
  };
  const timer = setInterval(() => void runOnce(), intervalMs);
  timer.unref();
  void runOnce();
  return {
    runOnce,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
