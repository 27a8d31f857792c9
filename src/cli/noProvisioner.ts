import type { MatchedProvisioners } from '../sdk/types/provisionerJobs.js';

import type { OutStream } from './io.js';

/**
 * The warning for a job no connected daemon can run (matched_provisioners.count = 0): without it the job would sit in
 * `pending` until the pending timeout with nothing said.
 */
export function warnIfNoProvisioner(out: OutStream, provisioner: string, matched: MatchedProvisioners | undefined, what: string): void {
  if (!matched) return;
  if (matched.count === 0) {
    out.write(`warning: no provisioner daemon can run ${what}: none offers provisioner "${provisioner}". It stays pending until one does ` +
      `(for terraform, install terraform 1.3+ where kiln server runs, or pass --terraform-path).\n`);
  } else if (matched.available === 0) {
    out.write(`warning: the provisioner daemons that can run ${what} have not been seen recently (last: ${matched.most_recently_seen ?? 'never'}); it may stay pending.\n`);
  }
}
