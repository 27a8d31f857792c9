/** The server side of the provisioner protocol: what built-in daemons are wired to (see src/server/daemons.ts). */
export { InProcessProvisionerdClient, type DaemonIdentity, type InProcessClientOptions } from './client.js';
export { recoverServerDaemons, registerDaemon, touchDaemons, unregisterDaemons } from './daemons.js';
export { startReaperLoop, type ReaperLoop } from './reaperLoop.js';
