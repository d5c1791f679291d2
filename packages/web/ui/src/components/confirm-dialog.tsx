// A modal confirmation (the platform's <dialog>: focus moves into it, Escape closes it, the page behind is
// inert). The action runs on Confirm; its failure shows in the dialog, which stays open.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

export interface ConfirmDialogProps {
  title: string;
  confirmLabel: string;
  danger?: boolean;
  children?: ComponentChildren;
  onConfirm: () => Promise<void>;
  onClose: () => void;
}

export function ConfirmDialog({ title, confirmLabel, danger, children, onConfirm, onClose }: ConfirmDialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
    return () => element?.close();
  }, []);

  const confirm = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await onConfirm();
      onClose();
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
      setBusy(false);
    }
  };

  return (
    <dialog ref={dialog} class="confirm" aria-labelledby="confirm-title" data-testid="confirm-dialog" onClose={onClose}>
      <form method="dialog" onSubmit={confirm}>
        <h2 id="confirm-title">{title}</h2>
        {children}
        {error && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
        <div class="dialog-buttons">
          <button type="button" onClick={onClose} disabled={busy}>
            Back
          </button>
          <button type="submit" class={danger ? 'danger-solid' : ''} disabled={busy} data-testid="confirm-button">
            {busy ? 'Working…' : confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
