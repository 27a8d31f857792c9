import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

import { coerceError } from '../../lib/errors.js';
import { APP_TOKEN_QUERY, parseAppHost, PATH_APP_COOKIE, SUBDOMAIN_APP_COOKIE, type AppAddress } from '../../sdk/apps.js';
import { join } from '../../sdk/tunnel/session.js';
import { AgentUnreachableError } from '../agents/tunnels.js';
import type { Subject } from '../authz.js';
import type { ServerContext } from '../context.js';
import { ApiError, errors } from '../http/errors.js';
import { parseCookies, SESSION_COOKIE, SESSION_HEADER, subjectFromToken } from '../middleware/apiKey.js';

import { resolveApp, subjectFromAppToken, type AppTarget } from './access.js';
import { requestHeadersForApp, responseHeadersFromApp } from './headers.js';

/** `/@<owner>/<workspace>.<agent>/apps/<app><rest>`: Coder's path-based app URL on the dashboard origin. */
const PATH_APP = /^\/@([^/?#]+)\/([^/?#.]+)\.([^/?#]+)\/apps\/([^/?#]+)(.*)$/;

type Route = { kind: 'subdomain'; addr: AppAddress; rest: string } | { kind: 'path'; addr: AppAddress; rest: string; prefix: string };

export interface AppProxy {
  /** Serves the request if it is for an app (its Host names one, or its path is a path app); false otherwise. */
  request(req: IncomingMessage, res: ServerResponse): boolean;
  /** The same for an upgrade (WebSocket) request. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
}

/**
 * The app proxy (docs/security.md, "App proxy"). It sits in front of the API on the same listener: requests whose
 * Host is an app's (`<app>--<agent>--<workspace>--<owner>.<wildcard host>`) are authenticated with the app's own
 * token (or a `Coder-Session-Token` header), authorised (workspace owner or site owner; 404 otherwise), stripped of
 * kiln's credentials, and carried over the agent's tunnel to the app's port inside the workspace.
 */
export function createAppProxy(ctx: ServerContext): AppProxy {
  const log = ctx.logger.child({ component: 'app-proxy' });

  const route = (req: IncomingMessage): Route | undefined => {
    const url = req.url ?? '/';
    const addr = parseAppHost(req.headers.host, ctx.options.wildcardAccessUrl);
    if (addr) return { kind: 'subdomain', addr, rest: url };
    const m = PATH_APP.exec(url);
    if (!m) return undefined;
    const [owner, workspace, agent, app] = m.slice(1, 5).map((s) => safeDecode(s ?? '')) as [string, string, string, string];
    const rest = m[5] ?? '';
    return { kind: 'path', addr: { owner, workspace, agent, app }, rest, prefix: url.slice(0, url.length - rest.length) };
  };

  const accessProto = () => new URL(ctx.options.accessUrl).protocol.replace(':', '');

  /** Who is asking, or undefined when nobody authenticated (a browser is then sent for an app token). */
  const authenticateApp = async (req: IncomingMessage, r: Route): Promise<Subject | undefined> => {
    const cookies = parseCookies(req.headers.cookie);
    const header = req.headers[SESSION_HEADER];
    if (typeof header === 'string' && header) return (await subjectFromToken(ctx, header)).subject;
    if (r.kind === 'subdomain') {
      const t = cookies[SUBDOMAIN_APP_COOKIE];
      return t ? subjectFromAppToken(ctx, t, r.addr) : undefined;
    }
    // A path app shares the dashboard's origin, hence its session cookie (one reason path apps are off by default).
    const t = cookies[SESSION_COOKIE] ?? cookies[PATH_APP_COOKIE];
    return t ? (await subjectFromToken(ctx, t)).subject : undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, r: Route): Promise<void> => {
    if (r.kind === 'path' && !ctx.options.enablePathApps) throw pathAppsDisabled();
    if (r.kind === 'path' && r.rest === '') {
      // Relative links of the app resolve against the directory: `/apps/web` must become `/apps/web/`.
      return redirect(res, `${r.prefix}/`);
    }
    const url = new URL(r.rest || '/', 'http://app');
    if (r.kind === 'subdomain' && url.searchParams.has(APP_TOKEN_QUERY)) {
      // The end of the auth redirect: keep the token in this origin's cookie and take it out of the address bar.
      const token = url.searchParams.get(APP_TOKEN_QUERY) ?? '';
      if (!(await subjectFromAppToken(ctx, token, r.addr))) throw new ApiError(401, 'The application token is invalid or has expired.', 'Open the app from the dashboard again.');
      url.searchParams.delete(APP_TOKEN_QUERY);
      const secure = accessProto() === 'https' ? '; Secure' : '';
      res.setHeader('Set-Cookie', `${SUBDOMAIN_APP_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${Math.floor(ctx.options.appTokenLifetimeMs / 1000)}${secure}`);
      return redirect(res, `${url.pathname}${url.search}`);
    }
    const subject = await authenticateApp(req, r);
    if (!subject) {
      if (r.kind === 'subdomain' && (req.method === 'GET' || req.method === 'HEAD')) {
        const back = `${accessProto()}://${req.headers.host}${r.rest}`;
        return redirect(res, `${ctx.options.accessUrl}/api/v2/applications/auth-redirect?redirect_uri=${encodeURIComponent(back)}`);
      }
      throw errors.unauthorized('An application token or a Coder-Session-Token header must be provided.');
    }
    const target = await resolveApp(ctx, subject, r.addr);
    audit(subject, target);
    const upstream = await openAppStream(target);
    await new Promise<void>((resolve) => {
      const preq = http.request({
        createConnection: () => upstream as never,
        method: req.method,
        path: target.basePath + (r.rest || '/'),
        headers: requestHeadersForApp(req.rawHeaders, headerOpts(req, target, false)) as never,
      });
      preq.on('response', (pres) => {
        res.writeHead(pres.statusCode ?? 502, responseHeadersFromApp(pres.headers));
        pres.pipe(res);
        pres.on('end', resolve);
        pres.on('error', () => res.destroy());
      });
      preq.on('error', (e) => {
        if (!res.headersSent) sendError(res, new ApiError(502, 'The application closed the connection.', e.message));
        else res.destroy();
        resolve();
      });
      res.on('close', () => {
        upstream.destroy();
        resolve();
      });
      req.pipe(preq);
    });
  };

  /** A site owner opening someone else's app is worth a line in the server log. */
  const audit = (subject: Subject, t: AppTarget) => {
    if (subject.userId !== t.owner_id) log.info({ user: subject.username, workspaceId: t.workspace_id, app: t.app_slug }, "a site owner opened another user's app");
  };

  const openAppStream = async (t: AppTarget): Promise<Duplex> => {
    try {
      return await ctx.tunnels.openStream(t.agent_id, { kind: 'tcp', port: t.port });
    } catch (e) {
      if (e instanceof AgentUnreachableError) throw new ApiError(502, 'The workspace agent is not connected.', 'Start the workspace, or wait for its agent to connect.');
      throw new ApiError(502, 'Could not reach the application in the workspace.', coerceError(e).message);
    }
  };

  const headerOpts = (req: IncomingMessage, t: AppTarget, upgrade: boolean) => ({
    upgrade,
    host: `127.0.0.1:${t.port}`,
    forwardedHost: req.headers.host ?? '',
    proto: accessProto(),
    remote: req.socket.remoteAddress,
  });

  const upgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer, r: Route): Promise<void> => {
    if (r.kind === 'path' && !ctx.options.enablePathApps) throw pathAppsDisabled();
    const subject = await authenticateApp(req, r);
    if (!subject) throw errors.unauthorized('An application token or a Coder-Session-Token header must be provided.');
    const target = await resolveApp(ctx, subject, r.addr);
    audit(subject, target);
    const upstream = await openAppStream(target);
    const lines = [`${req.method ?? 'GET'} ${target.basePath}${r.rest || '/'} HTTP/1.1`];
    for (const [k, v] of requestHeadersForApp(req.rawHeaders, headerOpts(req, target, true))) lines.push(`${k}: ${v.replace(/[\r\n]/g, '')}`);
    upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length) upstream.write(head);
    // From here on the bytes are the app's and the client's: the app answers the upgrade itself.
    join(socket, upstream);
  };

  return {
    request(req, res) {
      const r = route(req);
      if (!r) return false;
      // Like the API's request log: never the query string, which may hold an app token.
      const started = Date.now();
      res.on('finish', () => {
        log.info({ method: req.method, host: req.headers.host, path: (req.url ?? '').split('?')[0], status: res.statusCode, ms: Date.now() - started }, 'app request');
      });
      handle(req, res, r).catch((e: unknown) => {
        if (!(e instanceof ApiError)) log.warn({ err: coerceError(e).message }, 'app request failed');
        if (res.headersSent) res.destroy();
        else sendError(res, e instanceof ApiError ? e : new ApiError(502, 'The application request failed.', coerceError(e).message));
      });
      return true;
    },
    upgrade(req, socket, head) {
      const r = route(req);
      if (!r) return false;
      socket.on('error', () => socket.destroy());
      upgrade(req, socket, head, r).catch((e: unknown) => {
        const err = e instanceof ApiError ? e : new ApiError(502, 'The application request failed.', coerceError(e).message);
        const body = JSON.stringify({ message: err.message, detail: err.detail });
        socket.end(
          `HTTP/1.1 ${err.status} ${http.STATUS_CODES[err.status] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
      });
      return true;
    },
  };
}

function pathAppsDisabled(): ApiError {
  return new ApiError(404, 'Path-based applications are disabled on this deployment.', 'Open the app on its subdomain URL (see the dashboard); a server started with --enable-path-apps serves this form.');
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(307, { Location: location, 'Cache-Control': 'no-store' });
  res.end();
}

function sendError(res: ServerResponse, e: ApiError): void {
  const body = JSON.stringify({ message: e.message, ...(e.detail ? { detail: e.detail } : {}) });
  res.writeHead(e.status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(body);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
