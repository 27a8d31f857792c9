// The go-plugin side of the provider process, checked from a gRPC client that behaves as Terraform's does: the
// handshake line, mutual TLS (a client without the certificate named in PLUGIN_CLIENT_CERT is refused), the health
// service for "plugin", the provider service, and the controller's Shutdown ending the process.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';

import * as grpc from '@grpc/grpc-js';

import { defaultMainPath } from '../../src/provisioners/terraform/provider/install.js';
import { MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE, unary } from '../../src/provisioners/terraform/provider/server.js';
import { makeServerCertificate } from '../../src/provisioners/terraform/provider/tls.js';

type Msg = Record<string, unknown>;

describe('the provider process', () => {
  const clientCert = makeServerCertificate();
  let child: ChildProcess;
  let exited: Promise<number | null>;
  let handshake: string[];
  let stderr = '';

  before(async () => {
    const main = defaultMainPath();
    assert.ok(existsSync(main), 'run `npm run build` before the provider tests');
    child = spawn(process.execPath, [main], {
      env: { PATH: process.env.PATH, [MAGIC_COOKIE_KEY]: MAGIC_COOKIE_VALUE, PLUGIN_PROTOCOL_VERSIONS: '5,6', PLUGIN_CLIENT_CERT: clientCert.certPem },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      });
      child.on('exit', () => reject(new Error(`the provider exited before its handshake: ${stderr}`)));
    });
    handshake = line.split('|');
  });
  after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });

  function client(withCert: boolean): grpc.Client {
    const der = Buffer.from(handshake[5]!, 'base64');
    const serverPem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
    const creds = withCert
      ? grpc.credentials.createSsl(Buffer.from(serverPem), Buffer.from(clientCert.keyPem), Buffer.from(clientCert.certPem))
      : grpc.credentials.createSsl(Buffer.from(serverPem));
    return new grpc.Client(`unix://${handshake[3]}`, creds, { 'grpc.ssl_target_name_override': 'localhost', 'grpc.default_authority': 'localhost' });
  }

  function call(c: grpc.Client, def: grpc.MethodDefinition<Msg, Msg>, req: Msg = {}): Promise<Msg> {
    return new Promise((resolve, reject) =>
      c.makeUnaryRequest(def.path, def.requestSerialize, def.responseDeserialize, req, { deadline: Date.now() + 20_000 }, (err, res) => (err ? reject(err) : resolve(res!))),
    );
  }

  it('prints go-plugin’s handshake line: core 1, protocol 5, a unix socket, grpc, its certificate', () => {
    assert.equal(handshake.length, 6);
    assert.deepEqual(handshake.slice(0, 3), ['1', '5', 'unix']);
    assert.equal(handshake[4], 'grpc');
    assert.match(handshake[5]!, /^[A-Za-z0-9+/]{50,}$/, 'base64 without padding');
  });

  it('refuses a client without the certificate Terraform announced', async () => {
    const c = client(false);
    const health = unary('grpc.health.v1.Health', 'Check', 'grpc.health.v1.HealthCheckRequest', 'grpc.health.v1.HealthCheckResponse');
    await assert.rejects(call(c, health, { service: 'plugin' }));
    c.close();
  });

  it('answers health, schema and shutdown to the right client, then exits', async () => {
    const c = client(true);
    const health = await call(c, unary('grpc.health.v1.Health', 'Check', 'grpc.health.v1.HealthCheckRequest', 'grpc.health.v1.HealthCheckResponse'), { service: 'plugin' });
    assert.equal(health.status, 1); // SERVING
    const schema = await call(c, unary('tfplugin5.Provider', 'GetSchema', 'tfplugin5.GetProviderSchemaRequest', 'tfplugin5.GetProviderSchemaResponse'));
    const resources = Object.keys(schema.resourceSchemas as Msg).sort();
    assert.ok(resources.includes('coder_agent') && resources.includes('coder_app') && resources.includes('coder_metadata'));
    assert.ok(Object.keys(schema.dataSourceSchemas as Msg).includes('coder_parameter'));
    await call(c, unary('plugin.GRPCController', 'Shutdown', 'plugin.Empty', 'plugin.Empty'));
    c.close();
    assert.equal(await exited, 0);
  });
});
