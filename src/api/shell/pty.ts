import type { Duplex } from 'node:stream';

import type { WebSocket } from 'ws';

import { encodePtyRequest } from '../../sdk/tunnel/pty.js';

const WS_OPEN = 1;
const HIGH_WATER = 1024 * 1024;

/**
 * Relays a reconnecting-PTY WebSocket (Coder's framing) to the agent's `pty` stream: each client message is one
 * `{data?, width?, height?}` request, passed on as a line; the terminal's output comes back as binary messages. The
 * WebSocket closes when the terminal ends (its process exited, the workspace stopped) and the stream is let go when
 * the client leaves; the terminal itself lives on in the agent until its idle timeout.
 */
export function relayPty(socket: WebSocket, stream: Duplex): void {
  // Bytes handed to the WebSocket and not yet written out: the backpressure point, so a lagging client slows the
  // agent's stream (and the terminal's process) instead of growing the server's memory.
  let inFlight = 0;
  stream.on('data', (chunk: Buffer) => {
    if (socket.readyState !== WS_OPEN) return;
    inFlight += chunk.length;
    if (inFlight > HIGH_WATER) stream.pause();
    socket.send(chunk, { binary: true }, () => {
      inFlight -= chunk.length;
      if (inFlight <= HIGH_WATER / 4 && stream.isPaused()) stream.resume();
    });
  });
  stream.on('end', () => socket.close(1000, 'the terminal ended'));
  stream.on('error', () => socket.close(1011, 'the terminal connection failed'));
  stream.on('close', () => {
    if (socket.readyState === WS_OPEN) socket.close(1000, 'the terminal ended');
  });
  socket.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
    const line = encodePtyRequest(text);
    if (line && !stream.destroyed) stream.write(line);
  });
  socket.on('close', () => stream.destroy());
  socket.on('error', () => stream.destroy());
}
