/**
 * Groups (グループ, AC-05): named sets of colleagues (部署・係) that folders are shared with at once.
 * Tenant admins create them, change the name and members, and delete them (which also removes the
 * folder permissions given to the group).
 */
import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { errorCode } from '../../api/api-client';
import { useDocumentTitle } from '../../app/use-document-title';
import { Button } from '../../ui/button';
import { ConfirmDialog, headRowClass, rowClass, tdClass, thClass } from '../../ui/confirm-dialog';
import { Dialog } from '../../ui/dialog';
import { Checkbox, Fieldset, TextField } from '../../ui/form';
import { ErrorBanner, SuccessBanner } from '../../ui/messages';
import { PageHeading, SectionHeading } from '../../ui/page-heading';
import { fetchUsers, type AdminUser } from '../identity/admin-users.api';
import { StepUpCancelled, useStepUp } from '../identity/step-up';
import { deleteGroup, fetchGroups, saveGroup, type Group } from './files-admin.api';

type Failure = { code: string; n: number } | null;

export function GroupsPage() {
  const { t } = useTranslation();
  useDocumentTitle(t('admin.groups.title'));
  const { run, dialog } = useStepUp();
  const [groups, setGroups] = useState<Group[] | null>(null);
  const [users, setUsers] = useState<AdminUser[]>([]);
  const [failure, setFailure] = useState<Failure>(null);
  const [done, setDone] = useState<{ message: string; n: number } | null>(null);
  const [editing, setEditing] = useState<Group | null>(null);
  const [deleting, setDeleting] = useState<Group | null>(null);
  const [busy, setBusy] = useState(false);

  const fail = (err: unknown) => setFailure((f) => ({ code: errorCode(err), n: (f?.n ?? 0) + 1 }));
  const success = (message: string) => setDone((d) => ({ message, n: (d?.n ?? 0) + 1 }));

  const load = useCallback(async () => {
    try {
      const [g, u] = await Promise.all([fetchGroups(), fetchUsers()]);
      setGroups(g);
      setUsers(u);
    } catch (err) {
      setFailure((f) => ({ code: errorCode(err), n: (f?.n ?? 0) + 1 }));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const byId = useMemo(() => new Map(users.map((u) => [u.id, u])), [users]);
  const members = useMemo(() => users.filter((u) => u.state === 'active' || u.state === 'suspended'), [users]);

  async function save(input: { id?: string; name: string; memberIds: string[] }): Promise<boolean> {
    try {
      const saved = await run(() => saveGroup(input));
      setFailure(null);
      success(t(input.id ? 'admin.groups.updated' : 'admin.groups.created', { name: saved.name }));
      await load();
      return true;
    } catch (err) {
      if (!(err instanceof StepUpCancelled)) fail(err);
      return false;
    }
  }

  async function remove() {
    if (!deleting || busy) return;
    const group = deleting;
    setBusy(true);
    try {
      await run(() => deleteGroup(group.id));
      setFailure(null);
      success(t('admin.groups.deleted', { name: group.name }));
      await load();
    } catch (err) {
      if (!(err instanceof StepUpCancelled)) fail(err);
    } finally {
      setBusy(false);
      setDeleting(null);
    }
  }

  return (
    <div className="flex flex-col gap-12">
      <div className="flex flex-col gap-4">
        <PageHeading>{t('admin.groups.title')}</PageHeading>
        <p className="text-std-16N-170">{t('admin.groups.lead')}</p>
      </div>
      {failure && <ErrorBanner key={failure.n} title={t('admin.groups.errorTitle')} code={failure.code} />}
      {done && <SuccessBanner key={done.n} title={done.message} data-testid="groups-success" />}

      <section aria-labelledby="groups-list" className="flex flex-col gap-4">
        <SectionHeading id="groups-list">{t('admin.groups.listTitle')}</SectionHeading>
        {groups === null && !failure && <p className="text-std-16N-170">{t('app.loading')}</p>}
        {groups && groups.length === 0 && <p className="text-std-16N-170">{t('admin.groups.none')}</p>}
        {groups && groups.length > 0 && (
          <div className="overflow-x-auto">
            <table className="w-full text-std-16N-170" data-testid="groups-table">
              <caption className="sr-only">{t('admin.groups.caption')}</caption>
              <thead>
                <tr className={headRowClass}>
                  <th scope="col" className={`${thClass} whitespace-nowrap`}>
                    {t('admin.groups.name')}
                  </th>
                  <th scope="col" className={`${thClass} whitespace-nowrap`}>
                    {t('admin.groups.members')}
                  </th>
                  <th scope="col" className={`${thClass} whitespace-nowrap`}>
                    {t('files.col.actions')}
                  </th>
                </tr>
              </thead>
              <tbody>
                {groups.map((g) => (
                  <tr key={g.id} className={rowClass} data-testid="group-row" data-name={g.name}>
                    <th scope="row" className={`${thClass} font-normal break-all`}>
                      {g.name}
                    </th>
                    <td className={tdClass}>
                      <p className="font-bold">{t('admin.groups.memberCount', { count: g.memberIds.length })}</p>
                      <p className="text-solid-gray-800" data-testid="group-members">
                        {g.memberIds.map((id) => byId.get(id)?.displayName ?? '—').join('、')}
                      </p>
                    </td>
                    <td className={tdClass}>
                      <div className="flex flex-wrap gap-2">
                        <Button variant="outline" size="md" onClick={() => setEditing(g)}>
                          {t('admin.groups.edit')}
                          <span className="sr-only">（{g.name}）</span>
                        </Button>
                        <Button variant="outline" size="md" onClick={() => setDeleting(g)}>
                          {t('admin.groups.delete')}
                          <span className="sr-only">（{g.name}）</span>
                        </Button>
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section aria-labelledby="group-create" className="flex flex-col gap-6">
        <SectionHeading id="group-create">{t('admin.groups.createTitle')}</SectionHeading>
        <GroupForm users={members} submitLabel={t('admin.groups.create')} onSave={(input) => save(input)} resetOnSave />
      </section>

      <Dialog
        open={editing !== null}
        title={t('admin.groups.editTitle', { name: editing?.name ?? '' })}
        onCancel={() => setEditing(null)}
        data-testid="group-edit-dialog"
      >
        {editing && (
          <GroupForm
            users={members}
            group={editing}
            submitLabel={t('admin.groups.save')}
            onSave={async (input) => {
              const ok = await save({ ...input, id: editing.id });
              if (ok) setEditing(null);
              return ok;
            }}
            onCancel={() => setEditing(null)}
          />
        )}
      </Dialog>
      <ConfirmDialog
        open={deleting !== null}
        title={t('admin.groups.deleteTitle', { name: deleting?.name ?? '' })}
        body={<p>{t('admin.groups.deleteBody')}</p>}
        confirmLabel={t('admin.groups.delete')}
        busy={busy}
        onConfirm={() => void remove()}
        onCancel={() => setDeleting(null)}
      />
      {dialog}
    </div>
  );
}

function GroupForm({
  users,
  group,
  submitLabel,
  onSave,
  onCancel,
  resetOnSave,
}: {
  users: AdminUser[];
  group?: Group;
  submitLabel: string;
  onSave: (input: { name: string; memberIds: string[] }) => Promise<boolean>;
  onCancel?: () => void;
  resetOnSave?: boolean;
}) {
  const { t } = useTranslation();
  const [name, setName] = useState(group?.name ?? '');
  const [selected, setSelected] = useState<Set<string>>(
    () => new Set((group?.memberIds ?? []).filter((id) => users.some((u) => u.id === id))),
  );
  const [nameError, setNameError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const nameRef = useRef<HTMLInputElement>(null);
  const sorted = [...users].sort((a, b) => a.loginId.localeCompare(b.loginId));
  // Deleted users cannot stay members (the server refuses them); saving drops them.
  const dropped = (group?.memberIds ?? []).filter((id) => !users.some((u) => u.id === id)).length;

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    const trimmed = name.normalize('NFC').trim();
    if (!trimmed) {
      setNameError(t('form.fieldRequired', { field: t('admin.groups.name') }));
      nameRef.current?.focus();
      return;
    }
    setNameError(undefined);
    setBusy(true);
    try {
      const ok = await onSave({ name: trimmed, memberIds: [...selected] });
      if (ok && resetOnSave) {
        setName('');
        setSelected(new Set());
      }
    } finally {
      setBusy(false);
    }
  }

  const toggle = (id: string, on: boolean) =>
    setSelected((s) => {
      const next = new Set(s);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });

  return (
    <form noValidate onSubmit={(e) => void submit(e)} className="flex max-w-2xl flex-col gap-6" data-testid="group-form">
      <TextField
        label={t('admin.groups.name')}
        hint={t('admin.groups.nameHint')}
        required
        value={name}
        onChange={(e) => setName(e.target.value)}
        error={nameError}
        inputRef={nameRef}
        autoComplete="off"
        maxLength={100}
      />
      <Fieldset legend={t('admin.groups.membersLegend', { count: selected.size })} size="group">
        {sorted.length === 0 ? (
          <p>{t('admin.groups.noUsers')}</p>
        ) : (
          <div className="flex max-h-72 flex-col overflow-y-auto rounded-8 border border-solid-gray-420 px-4 py-2">
            {sorted.map((u) => (
              <Checkbox key={u.id} checked={selected.has(u.id)} onChange={(e) => toggle(u.id, e.target.checked)}>
                {u.displayName}（{u.loginId}）{u.state === 'suspended' && ` ${t('admin.users.state.suspended')}`}
              </Checkbox>
            ))}
          </div>
        )}
        {dropped > 0 && <p className="text-std-16N-170">{t('admin.groups.droppedMembers', { count: dropped })}</p>}
      </Fieldset>
      <div className="flex flex-wrap gap-4">
        <Button type="submit" variant="solid-fill" size="md" busy={busy}>
          {submitLabel}
        </Button>
        {onCancel && (
          <Button variant="outline" size="md" onClick={onCancel}>
            {t('form.cancel')}
          </Button>
        )}
      </div>
    </form>
  );
}
