/**
 * 指定した日時の状態に復元 (MAL-09, recovery after ransomware): the folder's フォルダー管理者 picks a moment in
 * Japan time, sees the plan (a dry run: what happens to each file, from which version to which),
 * then applies it. Nothing is destroyed: changed files get the old content as a new version,
 * files added since go to the trash, files deleted since come back.
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { errorCode } from '../../api/api-client';
import { formatDateTime } from '../../i18n/format';
import { currentLanguage } from '../../i18n/i18n';
import { Button } from '../../ui/button';
import { headRowClass, rowClass, tdClass, thClass } from '../../ui/confirm-dialog';
import { Dialog } from '../../ui/dialog';
import { TextField } from '../../ui/form';
import { ErrorBanner } from '../../ui/messages';
import { japanInputToIso, japanInputValue } from './file-format';
import { restoreToPoint, type Folder, type RecoveryItem, type RecoveryPlan } from './files.api';

const DAY_MS = 24 * 60 * 60 * 1000;

/** What the restore did, for the page's success message. */
export interface RestoreCounts {
  reverted: number;
  trashed: number;
  untrashed: number;
  unchanged: number;
}

export function countRestore(items: readonly RecoveryItem[]): RestoreCounts {
  const n = (...actions: RecoveryItem['action'][]) => items.filter((i) => actions.includes(i.action)).length;
  return {
    reverted: n('revert', 'untrash_revert'),
    trashed: n('trash'),
    untrashed: n('untrash', 'untrash_revert'),
    unchanged: n('none_clean'),
  };
}

export function RestorePointDialog({
  folder,
  onDone,
  onCancel,
}: {
  /** The folder to restore; the dialog is open while set. */
  folder: Folder | null;
  /** Called with the applied result; the page closes the dialog and says what was done. */
  onDone: (result: RecoveryPlan) => Promise<void>;
  onCancel: () => void;
}) {
  const { t } = useTranslation();
  const language = currentLanguage();
  const [value, setValue] = useState('');
  const [fieldError, setFieldError] = useState<string | undefined>();
  const [plan, setPlan] = useState<{ iso: string; result: RecoveryPlan } | null>(null);
  const [failure, setFailure] = useState<{ code: string; n: number } | null>(null);
  const [busy, setBusy] = useState<'check' | 'apply' | null>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  const planRef = useRef<HTMLHeadingElement>(null);
  const open = folder !== null;

  useEffect(() => {
    if (!open) return;
    setValue(japanInputValue(new Date(Date.now() - DAY_MS)));
    setFieldError(undefined);
    setPlan(null);
    setFailure(null);
    setBusy(null);
  }, [open]);

  // A new plan: take the reader to it.
  useEffect(() => {
    if (plan) planRef.current?.focus();
  }, [plan]);

  const fail = (err: unknown) => setFailure((f) => ({ code: errorCode(err), n: (f?.n ?? 0) + 1 }));

  async function check(event: FormEvent) {
    event.preventDefault();
    if (!folder || busy) return;
    const iso = japanInputToIso(value);
    const problem = !value
      ? t('form.fieldRequired', { field: t('files.restorePoint.at') })
      : !iso
        ? t('files.restorePoint.atInvalid')
        : Date.parse(iso) > Date.now()
          ? t('files.restorePoint.atFuture')
          : undefined;
    setFieldError(problem);
    setPlan(null);
    if (problem || !iso) {
      inputRef.current?.focus();
      return;
    }
    setFailure(null);
    setBusy('check');
    try {
      setPlan({ iso, result: await restoreToPoint(folder.id, iso, true) });
    } catch (err) {
      fail(err);
    } finally {
      setBusy(null);
    }
  }

  async function apply() {
    if (!folder || !plan || busy) return;
    setFailure(null);
    setBusy('apply');
    try {
      await onDone(await restoreToPoint(folder.id, plan.iso, false));
    } catch (err) {
      fail(err);
    } finally {
      setBusy(null);
    }
  }

  const collator = new Intl.Collator('ja');
  const items = plan ? [...plan.result.items].sort((a, b) => collator.compare(a.name, b.name)) : [];
  const changes = items.filter((i) => i.action !== 'none_clean').length;
  const at = plan ? formatDateTime(new Date(plan.result.at), language) : '';

  return (
    <Dialog
      open={open}
      title={t('files.restorePoint.title', { name: folder?.name ?? '' })}
      onCancel={onCancel}
      data-testid="restore-point-dialog"
    >
      <div className="flex flex-col gap-2">
        <p>{t('files.restorePoint.lead')}</p>
        <ul className="list-disc ps-6">
          <li>{t('files.restorePoint.explainRevert')}</li>
          <li>{t('files.restorePoint.explainTrash')}</li>
          <li>{t('files.restorePoint.explainUntrash')}</li>
          <li>{t('files.restorePoint.explainNoneClean')}</li>
        </ul>
      </div>
      {failure && (
        <ErrorBanner
          key={failure.n}
          title={t('files.restorePoint.errorTitle')}
          code={failure.code}
          data-testid="restore-point-error"
        >
          {failure.code === 'request.invalid' && <p>{t('files.restorePoint.invalidHint')}</p>}
        </ErrorBanner>
      )}
      <form noValidate onSubmit={(e) => void check(e)} className="flex flex-col gap-4">
        <TextField
          type="datetime-local"
          step={1}
          label={t('files.restorePoint.at')}
          hint={t('files.restorePoint.atHint')}
          required
          value={value}
          onChange={(e) => {
            setValue(e.target.value);
            setPlan(null);
          }}
          error={fieldError}
          inputRef={inputRef}
          data-testid="restore-point-at"
        />
        <div>
          <Button type="submit" variant={plan ? 'outline' : 'solid-fill'} size="md" busy={busy !== null}>
            {t('files.restorePoint.check')}
          </Button>
        </div>
      </form>
      {plan && (
        <div className="flex flex-col gap-4" data-testid="restore-plan">
          <h3 ref={planRef} tabIndex={-1} className="text-std-20B-150 text-solid-gray-900 focus-visible:outline-none">
            {t('files.restorePoint.planTitle', { at })}
          </h3>
          {items.length > 0 && (
            <div
              className="max-h-80 overflow-auto rounded-8 border border-solid-gray-420 focus-visible:outline-4 focus-visible:outline-black"
              tabIndex={0}
              role="region"
              aria-label={t('files.restorePoint.caption', { at })}
            >
              <table className="w-full text-std-16N-170" data-testid="restore-plan-table">
                <caption className="sr-only">{t('files.restorePoint.caption', { at })}</caption>
                <thead>
                  <tr className={headRowClass}>
                    <th scope="col" className={`${thClass} whitespace-nowrap`}>
                      {t('files.restorePoint.col.name')}
                    </th>
                    <th scope="col" className={`${thClass} whitespace-nowrap`}>
                      {t('files.restorePoint.col.action')}
                    </th>
                    <th scope="col" className={`${thClass} whitespace-nowrap`}>
                      {t('files.restorePoint.col.versions')}
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((item) => (
                    <tr
                      key={item.fileId}
                      className={rowClass}
                      data-testid="restore-plan-row"
                      data-name={item.name}
                      data-action={item.action}
                      data-from={item.fromVersion ?? undefined}
                      data-to={item.toVersion ?? undefined}
                    >
                      <th scope="row" className={`${thClass} font-normal wrap-anywhere`}>
                        {item.name}
                      </th>
                      <td className={tdClass} data-testid="restore-plan-action">
                        {t(`files.restorePoint.actions.${item.action}`)}
                      </td>
                      <td className={`${tdClass} whitespace-nowrap`} data-testid="restore-plan-versions">
                        <Versions item={item} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {changes === 0 ? (
            <p className="rounded-8 bg-solid-gray-50 px-4 py-3" data-testid="restore-plan-nothing">
              {t('files.restorePoint.nothing')}
            </p>
          ) : (
            <p data-testid="restore-plan-summary">{t('files.restorePoint.summary', { ...countRestore(items) })}</p>
          )}
        </div>
      )}
      <div className="flex flex-wrap gap-4">
        {plan && changes > 0 && (
          <Button variant="solid-fill" size="md" busy={busy !== null} onClick={() => void apply()}>
            {t('files.restorePoint.apply')}
          </Button>
        )}
        <Button variant="outline" size="md" onClick={onCancel}>
          {plan && changes === 0 ? t('files.restorePoint.close') : t('form.cancel')}
        </Button>
      </div>
    </Dialog>
  );
}

/** 「第3版 → 第1版」 for a revert; the one version there is otherwise. */
function Versions({ item }: { item: RecoveryItem }) {
  const { t } = useTranslation();
  const v = (n: number) => t('fileDetail.versionN', { n });
  const { fromVersion: from, toVersion: to } = item;
  if (from !== null && to !== null && from !== to) {
    return (
      <>
        {v(from)}
        <span aria-hidden="true"> → </span>
        <span className="sr-only">{t('files.restorePoint.versionTo')}</span>
        {v(to)}
      </>
    );
  }
  const one = to ?? from;
  if (one !== null) return <>{v(one)}</>;
  return (
    <>
      <span aria-hidden="true">—</span>
      <span className="sr-only">{t('files.restorePoint.noVersion')}</span>
    </>
  );
}
