/** A yes/no dialog for a destructive action: the action button names the action again. */
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Button } from './button';
import { Dialog } from './dialog';

export function ConfirmDialog({
  open,
  title,
  body,
  confirmLabel,
  busy,
  onConfirm,
  onCancel,
}: {
  open: boolean;
  title: ReactNode;
  body?: ReactNode;
  confirmLabel: string;
  busy?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const { t } = useTranslation();
  return (
    <Dialog open={open} title={title} onCancel={onCancel} data-testid="confirm-dialog">
      {body && <div className="flex flex-col gap-4">{body}</div>}
      <div className="flex flex-wrap gap-4">
        <Button variant="solid-fill" size="md" busy={busy ?? false} onClick={onConfirm}>
          {confirmLabel}
        </Button>
        <Button variant="outline" size="md" onClick={onCancel}>
          {t('form.cancel')}
        </Button>
      </div>
    </Dialog>
  );
}

/** Cell classes shared by the simple data tables. */
export const thClass = 'px-4 py-3 text-start align-top';
export const tdClass = 'px-4 py-3 align-top';
export const headRowClass = 'border-b border-black bg-solid-gray-100';
export const rowClass = 'border-b border-solid-gray-420';
