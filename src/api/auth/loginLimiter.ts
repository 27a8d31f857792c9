import type { Clock } from '../../lib/clock.js';

export interface LoginLimits {
  /** Login attempts that did not succeed, per client IP, per window. */
  perIp: number;
  /** Login attempts that did not succeed, per account (email, case-insensitive), per window. */
  perAccount: number;
  windowMs: number;
}

export const defaultLoginLimits: LoginLimits = { perIp: 20, perAccount: 10, windowMs: 60_000 };

/** More keys than this and expired windows are swept; the map never grows without bound. */
const MAX_KEYS = 50_000;

interface Window {
  start: number;
  count: number;
}

export type LoginAttempt = { ok: true; done(succeeded: boolean): void } | { ok: false; retryAfterS: number };

/**
 * Rate limit for password logins, in memory (per server process). An attempt counts from the moment it starts, so a
 * burst of concurrent guesses is cut before any of them costs a password hash; a successful login gives its count
 * back, so people who type their password right are never limited. Refusals cost nothing: other users' logins are
 * not slowed by someone guessing.
 */
export class LoginLimiter {
  readonly #windows = new Map<string, Window>();

  constructor(
    private readonly clock: Clock,
    private readonly limits: LoginLimits = defaultLoginLimits,
  ) {}

  begin(ip: string, account: string): LoginAttempt {
    const now = this.clock.now().getTime();
    const keys: [string, number][] = [
      [`ip:${ip}`, this.limits.perIp],
      [`acct:${account.trim().toLowerCase()}`, this.limits.perAccount],
    ];
    let retryAt = 0;
    for (const [k, limit] of keys) {
      const w = this.#current(k, now);
      if (w.count >= limit) retryAt = Math.max(retryAt, w.start + this.limits.windowMs);
    }
    if (retryAt > 0) return { ok: false, retryAfterS: Math.max(1, Math.ceil((retryAt - now) / 1000)) };
    const taken = keys.map(([k]) => {
      const w = this.#current(k, now);
      w.count++;
      return w;
    });
    let settled = false;
    return {
      ok: true,
      done: (succeeded) => {
        if (settled) return;
        settled = true;
        if (succeeded) for (const w of taken) w.count = Math.max(0, w.count - 1);
      },
    };
  }

  #current(key: string, now: number): Window {
    let w = this.#windows.get(key);
    if (!w || now - w.start >= this.limits.windowMs) {
      if (!w && this.#windows.size >= MAX_KEYS) this.#sweep(now);
      w = { start: now, count: 0 };
      this.#windows.set(key, w);
    }
    return w;
  }

  #sweep(now: number): void {
    for (const [k, w] of this.#windows) if (now - w.start >= this.limits.windowMs || w.count === 0) this.#windows.delete(k);
    // Still full (a flood of distinct keys within one window): forget the oldest half rather than grow.
    if (this.#windows.size >= MAX_KEYS) {
      let n = Math.floor(this.#windows.size / 2);
      for (const k of this.#windows.keys()) {
        if (n-- <= 0) break;
        this.#windows.delete(k);
      }
    }
  }
}
