import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';

import { PROVISIONER_KEY_DELETED_CHANNEL } from '../../jobs/channels.js';
import { coerceError } from '../../lib/errors.js';
import { CLOSE_KEY_DELETED, CLOSE_SERVER_SHUTDOWN } from '../../sdk/types/provisionerdProtocol.js';
import type { ServerContext } from '../context.js';
import { errors } from '../http/errors.js';
import { errorResponses, params, str } from '../schemas/common.js';

import { authenticateDaemon, type DaemonAuth } from './auth.js';
import { DaemonSession } from './session.js';

declare module 'fastify' {
  interface FastifyRequest {
    daemonAuth?: DaemonAuth;
  }
}

/**
 * This replica's daemon connections. A deleted provisioner key is announced on a channel every replica listens to, so
 * the key's daemons are cut off whichever replica they are connected to.
 */
export class DaemonSessions {
  readonly #sessions = new Set<DaemonSession>();
  #unsubscribe: (() => void) | undefined;
  #subscribing: Promise<void> | undefined;
  readonly #timer: NodeJS.Timeout;

  constructor(private readonly ctx: ServerContext) {
    this.#timer = setInterval(() => this.#sessions.forEach((s) => s.ping()), ctx.options.daemonPingMs);
    this.#timer.unref();
  }

  async add(s: DaemonSession): Promise<void> {
    this.#sessions.add(s);
    this.#subscribing ??= this.ctx.pubsub
      .subscribe(PROVISIONER_KEY_DELETED_CHANNEL, {
        message: (keyId) => this.#keyDeleted(keyId),
        // Notifications may have been lost: a session whose key is gone finds out when it next authenticates; the
        // deleting request also failed its jobs, so nothing runs on.
        reset: () => {},
      })
      .then((u) => void (this.#unsubscribe = u))
      .catch((e: unknown) => this.ctx.logger.warn({ err: coerceError(e).message }, 'could not listen for deleted provisioner keys'));
    await this.#subscribing;
  }

  remove(s: DaemonSession): void {
    this.#sessions.delete(s);
  }

  get size(): number {
    return this.#sessions.size;
  }

  #keyDeleted(keyId: string): void {
    for (const s of this.#sessions) if (s.keyId === keyId) s.close(CLOSE_KEY_DELETED, 'provisioner key deleted');
  }

  /** Server shutdown: daemons reconnect to another replica. */
  close(): void {
    clearInterval(this.#timer);
    this.#unsubscribe?.();
    for (const s of this.#sessions) s.close(CLOSE_SERVER_SHUTDOWN, 'server shutting down');
  }
}

/** `GET /api/v2/organizations/{org}/provisionerdaemons/serve`: the WebSocket external daemons speak the protocol on. */
export async function provisionerdServeRoute(app: FastifyInstance, ctx: ServerContext, sessions: DaemonSessions): Promise<void> {
  app.route<{ Params: { organization: string } }>({
    method: 'GET',
    url: '/api/v2/organizations/:organization/provisionerdaemons/serve',
    schema: { tags: ['Provisioners'], params: params({ organization: str }), response: errorResponses },
    preHandler: async (req: FastifyRequest<{ Params: { organization: string } }>) => {
      req.daemonAuth = await authenticateDaemon(ctx, req, req.params.organization);
    },
    handler: async () => {
      throw errors.badRequest('Failed to accept websocket.', 'The request was not a WebSocket upgrade; provisioner daemons connect with one.');
    },
    wsHandler: (socket: WebSocket, req: FastifyRequest) => {
      const auth = req.daemonAuth;
      if (!auth) {
        socket.close(1011);
        return;
      }
      const session: DaemonSession = new DaemonSession(ctx, socket, auth, { closed: (s) => sessions.remove(s) });
      void sessions.add(session);
    },
  });
}
