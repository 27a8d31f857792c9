import { agentScriptEnv } from '../../provisionersdk/agentScript.js';
import type { ProvisionRequest } from '../../provisionersdk/provisioner.js';

/**
 * The server's own environment minus what belongs to kiln or Coder (flags, tokens, database URLs): Terraform and the
 * templates' local-exec commands run with it, so nothing of the server's configuration leaks into a template.
 */
export function safeEnviron(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !k.startsWith('KILN_') && !k.startsWith('CODER_')) out[k] = v;
  return out;
}

/**
 * What Coder's terraform provisioner gives Terraform (provisioner/terraform/provision.go, provisionEnv): the access
 * URL, the workspace and template it builds, the agent init scripts, and legacy parameters whose destination is an
 * environment variable.
 */
export function provisionEnv(req: ProvisionRequest, transition: 'start' | 'stop' | 'delete', accessUrl: string): Record<string, string> {
  const m = req.metadata;
  const env: Record<string, string> = {
    ...safeEnviron(),
    // Terraform must never prompt, nor phone home, in a job.
    TF_IN_AUTOMATION: '1',
    TF_INPUT: '0',
    CHECKPOINT_DISABLE: '1',
    CODER_AGENT_URL: m.access_url || accessUrl,
    CODER_WORKSPACE_TRANSITION: transition,
    CODER_WORKSPACE_NAME: m.workspace_name ?? '',
    CODER_WORKSPACE_OWNER: m.workspace_owner ?? '',
    CODER_WORKSPACE_OWNER_EMAIL: m.workspace_owner_email ?? '',
    // kiln users have no separate display name: the username stands in for it.
    CODER_WORKSPACE_OWNER_NAME: m.workspace_owner ?? '',
    CODER_WORKSPACE_ID: m.workspace_id ?? '',
    CODER_WORKSPACE_OWNER_ID: m.workspace_owner_id ?? '',
    CODER_WORKSPACE_TEMPLATE_ID: m.template_id ?? '',
    CODER_WORKSPACE_TEMPLATE_NAME: m.template_name,
    CODER_WORKSPACE_TEMPLATE_VERSION: m.template_version,
    CODER_WORKSPACE_BUILD_ID: m.workspace_build_id ?? '',
    ...agentScriptEnv(),
  };
  for (const p of req.parameters) if (p.destination_scheme === 'environment_variable') env[p.name] = p.value;
  return env;
}

/** Legacy parameters with a provisioner-variable destination become `-var name=value` (Coder's provisionVars). */
export function provisionVars(req: ProvisionRequest): string[] {
  return req.parameters.filter((p) => p.destination_scheme === 'provisioner_variable').flatMap((p) => ['-var', `${p.name}=${p.value}`]);
}
