/**
 * Dialogs of the file browser: a name (new folder, rename), a destination folder (move, copy), and
 * the 「両方残す」 question when a name is already taken in the destination.
 */
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, errorCode } from '../../api/api-client';
import { errorMessageKey } from '../../i18n/error-message';
import { Button } from '../../ui/button';
import { Dialog } from '../../ui/dialog';
import { TextField } from '../../ui/form';
import { ErrorBanner } from '../../ui/messages';
import { fetchFolder, fetchRoots, type Folder, type FolderListing, type FolderRef } from './files.api';

const NAME_FIELD_CODES = new Set(['name.invalid', 'name.taken']);

/** Asks for a name; errors about the name show under the field, others above it. */
export function NameDialog({
  open,
  title,
  label,
  initial,
  submitLabel,
  onSubmit,
  onCancel,
}: {
  open: boolean;
  title: string;
  label: string;
  initial: string;
  submitLabel: string;
  /** Rejects with an ApiError to keep the dialog open with the message. */
  onSubmit: (name: string) => Promise<void>;
  onCancel: () => void;
}) {
  const { t } = useTranslation();
  const [value, setValue] = useState(initial);
  const [fieldError, setFieldError] = useState<string | undefined>();
  const [failure, setFailure] = useState<{ code: string; n: number } | null>(null);
  const [busy, setBusy] = useState(false);
  const inputRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (!open) return;
    setValue(initial);
    setFieldError(undefined);
    setFailure(null);
    setBusy(false);
  }, [open, initial]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    const name = value.normalize('NFC').trim();
    const problem = !name ? t('form.fieldRequired', { field: label }) : /[/\\]/.test(name) ? t('errors.name.invalid') : undefined;
    setFieldError(problem);
    if (problem) {
      inputRef.current?.focus();
      return;
    }
    setBusy(true);
    try {
      await onSubmit(name);
    } catch (err) {
      const code = errorCode(err);
      if (err instanceof ApiError && NAME_FIELD_CODES.has(code)) {
        setFieldError(t(errorMessageKey(code)));
        inputRef.current?.focus();
      } else {
        setFailure((f) => ({ code, n: (f?.n ?? 0) + 1 }));
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog open={open} title={title} onCancel={onCancel} initialFocus={inputRef} data-testid="name-dialog">
      <form noValidate onSubmit={(e) => void submit(e)} className="flex flex-col gap-6">
        {failure && <ErrorBanner key={failure.n} title={t('files.errorTitle')} code={failure.code} />}
        <TextField
          label={label}
          required
          value={value}
          onChange={(e) => setValue(e.target.value)}
          error={fieldError}
          inputRef={inputRef}
          autoComplete="off"
          maxLength={255}
        />
        <div className="flex flex-wrap gap-4">
          <Button type="submit" variant="solid-fill" size="md" busy={busy}>
            {submitLabel}
          </Button>
          <Button variant="outline" size="md" onClick={onCancel}>
            {t('form.cancel')}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

/** 「両方残す」 or キャンセル when the name is taken where the item goes. */
export function ConflictDialog({
  open,
  name,
  busy,
  onKeepBoth,
  onCancel,
}: {
  open: boolean;
  name: string;
  busy?: boolean;
  onKeepBoth: () => void;
  onCancel: () => void;
}) {
  const { t } = useTranslation();
  return (
    <Dialog open={open} title={t('files.conflict.title')} onCancel={onCancel} data-testid="conflict-dialog">
      <p>{t('files.conflict.body', { name })}</p>
      <p>{t('files.conflict.keepBothHint')}</p>
      <div className="flex flex-wrap gap-4">
        <Button variant="solid-fill" size="md" busy={busy ?? false} onClick={onKeepBoth}>
          {t('files.conflict.keepBoth')}
        </Button>
        <Button variant="outline" size="md" onClick={onCancel}>
          {t('form.cancel')}
        </Button>
      </div>
    </Dialog>
  );
}

/**
 * Picks a destination folder by browsing from the top-level folders down. The folder being moved
 * (`exclude`) cannot be entered: a folder cannot go into itself or below itself.
 */
export function FolderPickerDialog({
  open,
  title,
  actionLabel,
  exclude,
  onPick,
  onCancel,
}: {
  open: boolean;
  title: string;
  actionLabel: string;
  exclude?: string | undefined;
  onPick: (folder: FolderRef) => Promise<void>;
  onCancel: () => void;
}) {
  const { t } = useTranslation();
  const [roots, setRoots] = useState<Folder[] | null>(null);
  const [here, setHere] = useState<FolderListing | null>(null);
  const [failure, setFailure] = useState<{ code: string; n: number } | null>(null);
  const [busy, setBusy] = useState(false);
  const selectedRef = useRef<HTMLParagraphElement>(null);

  /** Shows a level; `moveFocus` after a click, since the clicked button goes away with the old level. */
  const go = useCallback(async (id: string | null, moveFocus: boolean) => {
    setFailure(null);
    try {
      if (id === null) {
        setHere(null);
        setRoots(await fetchRoots());
      } else {
        setHere(await fetchFolder(id));
      }
      if (moveFocus) selectedRef.current?.focus();
    } catch (err) {
      setFailure((f) => ({ code: errorCode(err), n: (f?.n ?? 0) + 1 }));
    }
  }, []);

  useEffect(() => {
    if (!open) return;
    setBusy(false);
    setHere(null);
    setRoots(null);
    void go(null, false);
  }, [open, go]);

  async function pick() {
    if (!here || busy) return;
    setBusy(true);
    try {
      await onPick({ id: here.folder.id, name: here.folder.name });
    } catch (err) {
      setFailure((f) => ({ code: errorCode(err), n: (f?.n ?? 0) + 1 }));
    } finally {
      setBusy(false);
    }
  }

  const entries = (here ? here.folders : (roots ?? [])).filter((f) => f.id !== exclude);
  const canPick = here !== null && here.folder.role !== 'viewer' && here.folder.id !== exclude;
  const navButton =
    'min-h-11 rounded-4 px-2 text-start text-blue-1000 underline underline-offset-[calc(3/16*1rem)] hover:text-blue-1100 ' +
    'focus-visible:bg-yellow-300 focus-visible:outline-4 focus-visible:outline-black focus-visible:outline-offset-[calc(2/16*1rem)]';

  return (
    <Dialog open={open} title={title} onCancel={onCancel} data-testid="folder-picker">
      {failure && <ErrorBanner key={failure.n} title={t('files.errorTitle')} code={failure.code} focus={false} />}
      <nav aria-label={t('files.picker.pathLabel')}>
        <ol className="flex flex-wrap items-center gap-x-1 text-std-16N-170">
          <li>
            {here ? (
              <button type="button" className={navButton} onClick={() => void go(null, true)}>
                {t('files.rootsTitle')}
              </button>
            ) : (
              <span aria-current="location" className="px-2 font-bold">
                {t('files.rootsTitle')}
              </span>
            )}
          </li>
          {here?.path.map((p, i) => {
            const last = i === here.path.length - 1;
            return (
              <li key={p.id} className="flex items-center gap-1">
                <span aria-hidden="true">›</span>
                {last ? (
                  <span aria-current="location" className="px-2 font-bold">
                    {p.name}
                  </span>
                ) : (
                  <button type="button" className={navButton} onClick={() => void go(p.id, true)}>
                    {p.name}
                  </button>
                )}
              </li>
            );
          })}
        </ol>
      </nav>
      {here === null && roots === null && !failure ? (
        <p>{t('app.loading')}</p>
      ) : entries.length === 0 ? (
        <p>{t('files.picker.noSubfolders')}</p>
      ) : (
        <ul
          className="flex max-h-72 flex-col overflow-y-auto rounded-8 border border-solid-gray-420"
          aria-label={t('files.picker.listLabel')}
        >
          {entries.map((f) => (
            <li key={f.id} className="border-b border-solid-gray-200 last:border-b-0">
              <button
                type="button"
                onClick={() => void go(f.id, true)}
                className="flex min-h-12 w-full items-center gap-3 px-4 text-start text-std-16N-170 text-solid-gray-900 hover:bg-blue-50 hover:underline focus-visible:bg-yellow-300 focus-visible:outline-4 focus-visible:-outline-offset-4 focus-visible:outline-black"
              >
                <FolderIcon />
                <span className="break-all">{f.name}</span>
                <span className="sr-only">{t('files.picker.open')}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      <p ref={selectedRef} tabIndex={-1} className="text-std-16N-170 focus:outline-none" data-testid="picker-selected">
        {here ? t('files.picker.selected', { name: here.folder.name }) : t('files.picker.chooseFolder')}
      </p>
      {here && here.folder.role === 'viewer' && <p className="text-std-16N-170 text-error-2">{t('files.picker.noRights')}</p>}
      <div className="flex flex-wrap gap-4">
        <Button variant="solid-fill" size="md" busy={busy || !canPick} onClick={() => void pick()} data-testid="picker-confirm">
          {actionLabel}
        </Button>
        <Button variant="outline" size="md" onClick={onCancel}>
          {t('form.cancel')}
        </Button>
      </div>
    </Dialog>
  );
}

/** A folder glyph; decorative (the row also says フォルダー in words). */
export function FolderIcon() {
  return (
    <svg aria-hidden="true" focusable="false" viewBox="0 0 24 24" className="size-6 shrink-0 text-yellow-700">
      <path
        d="M3 5.5A1.5 1.5 0 0 1 4.5 4h5l2 2.5h8A1.5 1.5 0 0 1 21 8v10.5a1.5 1.5 0 0 1-1.5 1.5h-15A1.5 1.5 0 0 1 3 18.5z"
        fill="currentColor"
      />
    </svg>
  );
}

/** A document glyph; decorative. */
export function FileIcon() {
  return (
    <svg aria-hidden="true" focusable="false" viewBox="0 0 24 24" className="size-6 shrink-0 text-solid-gray-700">
      <path
        d="M6 2.5h8l4.5 4.5v13a1.5 1.5 0 0 1-1.5 1.5H6A1.5 1.5 0 0 1 4.5 20V4A1.5 1.5 0 0 1 6 2.5zm7.5 1.5v3.5H17z"
        fill="currentColor"
      />
    </svg>
  );
}
