import { describeError } from '../lib/errors.js';
import { Link, paths } from '../app/router.js';

/** An API error with its message, detail and field errors; a retry button when the caller can retry. */
export function ErrorBanner({ error, onRetry, title }: { error: unknown; onRetry?: () => void; title?: string }) {
  const info = describeError(error);
  return (
    <div className="alert alert-danger" role="alert" data-testid="error-banner">
      <div className="alert-body">
        {title && <div className="alert-context">{title}</div>}
        <div className="alert-title">{info.title}</div>
        {info.detail && <div className="alert-detail">{info.detail}</div>}
        {info.validations.length > 0 && (
          <ul className="alert-list">
            {info.validations.map((v) => (
              <li key={`${v.field}:${v.detail}`}>
                <code>{v.field}</code>: {v.detail}
              </li>
            ))}
          </ul>
        )}
        {(info.status !== undefined || info.where) && (
          <div className="alert-meta">
            {info.status !== undefined && <span>HTTP {info.status}</span>}
            {info.where && <span>{info.where}</span>}
          </div>
        )}
      </div>
      <div className="alert-actions">
        {info.status === 401 && (
          <Link className="btn btn-small" to={paths.login(window.location.pathname)}>
            Sign in again
          </Link>
        )}
        {onRetry && (
          <button type="button" className="btn btn-small" onClick={onRetry}>
            Retry
          </button>
        )}
      </div>
    </div>
  );
}
