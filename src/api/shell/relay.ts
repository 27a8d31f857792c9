import type { Duplex } from 'node:stream';

import { createWebSocketStream, type WebSocket } from 'ws';

import { join } from '../../sdk/tunnel/session.js';

/**
 * Joins a WebSocket carrying raw bytes (binary messages) with an agent stream: an SSH connection or a forwarded TCP
 * connection. Backpressure runs end to end (the WebSocket stream and the tunnel's windows); either side ending ends
 * the other.
 */
export function relayBytes(socket: WebSocket, stream: Duplex): void {
  const ws = createWebSocketStream(socket);
  join(ws, stream);
}
