/**
 * Folder owners (フォルダー管理責任者, HR-04): every folder has an accountable owner; when the owner
 * leaves (suspended or deleted) the folder is flagged and a tenant admin re-assigns it to an active
 * colleague. Flagged folders come first and are counted in a warning.
 */
import { useCallback, useEffect, useId, useMemo, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { errorCode } from '../../api/api-client';
import { useDocumentTitle } from '../../app/use-document-title';
import { Badge } from '../../ui/badge';
import { Button } from '../../ui/button';
import { headRowClass, rowClass, tdClass, thClass } from '../../ui/confirm-dialog';
import { Dialog } from '../../ui/dialog';
import { SelectField } from '../../ui/form';
import { ErrorBanner, SuccessBanner } from '../../ui/messages';
import { NotificationBanner } from '../../ui/notification-banner';
import { PageHeading } from '../../ui/page-heading';
import { fetchUsers, type AdminUser } from '../identity/admin-users.api';
import { StepUpCancelled, useStepUp } from '../identity/step-up';
import { fetchFolderOwners, setFolderOwner, type OwnedFolder } from './files-admin.api';

export function FolderOwnersPage() {
  const { t } = useTranslation();
  useDocumentTitle(t('admin.folders.title'));
  const { run, dialog } = useStepUp();
  const [folders, setFolders] = useState<OwnedFolder[] | null>(null);
  const [users, setUsers] = useState<AdminUser[]>([]);
  const [failure, setFailure] = useState<{ code: string; n: number } | null>(null);
  const [done, setDone] = useState<{ message: string; n: number } | null>(null);
  const [reassigning, setReassigning] = useState<OwnedFolder | null>(null);

  const load = useCallback(async () => {
    try {
      const [f, u] = await Promise.all([fetchFolderOwners(), fetchUsers()]);
      setFolders(f);
      setUsers(u);
    } catch (err) {
      setFailure((x) => ({ code: errorCode(err), n: (x?.n ?? 0) + 1 }));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const names = useMemo(() => new Map((folders ?? []).map((f) => [f.id, f.name])), [folders]);
  const sorted = useMemo(() => {
    const collator = new Intl.Collator('ja');
    return [...(folders ?? [])].sort((a, b) => Number(a.ownerActive) - Number(b.ownerActive) || collator.compare(a.name, b.name));
  }, [folders]);
  const inactive = sorted.filter((f) => !f.ownerActive).length;

  return (
    <div className="flex flex-col gap-6">
      <PageHeading>{t('admin.folders.title')}</PageHeading>
      <p className="text-std-16N-170">{t('admin.folders.lead')}</p>
      {failure && <ErrorBanner key={failure.n} title={t('admin.folders.errorTitle')} code={failure.code} />}
      {done && <SuccessBanner key={done.n} title={done.message} data-testid="owners-success" />}
      {inactive > 0 && (
        <NotificationBanner
          tone="warning"
          iconLabel={t('icon.warning')}
          title={t('admin.folders.inactiveTitle', { count: inactive })}
          data-testid="owners-inactive"
        >
          <p>{t('admin.folders.inactiveBody')}</p>
        </NotificationBanner>
      )}
      {folders === null && !failure && <p className="text-std-16N-170">{t('app.loading')}</p>}
      {folders && folders.length === 0 && <p className="text-std-16N-170">{t('admin.folders.none')}</p>}
      {folders && folders.length > 0 && (
        <div className="overflow-x-auto">
          <table className="w-full text-std-16N-170" data-testid="owners-table">
            <caption className="sr-only">{t('admin.folders.caption')}</caption>
            <thead>
              <tr className={headRowClass}>
                <th scope="col" className={`${thClass} whitespace-nowrap`}>
                  {t('admin.folders.name')}
                </th>
                <th scope="col" className={`${thClass} whitespace-nowrap`}>
                  {t('admin.folders.parent')}
                </th>
                <th scope="col" className={`${thClass} whitespace-nowrap`}>
                  {t('admin.folders.owner')}
                </th>
                <th scope="col" className={`${thClass} whitespace-nowrap`}>
                  {t('admin.folders.state')}
                </th>
                <th scope="col" className={`${thClass} whitespace-nowrap`}>
                  {t('files.col.actions')}
                </th>
              </tr>
            </thead>
            <tbody>
              {sorted.map((f) => (
                <tr
                  key={f.id}
                  className={`${rowClass} ${f.ownerActive ? '' : 'bg-yellow-50'}`}
                  data-testid="owner-row"
                  data-name={f.name}
                  data-owner-active={String(f.ownerActive)}
                >
                  <th scope="row" className={`${thClass} font-normal break-all`}>
                    {f.name}
                  </th>
                  <td className={`${tdClass} break-all`}>
                    {f.parentId ? (names.get(f.parentId) ?? '—') : t('admin.folders.topLevel')}
                  </td>
                  <td className={tdClass}>
                    {f.ownerName}
                    <span className="text-solid-gray-700">（{f.ownerLoginId}）</span>
                  </td>
                  <td className={tdClass}>
                    {f.ownerActive ? (
                      <Badge tone="success">{t('admin.folders.active')}</Badge>
                    ) : (
                      <Badge tone="error" data-testid="owner-inactive">
                        {t('admin.folders.inactive')}
                      </Badge>
                    )}
                  </td>
                  <td className={tdClass}>
                    <Button variant={f.ownerActive ? 'outline' : 'solid-fill'} size="md" onClick={() => setReassigning(f)}>
                      {t('admin.folders.reassign')}
                      <span className="sr-only">（{f.name}）</span>
                    </Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ReassignDialog
        folder={reassigning}
        users={users}
        onCancel={() => setReassigning(null)}
        onSubmit={async (userId) => {
          const folder = reassigning!;
          try {
            await run(() => setFolderOwner(folder.id, userId));
            const owner = users.find((u) => u.id === userId)?.displayName ?? '';
            setReassigning(null);
            setFailure(null);
            setDone((d) => ({ message: t('admin.folders.done', { name: folder.name, owner }), n: (d?.n ?? 0) + 1 }));
            await load();
          } catch (err) {
            if (err instanceof StepUpCancelled) return;
            setReassigning(null);
            setFailure((x) => ({ code: errorCode(err), n: (x?.n ?? 0) + 1 }));
          }
        }}
      />
      {dialog}
    </div>
  );
}

function ReassignDialog({
  folder,
  users,
  onCancel,
  onSubmit,
}: {
  folder: OwnedFolder | null;
  users: AdminUser[];
  onCancel: () => void;
  onSubmit: (userId: string) => Promise<void>;
}) {
  const { t } = useTranslation();
  const formId = useId();
  const [userId, setUserId] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const candidates = users
    .filter((u) => u.state === 'active' && u.id !== folder?.ownerId && u.role !== 'guest')
    .sort((a, b) => a.loginId.localeCompare(b.loginId));

  useEffect(() => {
    setUserId('');
    setError(undefined);
    setBusy(false);
  }, [folder]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    if (!userId) {
      setError(t('admin.folders.ownerRequired'));
      document.getElementById(formId)?.querySelector('select')?.focus();
      return;
    }
    setBusy(true);
    try {
      await onSubmit(userId);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog
      open={folder !== null}
      title={t('admin.folders.reassignTitle', { name: folder?.name ?? '' })}
      onCancel={onCancel}
      data-testid="reassign-dialog"
    >
      <form id={formId} noValidate onSubmit={(e) => void submit(e)} className="flex flex-col gap-6">
        <p>{t('admin.folders.reassignLead', { owner: folder?.ownerName ?? '' })}</p>
        <SelectField
          label={t('admin.folders.newOwner')}
          required
          value={userId}
          error={error}
          onChange={(e) => setUserId(e.target.value)}
          options={[
            { value: '', label: t('admin.folders.choose') },
            ...candidates.map((u) => ({ value: u.id, label: `${u.displayName}（${u.loginId}）` })),
          ]}
        />
        <div className="flex flex-wrap gap-4">
          <Button type="submit" variant="solid-fill" size="md" busy={busy}>
            {t('admin.folders.submit')}
          </Button>
          <Button variant="outline" size="md" onClick={onCancel}>
            {t('form.cancel')}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
