import { onWrite, UNFINISHED_JOBS_ONLY } from '../../db/pool.js';
import type { Pubsub } from '../../db/pubsub.js';
import type { BuildView } from '../../db/queries/views.js';
import { coerceError } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';

/** Migration 000093's triggers (two of them redefined by 000095) notify here when a row a finished build's view embeds changes or goes. */
export const BUILD_VIEWS_CHANNEL = 'kiln_build_views';
/** Finished builds kept in memory per replica; the oldest entry leaves first (docs/security.md). */
export const DEFAULT_BUILD_VIEW_CACHE_ENTRIES = 2_000;

/**
 * Views of finished builds, in memory, so reading one again costs no statement. A finished build changes rarely (a
 * rename, an agent connecting, a user's new avatar), and every such change empties the cache:
 * - a write through this process's pools to a table a view embeds, at once when it commits, before its writer can
 *   answer anyone (`onWrite`; statements marked as changing only unfinished jobs do not count);
 * - a write anywhere else (another replica, an operator's SQL), when migration 000093's trigger's NOTIFY arrives.
 * Only views of jobs that had completed when read are kept (pending and running builds change all the time, and their
 * queue position and matched daemons depend on the moment). Serves from memory only while the listen connection is
 * up. Entries are frozen: rendering reads them and must never change them.
 */
export class BuildViewCache {
  readonly #entries = new Map<string, BuildView>();
  /** Response bodies rendered from held views, and until when they stay exact (time moves agents' status on). */
  #bodies = new WeakMap<BuildView, { body: string; until: number }>();
  /** Bumped by every invalidation: a view read before one may be older than it, and is not kept. */
  #epoch = 0;
  #live = false;
  #stops: (() => void)[] = [];

  constructor(readonly maxEntries = DEFAULT_BUILD_VIEW_CACHE_ENTRIES) {}

  async start(pubsub: Pubsub, logger: Logger): Promise<void> {
    this.#stops.push(onWrite((statements) => {
      if (statements.some(mayChangeFinishedBuilds)) this.#clear();
    }));
    try {
      this.#stops.push(
        await pubsub.subscribe(BUILD_VIEWS_CHANNEL, {
          message: () => this.#clear(),
          lost: () => {
            this.#live = false;
            this.#clear();
          },
          reset: () => {
            this.#clear();
            this.#live = this.maxEntries > 0;
          },
        }),
      );
      this.#live = this.maxEntries > 0;
    } catch (e) {
      logger.warn({ err: coerceError(e).message }, 'build view cache disabled: cannot listen for invalidations');
    }
  }

  stop(): void {
    this.#live = false;
    for (const stop of this.#stops.splice(0)) stop();
    this.#clear();
  }

  /** The build's view: from memory, or from `load` (kept when its job had completed and nothing changed meanwhile). */
  async get(id: string, load: () => Promise<BuildView | undefined>): Promise<BuildView | undefined> {
    const hit = this.#live ? this.#entries.get(id) : undefined;
    if (hit) return hit;
    const epoch = this.#epoch;
    const view = await load();
    if (view && view.job.completed_at !== null && this.#live && epoch === this.#epoch) this.#put(id, view);
    return view;
  }

  /**
   * The response body rendered from `view` earlier, while it is still what rendering at `now` would give. Only a view
   * this cache holds has one; it goes with the view.
   */
  rendered(view: BuildView, now: Date): string | undefined {
    const r = this.#bodies.get(view);
    return r && now.getTime() < r.until ? r.body : undefined;
  }

  /** Keeps the body rendered from a view this cache holds, valid until `until` (ms; see `renderedUntil`). */
  keepRendered(view: BuildView, body: string, until: number): void {
    if (this.#live && this.#entries.get(view.build.id) === view) this.#bodies.set(view, { body, until });
  }

  get size(): number {
    return this.#entries.size;
  }

  get live(): boolean {
    return this.#live;
  }

  #put(id: string, view: BuildView): void {
    if (this.#entries.size >= this.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(id, deepFreeze(view));
  }

  #clear(): void {
    this.#epoch++;
    this.#entries.clear();
    this.#bodies = new WeakMap();
  }
}

/** The tables a build view embeds (src/db/queries/views.ts). */
const VIEW_TABLES = /\b(workspace_builds|provisioner_jobs|workspace_resources|workspace_resource_metadata|workspace_agents|workspace_apps|workspaces|users|templates|template_versions)\b/i;

/**
 * Whether a statement this process committed may have changed a finished build's view: it names a table the view
 * embeds (or its text is unknown), and is not marked as changing only unfinished jobs. Over-inclusive on purpose.
 */
function mayChangeFinishedBuilds(text: string): boolean {
  // Every write of the process passes here (log batches too): statements repeat, so each text is classified once.
  let known = classified.get(text);
  if (known === undefined) {
    known = text === '' || (!text.includes(UNFINISHED_JOBS_ONLY) && VIEW_TABLES.test(text));
    if (classified.size < 2_000) classified.set(text, known);
  }
  return known;
}

const classified = new Map<string, boolean>();

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
  }
  return v;
}
