/**
 * Sharing a folder with colleagues and groups (AC-05): the owner, every grant that applies here —
 * those set on this folder and those inherited from a folder above, with where they come from —
 * and, for the folder's フォルダー管理者, adding a colleague or group as 閲覧者 / 編集者 / フォルダー管理者 and removing
 * grants set here after a confirmation naming who loses access (inherited ones are changed on the
 * folder they come from).
 */
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { errorCode } from '../../api/api-client';
import { Button } from '../../ui/button';
import { ConfirmDialog, headRowClass, rowClass, tdClass, thClass } from '../../ui/confirm-dialog';
import { Dialog } from '../../ui/dialog';
import { ErrorText, inputClass, Label, SelectField } from '../../ui/form';
import { ErrorBanner, SuccessBanner } from '../../ui/messages';
import { useMe } from '../identity/session';
import {
  fetchDirectory,
  fetchPermissions,
  FOLDER_ROLES,
  grantPermission,
  revokePermission,
  type Directory,
  type Folder,
  type FolderRole,
  type Grant,
  type Permissions,
} from './files.api';

export function ShareDialog({ folder, onClose }: { folder: Folder | null; onClose: () => void }) {
  const { t } = useTranslation();
  const [perms, setPerms] = useState<Permissions | null>(null);
  const [directory, setDirectory] = useState<Directory | null>(null);
  const [failure, setFailure] = useState<{ code: string; n: number } | null>(null);
  const [done, setDone] = useState<{ message: string; n: number } | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [removing, setRemoving] = useState<Grant | null>(null);
  const manager = folder?.role === 'manager';

  const fail = (err: unknown) => setFailure((f) => ({ code: errorCode(err), n: (f?.n ?? 0) + 1 }));

  const load = useCallback(async (id: string, withDirectory: boolean) => {
    try {
      const [p, d] = await Promise.all([fetchPermissions(id), withDirectory ? fetchDirectory() : Promise.resolve(null)]);
      setPerms(p);
      if (d) setDirectory(d);
    } catch (err) {
      setFailure((f) => ({ code: errorCode(err), n: (f?.n ?? 0) + 1 }));
    }
  }, []);

  useEffect(() => {
    setPerms(null);
    setFailure(null);
    setDone(null);
    setRemoving(null);
    if (folder) void load(folder.id, folder.role === 'manager');
  }, [folder, load]);

  async function remove(grant: Grant) {
    if (!folder || busy) return;
    setBusy(grant.id);
    try {
      setPerms(await revokePermission(folder.id, grant.id));
      setFailure(null);
      setDone((d) => ({ message: t('share.revoked', { name: grant.subjectName }), n: (d?.n ?? 0) + 1 }));
    } catch (err) {
      fail(err);
    } finally {
      setBusy(null);
      setRemoving(null);
    }
  }

  const subjectLabel = (g: Grant) => (g.subjectType === 'group' ? t('share.groupName', { name: g.subjectName }) : g.subjectName);

  // The confirmation is a sibling of the sharing dialog, not inside it: both are modal <dialog>s,
  // and Escape on the confirmation must not also close the sharing dialog.
  return (
    <>
      <Dialog
        open={folder !== null}
        title={t('share.title', { name: folder?.name ?? '' })}
        onCancel={onClose}
        data-testid="share-dialog"
      >
        <p>{t('share.lead')}</p>
        {failure && <ErrorBanner key={failure.n} title={t('share.errorTitle')} code={failure.code} />}
        {done && <SuccessBanner key={done.n} title={done.message} data-testid="share-success" />}
        {perms === null && !failure && <p>{t('app.loading')}</p>}
        {perms && (
          <>
            <p data-testid="share-owner">
              {t('share.owner')}：{perms.owner.name ?? '—'}
              {perms.owner.loginId && `（${perms.owner.loginId}）`}
            </p>
            {perms.grants.length === 0 ? (
              <p>{t('share.none')}</p>
            ) : (
              <div className="overflow-x-auto">
                <table className="w-full text-std-16N-170" data-testid="grants-table">
                  <caption className="sr-only">{t('share.caption')}</caption>
                  <thead>
                    <tr className={headRowClass}>
                      <th scope="col" className={`${thClass} whitespace-nowrap`}>
                        {t('share.subject')}
                      </th>
                      <th scope="col" className={`${thClass} whitespace-nowrap`}>
                        {t('share.role')}
                      </th>
                      <th scope="col" className={`${thClass} whitespace-nowrap`}>
                        {t('share.source')}
                      </th>
                      {manager && (
                        <th scope="col" className={`${thClass} whitespace-nowrap`}>
                          {t('files.col.actions')}
                        </th>
                      )}
                    </tr>
                  </thead>
                  <tbody>
                    {perms.grants.map((g) => (
                      <tr key={g.id} className={rowClass} data-testid="grant-row" data-subject={g.subjectName} data-role={g.role}>
                        <th scope="row" className={`${thClass} font-normal`}>
                          {subjectLabel(g)}
                        </th>
                        <td className={tdClass}>{t(`share.roles.${g.role}`)}</td>
                        <td className={tdClass}>
                          {g.inheritedFrom ? t('share.inherited', { name: g.inheritedFrom.name }) : t('share.here')}
                        </td>
                        {manager && (
                          <td className={tdClass}>
                            {!g.inheritedFrom && (
                              <Button variant="outline" size="md" busy={busy === g.id} onClick={() => setRemoving(g)}>
                                {t('share.remove')}
                                <span className="sr-only">（{g.subjectName}）</span>
                              </Button>
                            )}
                          </td>
                        )}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </>
        )}
        {folder && manager && directory && (
          <AddGrantForm
            folderId={folder.id}
            directory={directory}
            onAdded={(p, name, role) => {
              setPerms(p);
              setFailure(null);
              setDone((d) => ({ message: t('share.granted', { name, role: t(`share.roles.${role}`) }), n: (d?.n ?? 0) + 1 }));
            }}
            onError={fail}
          />
        )}
        {folder && !manager && <p>{t('share.readOnly')}</p>}
        <div>
          <Button variant="outline" size="md" onClick={onClose}>
            {t('share.close')}
          </Button>
        </div>
      </Dialog>
      <ConfirmDialog
        open={removing !== null}
        title={removing ? t('share.removeConfirmTitle', { name: subjectLabel(removing) }) : ''}
        body={
          removing && (
            <p>
              {t('share.removeConfirmBody', {
                name: subjectLabel(removing),
                role: t(`share.roles.${removing.role}`),
                folder: folder?.name ?? '',
              })}
            </p>
          )
        }
        confirmLabel={t('share.removeConfirm')}
        busy={busy !== null}
        onConfirm={() => {
          if (removing) void remove(removing);
        }}
        onCancel={() => setRemoving(null)}
      />
    </>
  );
}

function AddGrantForm({
  folderId,
  directory,
  onAdded,
  onError,
}: {
  folderId: string;
  directory: Directory;
  onAdded: (p: Permissions, name: string, role: FolderRole) => void;
  onError: (err: unknown) => void;
}) {
  const { t } = useTranslation();
  const myId = useMe().user.id;
  const users = directory.users.filter((u) => u.id !== myId);
  const subjectId = useId();
  const [subject, setSubject] = useState('');
  const [role, setRole] = useState<FolderRole>('viewer');
  const [subjectError, setSubjectError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    const [type, id] = subject.split(':') as ['user' | 'group', string | undefined];
    if (!id) {
      setSubjectError(t('share.subjectRequired'));
      document.getElementById(subjectId)?.focus();
      return;
    }
    setSubjectError(undefined);
    const name =
      type === 'user'
        ? (directory.users.find((u) => u.id === id)?.displayName ?? '')
        : t('share.groupName', { name: directory.groups.find((g) => g.id === id)?.name ?? '' });
    setBusy(true);
    try {
      const p = await grantPermission(folderId, { subjectType: type, subjectId: id, role });
      setSubject('');
      setRole('viewer');
      onAdded(p, name, role);
    } catch (err) {
      onError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form
      noValidate
      onSubmit={(e) => void submit(e)}
      className="flex flex-col gap-4 border-t border-solid-gray-420 pt-6"
      data-testid="grant-form"
    >
      <h3 className="text-std-20B-150 text-solid-gray-900">{t('share.addTitle')}</h3>
      <div className="flex flex-col gap-2">
        <Label htmlFor={subjectId} required>
          {t('share.subjectLabel')}
        </Label>
        <select
          id={subjectId}
          value={subject}
          onChange={(e) => setSubject(e.target.value)}
          aria-invalid={subjectError ? true : undefined}
          aria-describedby={subjectError ? `${subjectId}-error` : undefined}
          aria-required
          className={inputClass}
        >
          <option value="">{t('share.choose')}</option>
          {users.length > 0 && (
            <optgroup label={t('share.users')}>
              {users.map((u) => (
                <option key={u.id} value={`user:${u.id}`}>
                  {u.displayName}（{u.loginId}）
                </option>
              ))}
            </optgroup>
          )}
          {directory.groups.length > 0 && (
            <optgroup label={t('share.groups')}>
              {directory.groups.map((g) => (
                <option key={g.id} value={`group:${g.id}`}>
                  {t('share.groupName', { name: g.name })}
                </option>
              ))}
            </optgroup>
          )}
        </select>
        {subjectError && <ErrorText id={`${subjectId}-error`}>{subjectError}</ErrorText>}
      </div>
      <SelectField
        label={t('share.role')}
        required
        hint={t(`share.roleHints.${role}`)}
        value={role}
        onChange={(e) => setRole(e.target.value as FolderRole)}
        options={FOLDER_ROLES.map((r) => ({ value: r, label: t(`share.roles.${r}`) }))}
      />
      <div>
        <Button type="submit" variant="solid-fill" size="md" busy={busy}>
          {t('share.add')}
        </Button>
      </div>
    </form>
  );
}
