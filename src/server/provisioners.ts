import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { EchoProvisioner } from '../provisioners/echo/echo.js';
import { LocalProvisioner } from '../provisioners/local/local.js';
import type { Provisioner } from '../provisionersdk/provisioner.js';

/** `bin/kiln.js` of this installation: the local provisioner starts `kiln agent` from it. */
const KILN_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'kiln.js');

export interface ProvisionerFactoryOptions {
  /** Where the local provisioner keeps workspaces. */
  dataDir: string;
  /** The URL workspaces' agents reach the server at. */
  accessUrl: string;
}

/**
 * Every provisioner this build of kiln can run, by type: the one place built-in daemons (`kiln server`) and external
 * ones (`kiln provisionerd start --provisioner …`) get them from. A new provisioner is one line here.
 */
const FACTORIES: Record<string, (o: ProvisionerFactoryOptions) => Provisioner> = {
  echo: () => new EchoProvisioner(),
  local: (o) => new LocalProvisioner({ dataDir: o.dataDir, accessUrl: o.accessUrl, agentCommand: [process.execPath, KILN_BIN, 'agent'] }),
};

export function availableProvisioners(): string[] {
  return Object.keys(FACTORIES);
}

/** Builds the named provisioners; an unknown name is an error naming the ones there are. */
export function createProvisioners(names: readonly string[], o: ProvisionerFactoryOptions): Record<string, Provisioner> {
  const out: Record<string, Provisioner> = {};
  for (const name of names) {
    const make = FACTORIES[name];
    if (!make) throw new Error(`unknown provisioner "${name}": this kiln has ${availableProvisioners().join(', ')}`);
    out[name] = make(o);
  }
  return out;
}
