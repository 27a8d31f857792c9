/**
 * The agent tunnel's framing (docs/agent-protocol.md), version 1. Every WebSocket binary message on the agent's
 * coordinate connection is exactly one frame: `[type u8][stream id u32 big-endian][payload]`. Text messages are not
 * frames and are ignored, so the connection stays usable as a plain liveness signal by agents that do not tunnel.
 */

export const TUNNEL_VERSION = 1;

export const FrameType = {
  /** stream 0; payload JSON `{version}`: each side announces the framing it speaks, once, first. */
  HELLO: 0,
  /** payload JSON `OpenSpec`: asks the peer to open a stream (e.g. a TCP connection inside the workspace). */
  OPEN: 1,
  /** empty: the OPEN succeeded; DATA may flow both ways. */
  ACCEPT: 2,
  /** payload: stream bytes. */
  DATA: 3,
  /** payload u32: the sender may send this many more DATA bytes on the stream (flow-control credit). */
  WINDOW: 4,
  /** empty: the sender will send no more DATA (half-close); a stream ends once both sides sent CLOSE. */
  CLOSE: 5,
  /** payload UTF-8 reason: the stream is aborted both ways (also the answer to an OPEN that failed). */
  RESET: 6,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

export const HEADER_BYTES = 5;
/** Largest DATA payload a sender puts in one frame; a receiver refuses bigger frames as a protocol error. */
export const MAX_FRAME_PAYLOAD = 64 * 1024;
/** The credit each side starts with on each stream, in both directions; WINDOW frames add to it. */
export const INITIAL_WINDOW = 256 * 1024;

/** What an OPEN asks for. `tcp` exists now; `pty` and `ssh` are reserved for the shell features (see the docs). */
export type OpenSpec = { kind: 'tcp'; port: number } | { kind: string; [k: string]: unknown };

export interface Frame {
  type: FrameType;
  stream: number;
  payload: Uint8Array;
}

export class TunnelProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TunnelProtocolError';
  }
}

const TYPES = new Set<number>(Object.values(FrameType));

export function encodeFrame(type: FrameType, stream: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  if (!Number.isInteger(stream) || stream < 0 || stream > 0xffffffff) throw new RangeError(`invalid stream id ${stream}`);
  const b = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  b.writeUInt8(type, 0);
  b.writeUInt32BE(stream, 1);
  b.set(payload, HEADER_BYTES);
  return b;
}

export function decodeFrame(msg: Uint8Array): Frame {
  if (msg.length < HEADER_BYTES) throw new TunnelProtocolError(`frame of ${msg.length} bytes is shorter than its header`);
  const b = Buffer.from(msg.buffer, msg.byteOffset, msg.length);
  const type = b.readUInt8(0);
  if (!TYPES.has(type)) throw new TunnelProtocolError(`unknown frame type ${type}`);
  const payload = b.subarray(HEADER_BYTES);
  // Control payloads are tiny; only DATA carries bulk, and never more than one frame's worth.
  if (payload.length > MAX_FRAME_PAYLOAD) throw new TunnelProtocolError(`frame payload of ${payload.length} bytes exceeds ${MAX_FRAME_PAYLOAD}`);
  return { type: type as FrameType, stream: b.readUInt32BE(1), payload };
}

export function windowPayload(increment: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(increment, 0);
  return b;
}

export function readWindow(payload: Uint8Array): number {
  if (payload.length !== 4) throw new TunnelProtocolError('WINDOW payload must be 4 bytes');
  return Buffer.from(payload.buffer, payload.byteOffset, 4).readUInt32BE(0);
}

export function jsonPayload(v: unknown): Buffer {
  return Buffer.from(JSON.stringify(v), 'utf8');
}

export function readJson(payload: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.length).toString('utf8'));
  } catch {
    throw new TunnelProtocolError('frame payload is not JSON');
  }
}
