// A button that asks before it acts: it opens the shared ConfirmDialog with what will happen. For changes
// that affect what consumers are served.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ConfirmDialog } from './confirm-dialog.js';

export interface ConfirmButtonProps {
  label: string;
  /** The dialog's heading. */
  title: string;
  /** What will happen, for the person about to confirm. */
  children: ComponentChildren;
  confirmLabel?: string;
  onConfirm: () => Promise<void>;
  disabled?: boolean;
  danger?: boolean;
  testId?: string;
}

export function ConfirmButton(props: ConfirmButtonProps) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button
        type="button"
        class={props.danger ? 'danger' : undefined}
        disabled={props.disabled || open}
        data-testid={props.testId}
        onClick={() => setOpen(true)}
      >
        {props.label}
      </button>
      {open && (
        <ConfirmDialog
          title={props.title}
          confirmLabel={props.confirmLabel ?? 'Confirm'}
          {...(props.danger ? { danger: true } : {})}
          onConfirm={props.onConfirm}
          onClose={() => setOpen(false)}
        >
          {props.children}
        </ConfirmDialog>
      )}
    </>
  );
}
