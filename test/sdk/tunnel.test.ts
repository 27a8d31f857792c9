import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Duplex } from 'node:stream';
import { describe, it } from 'node:test';

import {
  decodeFrame,
  encodeFrame,
  FrameType,
  INITIAL_WINDOW,
  MAX_FRAME_PAYLOAD,
  TunnelProtocolError,
  type OpenSpec,
} from '../../src/sdk/tunnel/frames.js';
import { TunnelSession } from '../../src/sdk/tunnel/session.js';
import { waitFor } from '../harness/wait.js';

/** A duplex that echoes what is written to it. */
function echo(): Duplex {
  const d: Duplex = new Duplex({
    read() {},
    write(chunk, _enc, cb) {
      d.push(chunk);
      cb();
    },
    final(cb) {
      d.push(null);
      cb();
    },
  });
  return d;
}

/** A duplex that keeps what is written to it and acknowledges writes only while not stalled. */
function sink() {
  const chunks: Buffer[] = [];
  const waiting: (() => void)[] = [];
  let stalled = true;
  const d = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      if (stalled) waiting.push(cb);
      else cb();
    },
  });
  return {
    d,
    received: () => Buffer.concat(chunks),
    release() {
      stalled = false;
      for (const cb of waiting.splice(0)) cb();
    },
  };
}

/** A server and an agent session wired to each other (asynchronously, in order, like a socket). */
function pair(onOpen: (spec: OpenSpec) => Promise<Duplex>, opts: { maxStreams?: number } = {}) {
  const wire = new Map<number, number>();
  const peers: { server?: TunnelSession; agent?: TunnelSession } = {};
  const deliver = (to: () => TunnelSession) => (frame: Buffer) => {
    const f = decodeFrame(frame);
    if (f.type === FrameType.DATA) wire.set(f.stream, (wire.get(f.stream) ?? 0) + f.payload.length);
    setImmediate(() => to().receive(frame));
  };
  const server = new TunnelSession({ role: 'server', send: deliver(() => peers.agent as TunnelSession), maxStreams: opts.maxStreams });
  const agent = new TunnelSession({ role: 'agent', send: deliver(() => server), onOpen, maxStreams: opts.maxStreams });
  peers.agent = agent;
  return { server, agent, wire };
}

async function readAll(s: Duplex): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of s) out.push(c as Buffer);
  return Buffer.concat(out);
}

describe('tunnel framing', () => {
  it('round-trips every frame type and refuses malformed frames', () => {
    const payload = randomBytes(100);
    for (const t of Object.values(FrameType)) {
      const f = decodeFrame(encodeFrame(t, 0xfffffffe, payload));
      assert.equal(f.type, t);
      assert.equal(f.stream, 0xfffffffe);
      assert.deepEqual(Buffer.from(f.payload), payload);
    }
    assert.throws(() => decodeFrame(Buffer.from([3, 0, 0])), TunnelProtocolError);
    assert.throws(() => decodeFrame(encodeFrame(3, 1).fill(99, 0, 1)), /unknown frame type 99/);
    assert.throws(() => decodeFrame(encodeFrame(FrameType.DATA, 1, Buffer.alloc(MAX_FRAME_PAYLOAD + 1))), /exceeds/);
    assert.throws(() => encodeFrame(FrameType.DATA, -1), RangeError);
  });
});

describe('tunnel session', () => {
  it('carries a stream both ways, with half-close, intact over many frames', async () => {
    const { server } = pair(async () => echo());
    const s = await server.open({ kind: 'tcp', port: 1 });
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const got = readAll(s);
    s.end(data);
    assert.ok((await got).equals(data));
  });

  it('a stalled stream stops at its window while another stream keeps flowing; it resumes when read', async () => {
    const slow = sink();
    const { server, wire } = pair(async (spec) => (spec.kind === 'slow' ? slow.d : echo()));
    const s1 = await server.open({ kind: 'slow' });
    const data = randomBytes(4 * 1024 * 1024);
    s1.end(data);
    await waitFor(async () => (wire.get(1) ?? 0) >= INITIAL_WINDOW || undefined, 'the first window on the wire');

    // A round trip on another stream: frames are ordered, so every credit granted before it has been used after it.
    const s2 = await server.open({ kind: 'tcp', port: 2 });
    const got = readAll(s2);
    s2.end('ping');
    assert.equal((await got).toString(), 'ping');
    const sent = wire.get(1) ?? 0;
    assert.ok(sent <= INITIAL_WINDOW + 2 * MAX_FRAME_PAYLOAD, `a stalled reader was sent ${sent} bytes`);
    assert.ok(s1.writableLength > 0, 'the writer holds the rest itself');

    slow.release();
    await waitFor(async () => slow.received().length === data.length || undefined, 'all bytes through once the reader reads');
    assert.ok(slow.received().equals(data));
  });

  it('an OPEN the peer refuses rejects with its reason; a peer that accepts nothing refuses all', async () => {
    const { server, agent } = pair(async (spec) => {
      throw new Error(`no ${spec.kind} here`);
    });
    await assert.rejects(server.open({ kind: 'pty' }), /no pty here/);
    assert.equal(server.streamCount, 0);
    await waitFor(async () => agent.streamCount === 0 || undefined, 'the agent forgot the refused stream');
    const lone = pair(async () => echo());
    await assert.rejects(lone.agent.open({ kind: 'tcp', port: 1 }), /accepts no streams/);
  });

  it('caps the streams open at once and frees the slot when one ends', async () => {
    const { server } = pair(async () => echo(), { maxStreams: 2 });
    const a = await server.open({ kind: 'tcp', port: 1 });
    await server.open({ kind: 'tcp', port: 1 });
    await assert.rejects(server.open({ kind: 'tcp', port: 1 }), /too many streams/);
    const got = readAll(a);
    a.end('x');
    await got;
    await waitFor(async () => server.streamCount === 1 || undefined, 'the ended stream is forgotten');
    await server.open({ kind: 'tcp', port: 1 });
  });

  it('an OPEN nobody answers fails after the open timeout', async () => {
    const silent = new TunnelSession({ role: 'server', send: () => {}, openTimeoutMs: 50 });
    await assert.rejects(silent.open({ kind: 'tcp', port: 1 }), /did not answer/);
    assert.equal(silent.streamCount, 0);
  });

  it('closing the session fails its streams and further opens', async () => {
    const { server } = pair(async () => echo());
    const s = await server.open({ kind: 'tcp', port: 1 });
    const closed = new Promise<Error | undefined>((resolve) => s.once('error', resolve));
    server.close();
    assert.match(String(await closed), /closed/);
    await assert.rejects(server.open({ kind: 'tcp', port: 1 }), /closed/);
  });

  it('a peer that sends beyond its window or breaks the framing is a protocol error', async () => {
    const { server } = pair(async () => echo());
    await server.open({ kind: 'tcp', port: 1 });
    const data = (n: number) => encodeFrame(FrameType.DATA, 1, Buffer.alloc(n));
    for (let i = 0; i < INITIAL_WINDOW / MAX_FRAME_PAYLOAD; i++) server.receive(data(MAX_FRAME_PAYLOAD));
    assert.throws(() => server.receive(data(1)), /beyond its window/);
    assert.throws(() => server.receive(encodeFrame(FrameType.DATA, 0)), /stream 0/);
    assert.throws(() => server.receive(encodeFrame(FrameType.OPEN, 3, Buffer.from('{"kind":"tcp"}'))), /invalid stream id/);
  });
});
