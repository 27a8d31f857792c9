import { Link, paths } from '../app/router.js';
import { EmptyState } from '../components/EmptyState.js';

export function NotFoundPage() {
  return (
    <div className="page">
      <EmptyState
        title="Page not found"
        action={
          <Link className="btn" to={paths.workspaces()}>
            Go to workspaces
          </Link>
        }
      >
        Nothing lives at <code>{window.location.pathname}</code>.
      </EmptyState>
    </div>
  );
}
