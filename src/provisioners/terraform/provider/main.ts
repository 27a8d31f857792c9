// kiln's coder/coder Terraform provider, as a process Terraform starts (through the shim install.ts writes).
// stdout carries only the handshake line; everything else goes to stderr, which Terraform keeps in its own log.
import { HandshakeError, servePlugin } from './server.js';

const log = (line: string) => process.stderr.write(`[kiln coder provider] ${line}\n`);

try {
  const plugin = await servePlugin({ env: process.env, out: (line) => process.stdout.write(line), log });
  // Terraform ends a plugin through the controller; should Terraform itself vanish first (killed), follow it.
  // process.ppid is read once at start, so the parent is probed instead.
  const parent = process.ppid;
  const watch = setInterval(() => {
    try {
      process.kill(parent, 0);
    } catch {
      plugin.stop();
    }
  }, 1000);
  watch.unref();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    // Terraform forwards the user's interrupt to its plugins; it still calls Stop and Shutdown itself afterwards.
    process.on(sig, () => {
      if (sig === 'SIGTERM') plugin.stop();
    });
  }
  await plugin.done;
  process.exit(0);
} catch (e) {
  log(e instanceof HandshakeError ? e.message : `failed to start: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exit(1);
}
