import type { Agent, App, Resource } from '../../provisionersdk/provisioner.js';

import { dependents, dependsOn, labelOf, type DependencyGraph, type JsonResource } from './graph.js';

/**
 * Terraform resources → the resources a build reports, as Coder derives them (provisioner/terraform/resources.go):
 * every managed resource but the coder_* bookkeeping ones; each coder_agent goes to the nearest resource that depends
 * on it; each coder_app to its agent (by `agent_id`, or by reference while ids are unknown in a plan); each
 * coder_metadata decorates its resource (by `resource_id`, or the nearest resource it references).
 */

const BOOKKEEPING = new Set(['coder_agent', 'coder_agent_instance', 'coder_app', 'coder_metadata']);

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const bool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);

function stringMap(v: unknown): Record<string, string> | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return Object.keys(out).length ? out : undefined;
}

function firstBlock(v: unknown): Record<string, unknown> | undefined {
  return Array.isArray(v) && v[0] && typeof v[0] === 'object' ? (v[0] as Record<string, unknown>) : undefined;
}

function toAgent(r: JsonResource): Agent & { id?: string } {
  const v = r.values ?? {};
  return {
    id: str(v.id),
    name: r.name,
    auth_token: str(v.token),
    operating_system: str(v.os),
    architecture: str(v.arch),
    directory: str(v.dir),
    environment_variables: stringMap(v.env),
    startup_script: str(v.startup_script),
    startup_script_timeout_seconds: num(v.startup_script_timeout),
    shutdown_script: str(v.shutdown_script),
    connection_timeout_seconds: num(v.connection_timeout),
    troubleshooting_url: str(v.troubleshooting_url),
    apps: [],
  };
}

function toApp(r: JsonResource): App {
  const v = r.values ?? {};
  const hc = firstBlock(v.healthcheck);
  const share = str(v.share);
  return {
    // `slug` is the provider's current name; `name` its deprecated one; the block's name when neither is set.
    slug: str(v.slug) ?? str(v.name) ?? r.name,
    display_name: str(v.display_name) ?? str(v.name),
    command: str(v.command),
    url: str(v.url),
    icon: str(v.icon),
    subdomain: bool(v.subdomain),
    external: bool(v.external),
    sharing_level: share === 'owner' || share === 'authenticated' || share === 'public' ? share : undefined,
    healthcheck: hc ? { url: str(hc.url), interval: num(hc.interval), threshold: num(hc.threshold) } : undefined,
  };
}

/** The nearest non-coder managed resource among `candidates` (label, depth), ties broken by label as Coder does. */
function nearest(candidates: [string, number][], byLabel: Map<string, JsonResource[]>): string | undefined {
  let best: [string, number] | undefined;
  for (const [label, depth] of candidates) {
    const r = byLabel.get(label)?.[0];
    if (!r || r.mode !== 'managed' || r.type.startsWith('coder_')) continue;
    if (!best || depth < best[1] || (depth === best[1] && label < best[0])) best = [label, depth];
  }
  return best?.[0];
}

export function convertResources(all: JsonResource[], graph: DependencyGraph): Resource[] {
  const byLabel = new Map<string, JsonResource[]>();
  for (const r of all) byLabel.set(labelOf(r.address), [...(byLabel.get(labelOf(r.address)) ?? []), r]);

  const agentsByResource = new Map<string, (Agent & { id?: string })[]>();
  const agents: { label: string; agent: Agent & { id?: string } }[] = [];
  for (const r of all) {
    if (r.mode !== 'managed' || r.type !== 'coder_agent') continue;
    const agent = toAgent(r);
    const label = labelOf(r.address);
    agents.push({ label, agent });
    const owner = nearest(dependents(graph, label), byLabel);
    if (owner) agentsByResource.set(owner, [...(agentsByResource.get(owner) ?? []), agent]);
  }

  for (const r of all) {
    if (r.mode !== 'managed' || r.type !== 'coder_app') continue;
    const agentId = str(r.values?.agent_id);
    const label = labelOf(r.address);
    const match = agents.find((a) => (agentId && a.agent.id ? a.agent.id === agentId : dependsOn(graph, label, a.label)));
    match?.agent.apps?.push(toApp(r));
  }

  const metadataByResource = new Map<string, JsonResource>();
  for (const r of all) {
    if (r.mode !== 'managed' || r.type !== 'coder_metadata') continue;
    const id = str(r.values?.resource_id);
    const target = id
      ? all.find((x) => x.mode === 'managed' && !BOOKKEEPING.has(x.type) && str(x.values?.id) === id)
      : byLabel.get(nearest([...(graph.get(labelOf(r.address)) ?? [])].map((l): [string, number] => [l, 0]), byLabel) ?? '')?.[0];
    if (target) metadataByResource.set(target.address, r);
  }

  const out: Resource[] = [];
  const attached = new Set<string>();
  for (const r of all) {
    if (r.mode !== 'managed' || BOOKKEEPING.has(r.type)) continue;
    const label = labelOf(r.address);
    // Instances of one block (count, for_each) share its agents: they go to the first instance only.
    const agentsHere = attached.has(label) ? [] : (agentsByResource.get(label) ?? []);
    attached.add(label);
    const res: Resource = { name: r.name, type: r.type, agents: agentsHere.map(({ id: _id, ...a }) => a) };
    const md = metadataByResource.get(r.address)?.values;
    if (md) {
      res.hide = bool(md.hide);
      res.icon = str(md.icon);
      res.daily_cost = num(md.daily_cost);
      res.metadata = (Array.isArray(md.item) ? md.item : []).map((item: Record<string, unknown>) => ({
        key: String(item.key ?? ''),
        value: item.is_null === true ? null : typeof item.value === 'string' ? item.value : null,
        sensitive: item.sensitive === true,
      }));
    }
    out.push(res);
  }
  return out;
}
