import { useState, type FormEvent } from 'react';

import { useSessionApi } from '../app/session.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { Spinner } from '../components/Loading.js';
import { client } from '../lib/client.js';

import { AuthCard } from './AuthCard.js';

/** The first start of a server: the first user becomes its owner, then is signed in. */
export function SetupPage() {
  const { signIn } = useSessionApi();
  const [form, setForm] = useState({ username: '', email: '', password: '' });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await client.createFirstUser(form);
      await signIn(form.email, form.password);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <AuthCard title="Create the first user" subtitle="This server has no users yet. The first user owns it: they manage templates, users and every workspace.">
      <form className="form" onSubmit={(e) => void submit(e)}>
        <label className="field">
          <span className="field-label">Username</span>
          <input className="input" name="username" autoComplete="username" required autoFocus value={form.username} onChange={set('username')} />
        </label>
        <label className="field">
          <span className="field-label">Email</span>
          <input className="input" type="email" name="email" autoComplete="email" required value={form.email} onChange={set('email')} />
        </label>
        <label className="field">
          <span className="field-label">Password</span>
          <input className="input" type="password" name="password" autoComplete="new-password" required value={form.password} onChange={set('password')} />
        </label>
        {error !== null && <ErrorBanner error={error} />}
        <button type="submit" className="btn btn-primary btn-block" disabled={busy}>
          {busy && <Spinner small />}
          Create user and sign in
        </button>
      </form>
    </AuthCard>
  );
}
