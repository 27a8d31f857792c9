import type { Duplex } from 'node:stream';

import {
  decodeFrame,
  encodeFrame,
  FrameType,
  jsonPayload,
  readJson,
  readWindow,
  TUNNEL_VERSION,
  TunnelProtocolError,
  type OpenSpec,
} from './frames.js';
import { TunnelStream, type StreamHost } from './stream.js';

export interface TunnelSessionOptions {
  /** Puts one frame on the wire (a binary WebSocket message). */
  send: (frame: Buffer) => void;
  /** The server opens odd stream ids, the agent even ones, so both may open streams without colliding. */
  role: 'server' | 'agent';
  /** Serves an OPEN from the peer: resolves with what to join the stream to, rejects to refuse it. Absent: refuse all. */
  onOpen?: (spec: OpenSpec) => Promise<Duplex>;
  /** The peer said HELLO: it speaks the tunnel. */
  onHello?: (version: number) => void;
  /** Streams open at once on this connection, both directions together (default 256). */
  maxStreams?: number;
  /** An OPEN without ACCEPT or RESET for this long fails (default 10 s). */
  openTimeoutMs?: number;
}

export const DEFAULT_MAX_STREAMS = 256;
export const DEFAULT_OPEN_TIMEOUT_MS = 10_000;

export class TunnelClosedError extends Error {
  constructor(message = 'the tunnel is closed') {
    super(message);
    this.name = 'TunnelClosedError';
  }
}

/**
 * Both ends of the agent tunnel use this: it turns incoming frames into stream events and streams into frames.
 * The transport is the caller's (the coordinate WebSocket): it passes each binary message to `receive` and calls
 * `close` when the connection ends. A protocol error from the peer is thrown by `receive`; the caller closes the
 * connection, since a peer that breaks the framing cannot be trusted with the streams it carries.
 */
export class TunnelSession implements StreamHost {
  readonly #streams = new Map<number, TunnelStream>();
  readonly #pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  #nextId: number;
  #closed: Error | undefined;
  peerVersion: number | undefined;

  constructor(private readonly o: TunnelSessionOptions) {
    this.#nextId = o.role === 'server' ? 1 : 2;
  }

  get streamCount(): number {
    return this.#streams.size;
  }

  get closed(): boolean {
    return this.#closed !== undefined;
  }

  hello(): void {
    this.sendFrame(FrameType.HELLO, 0, jsonPayload({ version: TUNNEL_VERSION }));
  }

  /** Opens a stream to the peer; resolves once the peer accepted it. */
  open(spec: OpenSpec): Promise<TunnelStream> {
    if (this.#closed) return Promise.reject(new TunnelClosedError());
    if (this.#streams.size >= (this.o.maxStreams ?? DEFAULT_MAX_STREAMS)) return Promise.reject(new Error('too many streams open on the agent connection'));
    const id = this.#nextId;
    this.#nextId += 2;
    const stream = this.#newStream(id);
    return new Promise<TunnelStream>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        stream.destroy(new Error('the agent did not answer'));
        reject(new Error(`the agent did not answer the ${spec.kind} stream within ${(this.o.openTimeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS) / 1000} s`));
      }, this.o.openTimeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS);
      this.#pending.set(id, {
        resolve: () => {
          clearTimeout(timer);
          resolve(stream);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.sendFrame(FrameType.OPEN, id, jsonPayload(spec));
    });
  }

  /** One binary message from the peer. Throws TunnelProtocolError when the peer breaks the framing. */
  receive(msg: Uint8Array): void {
    if (this.#closed) return;
    const f = decodeFrame(msg);
    if (f.type === FrameType.HELLO) {
      const v = (readJson(f.payload) as { version?: unknown } | null)?.version;
      if (typeof v !== 'number') throw new TunnelProtocolError('HELLO without a version');
      this.peerVersion = v;
      this.o.onHello?.(v);
      return;
    }
    if (f.stream === 0) throw new TunnelProtocolError('stream 0 carries only HELLO');
    if (f.type === FrameType.OPEN) return this.#onOpen(f.stream, readJson(f.payload));
    const stream = this.#streams.get(f.stream);
    // Frames of a stream that just ended here can still be in flight: not an error.
    if (!stream) return;
    switch (f.type) {
      case FrameType.ACCEPT:
        this.#pending.get(f.stream)?.resolve();
        this.#pending.delete(f.stream);
        return;
      case FrameType.DATA:
        return stream.onData(f.payload);
      case FrameType.WINDOW:
        return stream.onWindow(readWindow(f.payload));
      case FrameType.CLOSE:
        return stream.onClose();
      case FrameType.RESET: {
        const reason = Buffer.from(f.payload).toString('utf8');
        const p = this.#pending.get(f.stream);
        this.#pending.delete(f.stream);
        p?.reject(new Error(reason || 'refused'));
        return stream.onReset(reason);
      }
    }
  }

  #onOpen(id: number, spec: unknown): void {
    const peerParity = this.o.role === 'server' ? 0 : 1;
    if (id % 2 !== peerParity || this.#streams.has(id)) throw new TunnelProtocolError(`OPEN with invalid stream id ${id}`);
    const refuse = (why: string) => this.sendFrame(FrameType.RESET, id, Buffer.from(why, 'utf8'));
    if (typeof spec !== 'object' || spec === null || typeof (spec as { kind?: unknown }).kind !== 'string') return refuse('invalid open request');
    if (!this.o.onOpen) return refuse('this peer accepts no streams');
    if (this.#streams.size >= (this.o.maxStreams ?? DEFAULT_MAX_STREAMS)) return refuse('too many streams');
    const stream = this.#newStream(id);
    this.o.onOpen(spec as OpenSpec).then(
      (target) => {
        if (stream.destroyed) return void target.destroy();
        this.sendFrame(FrameType.ACCEPT, id);
        join(stream, target);
      },
      (e: unknown) => {
        // RESET carries the reason; the stream must not send a second one.
        refuse(e instanceof Error ? e.message : String(e));
        stream.onReset('');
      },
    );
  }

  #newStream(id: number): TunnelStream {
    const stream = new TunnelStream(id, this);
    // A stream reset by the peer or by a lost connection must never crash the process: its users see the error
    // through their own listeners (or the stream's close), this one only keeps it from being unhandled.
    stream.on('error', () => {});
    this.#streams.set(id, stream);
    return stream;
  }

  /** The connection ended: every stream fails. */
  close(err: Error = new TunnelClosedError('the agent connection closed')): void {
    if (this.#closed) return;
    this.#closed = err;
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
    for (const s of [...this.#streams.values()]) s.destroy(err);
    this.#streams.clear();
  }

  sendFrame(type: FrameType, stream: number, payload?: Uint8Array): void {
    if (this.#closed) return;
    this.o.send(encodeFrame(type, stream, payload));
  }

  forget(stream: number): void {
    this.#streams.delete(stream);
  }
}

/** Joins two duplexes both ways, half-close included; either one failing tears both down. */
export function join(a: Duplex, b: Duplex): void {
  a.pipe(b);
  b.pipe(a);
  const teardown = (err?: Error) => {
    a.destroy(err);
    b.destroy(err);
  };
  a.on('error', teardown);
  b.on('error', teardown);
  // A clean end (both directions ended) closes each side on its own; a destroy without error must still reach the other.
  const done = (d: Duplex) => d.readableEnded && d.writableFinished;
  a.on('close', () => done(a) || b.destroy());
  b.on('close', () => done(b) || a.destroy());
}
