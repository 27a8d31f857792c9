import { getFileByID } from '../../db/queries/files.js';
import type { ServerContext } from '../context.js';

/** Template archives kept in memory per server, in bytes (docs/security.md); the oldest leaves first. */
export const FILE_CACHE_BYTES = 64 * 1024 * 1024;

/**
 * A file's bytes, for handing template archives to daemons. Files never change once uploaded (a new upload is a new
 * row), so bytes read once are served from memory: a template built again and again is not read from PostgreSQL and
 * decoded again for every build, which for a large archive costs several times its size in transient memory.
 */
export class FileBytes {
  readonly #entries = new Map<string, Buffer>();
  #bytes = 0;

  constructor(readonly maxBytes = FILE_CACHE_BYTES) {}

  /** Bytes held now. */
  get bytes(): number {
    return this.#bytes;
  }

  has(id: string): boolean {
    return this.#entries.has(id);
  }

  async get(ctx: ServerContext, id: string): Promise<Buffer | undefined> {
    const hit = this.#entries.get(id);
    if (hit) return hit;
    const file = await getFileByID(ctx.pool, id);
    if (!file) return undefined;
    // One archive never takes more than a quarter of the room, so a few templates share it.
    if (file.data.byteLength <= this.maxBytes / 4) this.#put(id, file.data);
    return file.data;
  }

  #put(id: string, data: Buffer): void {
    if (this.#entries.has(id)) return;
    while (this.#bytes + data.byteLength > this.maxBytes) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#bytes -= (this.#entries.get(oldest.value) as Buffer).byteLength;
      this.#entries.delete(oldest.value);
    }
    this.#entries.set(id, data);
    this.#bytes += data.byteLength;
  }
}

const caches = new WeakMap<ServerContext, FileBytes>();

export function fileBytes(ctx: ServerContext, id: string): Promise<Buffer | undefined> {
  let cache = caches.get(ctx);
  if (!cache) caches.set(ctx, (cache = new FileBytes()));
  return cache.get(ctx, id);
}
