// Helpers shared by the foundation tests: raw HTTP requests, and the checks every error body must pass.
import assert from 'node:assert/strict';

import { isSdkError, type SdkError } from '../../src/sdk/errors.js';
import type { Response } from '../../src/sdk/types/response.js';

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body when it is JSON, else undefined. */
  body: unknown;
}

export interface RawRequest {
  token?: string;
  headers?: Record<string, string>;
  /** Sent as JSON with `Content-Type: application/json`. */
  json?: unknown;
  /** Sent as-is; set the content type in `headers` yourself. */
  raw?: string | Uint8Array;
}

/** One HTTP request without the SDK, so tests see exactly what the server wrote. */
export async function request(baseUrl: string, method: string, path: string, opts: RawRequest = {}): Promise<RawResponse> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers['Coder-Session-Token'] = opts.token;
  let body: string | Uint8Array | undefined = opts.raw;
  if (opts.json !== undefined) {
    headers['Content-Type'] ??= 'application/json';
    body = JSON.stringify(opts.json);
  }
  const res = await fetch(new URL(path, baseUrl), { method, headers, body });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, text, body: parsed };
}

/** Asserts the body is Coder's error envelope `{message, detail?, validations?}` and nothing else. */
export function checkEnvelope(body: unknown, text = JSON.stringify(body)): Response {
  assert.ok(body !== null && typeof body === 'object' && !Array.isArray(body), `not a JSON object: ${text}`);
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) assert.ok(['message', 'detail', 'validations'].includes(k), `unexpected key "${k}" in ${text}`);
  assert.equal(typeof b.message, 'string', `message: ${text}`);
  assert.ok((b.message as string).length > 0, `empty message: ${text}`);
  if ('detail' in b) assert.ok(typeof b.detail === 'string' && b.detail.length > 0, `detail: ${text}`);
  if ('validations' in b) {
    assert.ok(Array.isArray(b.validations) && b.validations.length > 0, `validations: ${text}`);
    for (const v of b.validations as unknown[]) {
      const e = v as Record<string, unknown>;
      assert.deepEqual(Object.keys(e).sort(), ['detail', 'field'], `validation entry: ${text}`);
      assert.equal(typeof e.field, 'string');
      assert.equal(typeof e.detail, 'string');
    }
  }
  assert.doesNotMatch(text, /\n\s+at |statusCode|FST_ERR/, `stack trace or Fastify error shape: ${text}`);
  return b as unknown as Response;
}

/** Asserts status, JSON content type and the envelope; returns the envelope. */
export function assertEnvelope(res: RawResponse, status: number, message?: string | RegExp): Response {
  assert.equal(res.status, status, `status ${res.status}: ${res.text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/, `content type of ${res.text}`);
  const env = checkEnvelope(res.body, res.text);
  if (typeof message === 'string') assert.equal(env.message, message);
  else if (message) assert.match(env.message, message);
  return env;
}

/** Awaits an SDK call that must fail with `status`; checks the envelope the SDK carries. */
export async function expectSdkError(p: Promise<unknown>, status: number, message?: string | RegExp): Promise<SdkError> {
  try {
    await p;
  } catch (e) {
    assert.ok(isSdkError(e), `expected an SdkError, got ${String(e)}`);
    assert.equal(e.status, status, `status: ${JSON.stringify(e.response)}`);
    // The SDK invents "Unexpected status code" only when the server's body was not an envelope.
    assert.doesNotMatch(e.response.message, /^Unexpected status code/);
    checkEnvelope(e.response);
    if (typeof message === 'string') assert.equal(e.response.message, message);
    else if (message) assert.match(e.response.message, message);
    return e;
  }
  assert.fail(`expected ${status}, got success`);
}

/** Polls `check` until it returns a truthy value or the deadline passes: no fixed sleeps in tests. */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 10_000, intervalMs = 20): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export const SIGNED_OUT = 'You are signed out or your session has expired. Please sign in again to continue.';
export const NOT_FOUND = 'Resource not found or you do not have access to this resource';
export const TOKEN_RE = /^[a-zA-Z0-9]{10}-[a-zA-Z0-9]{22}$/;
