/**
 * The trash (ごみ箱): what the user deleted (or could restore as an editor of the place it was), where
 * it was, who deleted it and when, and when it will be purged for good. 復元 puts it back (a name taken meanwhile
 * offers 「両方残す」); 完全に削除 purges now (the folder's フォルダー管理者 only, after a confirmation).
 */
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, errorCode } from '../../api/api-client';
import { routeLink } from '../../app/router';
import { useDocumentTitle } from '../../app/use-document-title';
import { currentLanguage } from '../../i18n/i18n';
import { Button } from '../../ui/button';
import { ConfirmDialog, headRowClass, rowClass, tdClass, thClass } from '../../ui/confirm-dialog';
import { linkClass } from '../../ui/link';
import { ErrorBanner, SuccessBanner } from '../../ui/messages';
import { PageHeading } from '../../ui/page-heading';
import { ConflictDialog, FileIcon, FolderIcon } from './file-dialogs';
import { When } from './file-bits';
import { formatBytes } from './file-format';
import { fetchTrash, purgeTrashItem, restoreFile, restoreFolder, type OnConflict, type Trash, type TrashItem } from './files.api';

type Outcome = { kind: 'success'; message: string; link?: string; n: number } | { kind: 'error'; code: string; n: number };

export function TrashPage() {
  const { t } = useTranslation();
  const language = currentLanguage();
  useDocumentTitle(t('trash.title'));
  const [trash, setTrash] = useState<Trash | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [purging, setPurging] = useState<TrashItem | null>(null);
  const [conflict, setConflict] = useState<TrashItem | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setTrash(await fetchTrash());
      setLoadError(null);
    } catch (err) {
      setLoadError(errorCode(err));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const report = (o: Omit<Extract<Outcome, { kind: 'success' }>, 'n'> | Omit<Extract<Outcome, { kind: 'error' }>, 'n'>) =>
    setOutcome((prev) => ({ ...o, n: (prev?.n ?? 0) + 1 }) as Outcome);

  async function restore(item: TrashItem, onConflict: OnConflict) {
    setBusy(item.id);
    try {
      const restored = item.kind === 'file' ? await restoreFile(item.id, onConflict) : await restoreFolder(item.id, onConflict);
      setConflict(null);
      const link = item.kind === 'file' ? `/files/${restored.id}` : `/folders/${restored.id}`;
      report({ kind: 'success', message: t('trash.restored', { name: restored.name }), link });
      await load();
    } catch (err) {
      if (onConflict === 'error' && err instanceof ApiError && err.code === 'name.taken') {
        setConflict(item);
      } else {
        setConflict(null);
        report({ kind: 'error', code: errorCode(err) });
      }
    } finally {
      setBusy(null);
    }
  }

  async function purge() {
    if (!purging || busy) return;
    const item = purging;
    setBusy(item.id);
    try {
      await purgeTrashItem(item.kind, item.id);
      report({ kind: 'success', message: t('trash.purged', { name: item.name }) });
      await load();
    } catch (err) {
      report({ kind: 'error', code: errorCode(err) });
    } finally {
      setBusy(null);
      setPurging(null);
    }
  }

  return (
    <div className="flex flex-col gap-6">
      <PageHeading>{t('trash.title')}</PageHeading>
      <p className="text-std-16N-170">{trash ? t('trash.lead', { count: trash.trashDays }) : t('trash.leadGeneric')}</p>
      {loadError && <ErrorBanner title={t('app.loadErrorTitle')} code={loadError} focus={false} />}
      {outcome?.kind === 'error' && (
        <ErrorBanner key={outcome.n} title={t('trash.errorTitle')} code={outcome.code} data-testid="trash-error" />
      )}
      {outcome?.kind === 'success' && (
        <SuccessBanner key={outcome.n} title={outcome.message} data-testid="trash-success">
          {outcome.link && (
            <p>
              <a className={linkClass} {...routeLink(outcome.link)}>
                {t('trash.showRestored')}
              </a>
            </p>
          )}
        </SuccessBanner>
      )}
      {!trash && !loadError && <p className="text-std-16N-170">{t('app.loading')}</p>}
      {trash && trash.items.length === 0 && (
        <p className="text-std-16N-170" data-testid="trash-empty">
          {t('trash.none')}
        </p>
      )}
      {trash && trash.items.length > 0 && (
        <div className="overflow-x-auto">
          <table className="w-full text-std-16N-170" data-testid="trash-table">
            <caption className="sr-only">{t('trash.caption')}</caption>
            <thead>
              <tr className={headRowClass}>
                <th scope="col" className={`${thClass} whitespace-nowrap`}>
                  {t('files.col.name')}
                </th>
                <th scope="col" className={`${thClass} whitespace-nowrap`}>
                  {t('trash.from')}
                </th>
                <th scope="col" className={`${thClass} whitespace-nowrap text-end`}>
                  {t('files.col.size')}
                </th>
                <th scope="col" className={`${thClass} whitespace-nowrap`}>
                  {t('trash.deletedBy')}
                </th>
                <th scope="col" className={`${thClass} whitespace-nowrap`}>
                  {t('trash.deletedAt')}
                </th>
                <th scope="col" className={`${thClass} whitespace-nowrap`}>
                  {t('trash.purgeAfter')}
                </th>
                <th scope="col" className={`${thClass} whitespace-nowrap`}>
                  {t('files.col.actions')}
                </th>
              </tr>
            </thead>
            <tbody>
              {trash.items.map((item) => (
                <tr
                  key={`${item.kind}:${item.id}`}
                  className={rowClass}
                  data-testid="trash-row"
                  data-name={item.name}
                  data-kind={item.kind}
                >
                  <th scope="row" className={`${thClass} min-w-48 font-normal`}>
                    <span className="inline-flex items-start gap-2">
                      {item.kind === 'folder' ? <FolderIcon /> : <FileIcon />}
                      <span className="wrap-anywhere">{item.name}</span>
                      <span className="sr-only">（{t(`files.kind.${item.kind}`)}）</span>
                    </span>
                  </th>
                  <td className={tdClass}>{item.parent ? item.parent.name : t('trash.topLevel')}</td>
                  <td className={`${tdClass} whitespace-nowrap text-end`}>
                    {item.size === null ? '—' : formatBytes(item.size, language)}
                  </td>
                  <td className={tdClass} data-testid="trash-deleted-by">
                    {item.deletedByName ?? '—'}
                  </td>
                  <td className={tdClass}>
                    <When short iso={item.deletedAt} />
                  </td>
                  <td className={tdClass}>
                    <When short iso={item.purgeAfter} />
                  </td>
                  <td className={tdClass}>
                    <div className="flex flex-wrap gap-2">
                      <Button
                        variant="solid-fill"
                        size="md"
                        className="whitespace-nowrap"
                        busy={busy === item.id}
                        onClick={() => void restore(item, 'error')}
                      >
                        {t('trash.restore')}
                        <span className="sr-only">（{item.name}）</span>
                      </Button>
                      <Button
                        variant="outline"
                        size="md"
                        className="whitespace-nowrap"
                        busy={busy === item.id}
                        onClick={() => setPurging(item)}
                      >
                        {t('trash.purge')}
                        <span className="sr-only">（{item.name}）</span>
                      </Button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ConfirmDialog
        open={purging !== null}
        title={purging ? t('trash.purgeTitle', { name: purging.name }) : ''}
        body={<p>{purging?.kind === 'folder' ? t('trash.purgeFolderBody') : t('trash.purgeBody')}</p>}
        confirmLabel={t('trash.purge')}
        busy={busy !== null}
        onConfirm={() => void purge()}
        onCancel={() => setPurging(null)}
      />
      <ConflictDialog
        open={conflict !== null}
        name={conflict?.name ?? ''}
        busy={busy !== null}
        onKeepBoth={() => conflict && void restore(conflict, 'keep_both')}
        onCancel={() => setConflict(null)}
      />
    </div>
  );
}
