import { Link } from '../app/router.js';
import { Badge } from '../components/StatusBadge.js';
import { useAsync } from '../hooks/useAsync.js';
import { client } from '../lib/client.js';
import type { Tone } from '../lib/status.js';
import { appSubdomainUrl, type WorkspaceAgent, type WorkspaceApp, type WorkspaceResource } from '../sdk.js';

const AGENT_TONES: Record<WorkspaceAgent['status'], Tone> = { connected: 'success', connecting: 'info', disconnected: 'neutral', timeout: 'danger' };
const HEALTH_TONES: Record<WorkspaceApp['health'], Tone> = { healthy: 'success', initializing: 'info', unhealthy: 'danger', disabled: 'neutral' };

/** Resources of the latest build, each with its agents, each agent with its apps and their health. */
/** `terminal`, when given, links each connected agent to its terminal page. */
export function ResourcesPanel({ resources, terminal }: { resources: WorkspaceResource[]; terminal?: (agent: WorkspaceAgent) => string }) {
  const shown = resources.filter((r) => !r.hide);
  // Apps open on their own origin under the wildcard host, never on the dashboard's (see docs/security.md).
  const appHost = useAsync(() => client.appHost(), []).data?.host ?? '';
  return (
    <section className="card section" data-testid="resources">
      <h2 className="section-title">Resources</h2>
      {shown.length === 0 ? (
        <p className="muted section-pad">The latest build reported no resources. A successful start build lists what it created here.</p>
      ) : (
        <ul className="resource-list">
          {shown.map((r) => (
            <li className="resource" key={r.id}>
              <div className="resource-head">
                <span className="resource-name">{r.name}</span>
                <span className="resource-type">{r.type}</span>
                {r.daily_cost > 0 && <span className="muted small">cost {r.daily_cost}/day</span>}
              </div>
              {r.metadata && r.metadata.length > 0 && (
                <dl className="kv">
                  {r.metadata.map((m) => (
                    <div key={m.key}>
                      <dt>{m.key}</dt>
                      <dd>{m.sensitive ? '••••••' : m.value}</dd>
                    </div>
                  ))}
                </dl>
              )}
              {(r.agents ?? []).map((a) => (
                <AgentRow key={a.id} agent={a} appHost={appHost} terminal={terminal} />
              ))}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function AgentRow({ agent, appHost, terminal }: { agent: WorkspaceAgent; appHost: string; terminal?: (agent: WorkspaceAgent) => string }) {
  return (
    <div className="agent" data-testid="agent">
      <div className="agent-head">
        <span className="agent-name">{agent.name}</span>
        <Badge tone={AGENT_TONES[agent.status] ?? 'neutral'} active={agent.status === 'connecting'}>
          {agent.status}
        </Badge>
        <span className="muted small">
          {agent.lifecycle_state} · {agent.operating_system}/{agent.architecture}
          {agent.directory ? ` · ${agent.directory}` : ''}
          {agent.version ? ` · v${agent.version}` : ''}
        </span>
        {terminal && agent.status === 'connected' && (
          <Link className="btn btn-small agent-terminal" to={terminal(agent)} data-testid="terminal-link">
            Terminal
          </Link>
        )}
      </div>
      {agent.apps.length > 0 && (
        <ul className="apps">
          {agent.apps.map((app) => (
            <li className="app" key={app.id} data-testid="app">
              <AppName app={app} appHost={appHost} />
              <Badge tone={HEALTH_TONES[app.health] ?? 'neutral'} active={app.health === 'initializing'}>
                {app.health}
              </Badge>
              {app.url && <span className="muted small mono">{app.url}</span>}
            </li>
          ))}
        </ul>
      )}
      {agent.troubleshooting_url && agent.status !== 'connected' && (
        <a className="small" href={agent.troubleshooting_url} target="_blank" rel="noreferrer">
          Troubleshooting
        </a>
      )}
    </div>
  );
}

function AppName({ app, appHost }: { app: WorkspaceApp; appHost: string }) {
  const name = app.display_name || app.slug;
  const href = app.subdomain_name ? appSubdomainUrl(appHost, app.subdomain_name, window.location.protocol) : undefined;
  if (!href) return <span className="app-name">{name}</span>;
  return (
    <a className="app-name" href={href} target="_blank" rel="noreferrer" data-testid="app-link">
      {name}
    </a>
  );
}
