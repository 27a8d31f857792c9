import { Duplex } from 'node:stream';

import { FrameType, INITIAL_WINDOW, MAX_FRAME_PAYLOAD, TunnelProtocolError, windowPayload } from './frames.js';

/** What a stream needs from its session: sending frames and forgetting the stream once it is over. */
export interface StreamHost {
  sendFrame(type: FrameType, stream: number, payload?: Uint8Array): void;
  forget(stream: number): void;
}

/**
 * One multiplexed stream of the tunnel, as a Node Duplex. Flow control is credit-based and per stream: the writer
 * sends no more DATA than the reader granted (INITIAL_WINDOW, then WINDOW increments), and the reader grants only
 * what its consumer has taken (when Node asks `_read` for more), so a stream whose consumer stalls holds at most one
 * window in memory and never slows the others.
 */
export class TunnelStream extends Duplex {
  #sendCredit = INITIAL_WINDOW;
  /** DATA bytes the peer may still send before it exceeds what was granted. */
  #recvAllowance = INITIAL_WINDOW;
  /** Bytes handed to the consumer's buffer and not granted back yet. */
  #ungranted = 0;
  #blocked: (() => void) | undefined;
  #sentClose = false;
  #gotClose = false;
  #reset = false;

  constructor(
    readonly id: number,
    private readonly host: StreamHost,
  ) {
    super({ allowHalfOpen: true });
  }

  // --- from the peer (called by the session)

  onData(payload: Uint8Array): void {
    if (this.#gotClose || this.destroyed) return;
    if (payload.length > this.#recvAllowance) throw new TunnelProtocolError(`stream ${this.id}: peer sent ${payload.length} bytes beyond its window`);
    this.#recvAllowance -= payload.length;
    this.#ungranted += payload.length;
    // Copy: the payload is a view into the WebSocket's message buffer.
    this.push(Buffer.from(payload));
  }

  onWindow(increment: number): void {
    this.#sendCredit += increment;
    const resume = this.#blocked;
    this.#blocked = undefined;
    resume?.();
  }

  onClose(): void {
    if (this.#gotClose) return;
    this.#gotClose = true;
    this.push(null);
  }

  onReset(reason: string): void {
    this.#reset = true;
    this.destroy(new Error(`stream reset by the peer${reason ? `: ${reason}` : ''}`));
  }

  // --- Duplex

  override _read(): void {
    if (this.#ungranted === 0 || this.#gotClose) return;
    const n = this.#ungranted;
    this.#ungranted = 0;
    this.#recvAllowance += n;
    this.host.sendFrame(FrameType.WINDOW, this.id, windowPayload(n));
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    let off = 0;
    const pump = () => {
      if (this.destroyed) return cb(new Error('stream closed'));
      while (off < chunk.length) {
        const n = Math.min(this.#sendCredit, MAX_FRAME_PAYLOAD, chunk.length - off);
        if (n === 0) {
          // Out of credit: wait for the peer's WINDOW. Our own writable buffer fills and `write()` returns false.
          this.#blocked = pump;
          return;
        }
        this.host.sendFrame(FrameType.DATA, this.id, chunk.subarray(off, off + n));
        this.#sendCredit -= n;
        off += n;
      }
      cb();
    };
    pump();
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.#sentClose = true;
    this.host.sendFrame(FrameType.CLOSE, this.id);
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const clean = this.#sentClose && this.#gotClose;
    if (!clean && !this.#reset) this.host.sendFrame(FrameType.RESET, this.id, Buffer.from(err?.message ?? 'closed', 'utf8'));
    this.host.forget(this.id);
    const blocked = this.#blocked;
    this.#blocked = undefined;
    blocked?.();
    cb(err);
  }
}
