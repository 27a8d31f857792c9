import { useState, type FormEvent } from 'react';

import { useSessionApi } from '../app/session.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { Spinner } from '../components/Loading.js';

import { AuthCard } from './AuthCard.js';

export function LoginPage() {
  const { signIn } = useSessionApi();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(email, password);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <AuthCard title="Sign in" subtitle="Sign in to manage your workspaces and watch their builds.">
      <form className="form" onSubmit={(e) => void submit(e)}>
        <label className="field">
          <span className="field-label">Email</span>
          <input className="input" type="email" name="email" autoComplete="username" required autoFocus value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label className="field">
          <span className="field-label">Password</span>
          <input className="input" type="password" name="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        {error !== null && <ErrorBanner error={error} />}
        <button type="submit" className="btn btn-primary btn-block" disabled={busy}>
          {busy && <Spinner small />}
          Sign in
        </button>
      </form>
    </AuthCard>
  );
}
