// A button that asks before it acts: a modal <dialog> (focus moves into it, Escape cancels) with what will
// happen and Confirm / Cancel. For changes that affect what consumers are served.
import type { ComponentChildren } from 'preact';
import { useRef, useState } from 'preact/hooks';

export interface ConfirmButtonProps {
  label: string;
  /** The dialog's heading and what will happen, for the person about to confirm. */
  title: string;
  children: ComponentChildren;
  confirmLabel?: string;
  onConfirm: () => Promise<void>;
  disabled?: boolean;
  danger?: boolean;
  testId?: string;
}

export function ConfirmButton(props: ConfirmButtonProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const close = () => dialog.current?.close();
  const confirm = async () => {
    setBusy(true);
    try {
      await props.onConfirm();
    } finally {
      setBusy(false);
      close();
    }
  };
  return (
    <>
      <button
        type="button"
        class={props.danger ? 'danger' : undefined}
        disabled={props.disabled || busy}
        data-testid={props.testId}
        onClick={() => dialog.current?.showModal()}
      >
        {props.label}
      </button>
      <dialog
        ref={dialog}
        class="confirm"
        aria-label={props.title}
        data-testid={props.testId && `${props.testId}-dialog`}
      >
        <h2>{props.title}</h2>
        <div>{props.children}</div>
        <div class="confirm-actions">
          <button type="button" onClick={close} disabled={busy}>
            Cancel
          </button>
          <button
            type="button"
            class={props.danger ? 'danger' : 'primary'}
            onClick={confirm}
            disabled={busy}
            data-testid={props.testId && `${props.testId}-confirm`}
          >
            {props.confirmLabel ?? 'Confirm'}
          </button>
        </div>
      </dialog>
    </>
  );
}
