import { useEffect, useRef, useState, type ReactNode } from 'react';

import { ErrorBanner } from './ErrorBanner.js';
import { Spinner } from './Loading.js';

export interface ConfirmDialogProps {
  title: string;
  children?: ReactNode;
  confirmLabel: string;
  /** The button that closes without acting. */
  dismissLabel?: string;
  danger?: boolean;
  /** The user must type this exactly before confirming (deletes). */
  requireText?: string;
  onConfirm: () => Promise<void>;
  onClose: () => void;
}

/** A modal confirmation: shows its action's error in place, and closes itself only when the action succeeded. */
export function ConfirmDialog({ title, children, confirmLabel, dismissLabel = 'Cancel', danger = false, requireText, onConfirm, onClose }: ConfirmDialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);

  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      onClose();
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  const blocked = busy || (requireText !== undefined && typed !== requireText);

  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby="dialog-title"
      onCancel={(e) => {
        e.preventDefault();
        if (!busy) onClose();
      }}
    >
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          if (!blocked) void confirm();
        }}
      >
        <h2 id="dialog-title">{title}</h2>
        <div className="dialog-body">{children}</div>
        {requireText !== undefined && (
          <label className="field">
            <span className="field-label">
              Type <strong>{requireText}</strong> to confirm
            </span>
            <input className="input" autoFocus value={typed} onChange={(e) => setTyped(e.target.value)} aria-label="Confirmation text" />
          </label>
        )}
        {error !== null && <ErrorBanner error={error} />}
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={onClose} disabled={busy}>
            {dismissLabel}
          </button>
          <button type="submit" className={`btn ${danger ? 'btn-danger' : 'btn-primary'}`} disabled={blocked} autoFocus={requireText === undefined}>
            {busy && <Spinner small />}
            {confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
