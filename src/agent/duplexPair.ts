import { Duplex } from 'node:stream';

/**
 * Two connected in-memory Duplex ends: what is written to one is read from the other, with backpressure and
 * half-close. It hands a server library (ssh2) a "socket" whose far end is a tunnel stream.
 */
export function duplexPair(): [Duplex, Duplex] {
  const ends: Duplex[] = [];
  /** The writer's callback waiting for room in end i's read buffer. */
  const pending: ((() => void) | undefined)[] = [undefined, undefined];
  const make = (self: number) => {
    const peer = 1 - self;
    return new Duplex({
      read() {
        const resume = pending[self];
        pending[self] = undefined;
        resume?.();
      },
      write(chunk: Buffer, _enc, cb) {
        // The peer's consumer reads from its buffer; hold the writer until it has room.
        if ((ends[peer] as Duplex).push(chunk)) cb();
        else pending[peer] = cb;
      },
      final(cb) {
        (ends[peer] as Duplex).push(null);
        cb();
      },
      destroy(err, cb) {
        const p = ends[peer] as Duplex;
        if (!p.destroyed) p.destroy(err ?? undefined);
        cb(err);
      },
    });
  };
  ends.push(make(0), make(1));
  return [ends[0] as Duplex, ends[1] as Duplex];
}
