// Serves the provider the way go-plugin expects a plugin to: check the magic cookie, pick protocol 5 from
// PLUGIN_PROTOCOL_VERSIONS, listen on a unix socket with mutual TLS, register the health service ("plugin" is
// SERVING), the controller (Shutdown ends the process) and stdio, then print the one handshake line on stdout:
// `1|5|unix|<socket>|grpc|<server certificate>`.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';

import { messageType, toPlain } from './protocol.js';
import { CoderProvider } from './provider.js';
import { makeServerCertificate } from './tls.js';

export const MAGIC_COOKIE_KEY = 'TF_PLUGIN_MAGIC_COOKIE';
export const MAGIC_COOKIE_VALUE = 'd602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2';
const CORE_PROTOCOL_VERSION = 1;
const APP_PROTOCOL_VERSION = 5;

type Handler = (req: Record<string, unknown>) => Record<string, unknown>;

export function unary(service: string, name: string, reqType: string, resType: string): grpc.MethodDefinition<Record<string, unknown>, Record<string, unknown>> {
  const Req: protobuf.Type = messageType(reqType);
  const Res: protobuf.Type = messageType(resType);
  return {
    path: `/${service}/${name}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: (m) => Buffer.from(Req.encode(Req.fromObject(m)).finish()),
    requestDeserialize: (b) => toPlain(Req, Req.decode(b)),
    responseSerialize: (m) => Buffer.from(Res.encode(Res.fromObject(m)).finish()),
    responseDeserialize: (b) => toPlain(Res, Res.decode(b)),
  };
}

/** The tfplugin5.Provider methods served, with their request and response messages. */
function providerMethods(p: CoderProvider): Record<string, [string, string, Handler]> {
  return {
    GetMetadata: ['GetMetadataRequest', 'GetMetadataResponse', () => p.getMetadata()],
    GetSchema: ['GetProviderSchemaRequest', 'GetProviderSchemaResponse', () => p.getSchema()],
    PrepareProviderConfig: ['PrepareProviderConfigRequest', 'PrepareProviderConfigResponse', (r) => p.prepareProviderConfig(r)],
    ValidateResourceTypeConfig: ['ValidateConfigRequest', 'DiagnosticsResponse', (r) => p.validateResourceTypeConfig(r)],
    ValidateDataSourceConfig: ['ValidateConfigRequest', 'DiagnosticsResponse', (r) => p.validateDataSourceConfig(r)],
    UpgradeResourceState: ['UpgradeResourceStateRequest', 'UpgradeResourceStateResponse', (r) => p.upgradeResourceState(r)],
    Configure: ['ConfigureRequest', 'DiagnosticsResponse', (r) => p.configure(r)],
    ReadResource: ['ReadResourceRequest', 'ReadResourceResponse', (r) => p.readResource(r)],
    PlanResourceChange: ['PlanResourceChangeRequest', 'PlanResourceChangeResponse', (r) => p.planResourceChange(r)],
    ApplyResourceChange: ['ApplyResourceChangeRequest', 'ApplyResourceChangeResponse', (r) => p.applyResourceChange(r)],
    ImportResourceState: ['ImportResourceStateRequest', 'ImportResourceStateResponse', (r) => p.importResourceState(r)],
    ReadDataSource: ['ReadDataSourceRequest', 'ReadDataSourceResponse', (r) => p.readDataSource(r)],
    Stop: ['StopRequest', 'StopResponse', () => ({ Error: '' })],
  };
}

export interface ServeOptions {
  env: NodeJS.ProcessEnv;
  /** Where the handshake line goes (stdout). */
  out: (line: string) => void;
  /** Diagnostics for humans (stderr; Terraform logs a plugin's stderr). */
  log: (line: string) => void;
}

export interface RunningPlugin {
  /** Resolves when the controller asked to shut down or the server was stopped. */
  done: Promise<void>;
  stop(): void;
}

export class HandshakeError extends Error {}

export async function servePlugin(o: ServeOptions): Promise<RunningPlugin> {
  if (o.env[MAGIC_COOKIE_KEY] !== MAGIC_COOKIE_VALUE) {
    throw new HandshakeError(
      'This binary is a plugin. These are not meant to be executed directly.\n' +
        'Please execute the program that consumes these plugins, which will\n' +
        'load any plugins automatically',
    );
  }
  const offered = (o.env.PLUGIN_PROTOCOL_VERSIONS ?? String(APP_PROTOCOL_VERSION)).split(',').map((v) => Number(v.trim()));
  if (!offered.includes(APP_PROTOCOL_VERSION)) {
    throw new HandshakeError(`kiln's coder provider speaks plugin protocol ${APP_PROTOCOL_VERSION}; Terraform offered ${o.env.PLUGIN_PROTOCOL_VERSIONS}`);
  }
  const clientCert = o.env.PLUGIN_CLIENT_CERT;
  if (!clientCert) throw new HandshakeError('PLUGIN_CLIENT_CERT is not set: Terraform must start this plugin with automatic mutual TLS');

  const provider = new CoderProvider(o.env);
  const server = new grpc.Server();

  const methods = providerMethods(provider);
  const definition: Record<string, grpc.MethodDefinition<Record<string, unknown>, Record<string, unknown>>> = {};
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const [name, [reqType, resType, handler]] of Object.entries(methods)) {
    definition[name] = unary('tfplugin5.Provider', name, `tfplugin5.${reqType}`, `tfplugin5.${resType}`);
    implementation[name] = (call: grpc.ServerUnaryCall<Record<string, unknown>, Record<string, unknown>>, cb: grpc.sendUnaryData<Record<string, unknown>>) => {
      try {
        cb(null, handler(call.request));
      } catch (e) {
        o.log(`provider ${name}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        cb({ code: grpc.status.INTERNAL, details: e instanceof Error ? e.message : String(e) });
      }
    };
  }
  server.addService(definition, implementation);

  server.addService(
    { Check: unary('grpc.health.v1.Health', 'Check', 'grpc.health.v1.HealthCheckRequest', 'grpc.health.v1.HealthCheckResponse') },
    { Check: (_call: unknown, cb: grpc.sendUnaryData<Record<string, unknown>>) => cb(null, { status: 1 /* SERVING */ }) },
  );

  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));
  const stdioStreams = new Set<grpc.ServerWritableStream<unknown, unknown>>();
  // A private directory (mode 0700) for the socket; names stay short, as a socket path may not exceed 107 bytes.
  const socketDir = mkdtempSync(path.join(o.env.PLUGIN_UNIX_SOCKET_DIR || os.tmpdir(), 'kcp-'));
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    for (const s of stdioStreams) s.end();
    const done = () => {
      rmSync(socketDir, { recursive: true, force: true });
      finish();
    };
    // Calls in flight (the Shutdown reply itself) finish first; a client that holds on is cut after a second.
    const force = setTimeout(() => {
      server.forceShutdown();
      done();
    }, 1000);
    server.tryShutdown(() => {
      clearTimeout(force);
      done();
    });
  };

  server.addService(
    { Shutdown: unary('plugin.GRPCController', 'Shutdown', 'plugin.Empty', 'plugin.Empty') },
    {
      Shutdown: (_call: unknown, cb: grpc.sendUnaryData<Record<string, unknown>>) => {
        cb(null, {});
        stop();
      },
    },
  );
  // go-plugin copies a plugin's output from this stream; everything here goes to stderr directly, so the stream
  // stays open and empty until shutdown.
  const stdioType = messageType('plugin.StdioData');
  const emptyType = messageType('plugin.Empty');
  server.addService(
    {
      StreamStdio: {
        path: '/plugin.GRPCStdio/StreamStdio',
        requestStream: false,
        responseStream: true,
        requestSerialize: (m: Record<string, unknown>) => Buffer.from(emptyType.encode(emptyType.fromObject(m)).finish()),
        requestDeserialize: (b: Buffer) => toPlain(emptyType, emptyType.decode(b)),
        responseSerialize: (m: Record<string, unknown>) => Buffer.from(stdioType.encode(stdioType.fromObject(m)).finish()),
        responseDeserialize: (b: Buffer) => toPlain(stdioType, stdioType.decode(b)),
      },
    },
    {
      StreamStdio: (call: grpc.ServerWritableStream<unknown, unknown>) => {
        stdioStreams.add(call);
        call.on('cancelled', () => stdioStreams.delete(call));
      },
    },
  );

  const cert = makeServerCertificate();
  const credentials = grpc.ServerCredentials.createSsl(
    Buffer.from(clientCert),
    [{ cert_chain: Buffer.from(cert.certPem), private_key: Buffer.from(cert.keyPem) }],
    true,
  );
  const socket = path.join(socketDir, 's.sock');
  await new Promise<void>((resolve, reject) => server.bindAsync(`unix://${socket}`, credentials, (err) => (err ? reject(err) : resolve())));

  o.out(`${CORE_PROTOCOL_VERSION}|${APP_PROTOCOL_VERSION}|unix|${socket}|grpc|${cert.handshakeField}\n`);
  return { done, stop };
}
