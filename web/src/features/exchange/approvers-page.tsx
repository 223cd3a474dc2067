/**
 * 承認者の設定 (`/admin/approvers`, tenant admins; TLS-03): for each group, who gives the 上長承認 for
 * its members' shares to outside recipients, and who stands in as 代理承認者 (deputy) when they are
 * away. Only active users with the 承認者 or 管理者 role can be chosen (the server checks again:
 * `approvers.invalid_user`).
 */
import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { errorCode } from '../../api/api-client';
import { useDocumentTitle } from '../../app/use-document-title';
import { Button } from '../../ui/button';
import { headRowClass, rowClass, tdClass, thClass } from '../../ui/confirm-dialog';
import { Dialog } from '../../ui/dialog';
import { inputClass } from '../../ui/form';
import { ErrorBanner, SuccessBanner } from '../../ui/messages';
import { PageHeading, SectionHeading } from '../../ui/page-heading';
import { fetchGroups, type Group } from '../admin/files-admin.api';
import { fetchUsers, type AdminUser } from '../identity/admin-users.api';
import { StepUpCancelled, useStepUp } from '../identity/step-up';
import { fetchApprovers, saveApprovers, type ApproverAssignment } from './exchange.api';
import { listOf } from './exchange-bits';

type Choice = 'none' | 'approver' | 'deputy';

export function ApproversPage() {
  const { t } = useTranslation();
  useDocumentTitle(t('exchange.approvers.title'));
  const { run, dialog } = useStepUp();
  const [groups, setGroups] = useState<Group[] | null>(null);
  const [users, setUsers] = useState<AdminUser[]>([]);
  const [assignments, setAssignments] = useState<ApproverAssignment[]>([]);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [done, setDone] = useState<{ message: string; n: number } | null>(null);
  const [editing, setEditing] = useState<Group | null>(null);
  const counter = useRef(0);

  const load = useCallback(async () => {
    try {
      const [g, u, a] = await Promise.all([fetchGroups(), fetchUsers(), fetchApprovers()]);
      setGroups(g);
      setUsers(u);
      setAssignments(a);
      setLoadError(null);
    } catch (err) {
      setLoadError(errorCode(err));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const eligible = useMemo(
    () => users.filter((u) => u.state === 'active' && (u.role === 'approver' || u.role === 'tenant_admin')),
    [users],
  );
  const byGroup = useMemo(() => {
    const map = new Map<string, ApproverAssignment[]>();
    for (const a of assignments) map.set(a.groupId, [...(map.get(a.groupId) ?? []), a]);
    return map;
  }, [assignments]);

  async function save(group: Group, approvers: Array<{ userId: string; deputy: boolean }>) {
    await run(() => saveApprovers(group.id, approvers));
    setEditing(null);
    setDone({ message: t('exchange.approvers.saved', { name: group.name }), n: ++counter.current });
    await load();
  }

  return (
    <div className="flex flex-col gap-8">
      <div className="flex flex-col gap-4">
        <PageHeading>{t('exchange.approvers.title')}</PageHeading>
        <p className="text-std-16N-170">{t('exchange.approvers.lead')}</p>
      </div>
      {done && <SuccessBanner key={done.n} title={done.message} data-testid="approvers-saved" />}
      {loadError && <ErrorBanner title={t('app.loadErrorTitle')} code={loadError} focus={false} />}
      <section aria-labelledby="approvers-list" className="flex flex-col gap-4">
        <SectionHeading id="approvers-list">{t('exchange.approvers.listTitle')}</SectionHeading>
        {groups === null && !loadError && <p className="text-std-16N-170">{t('app.loading')}</p>}
        {groups && groups.length === 0 && <p className="text-std-16N-170">{t('exchange.approvers.noGroups')}</p>}
        {groups && groups.length > 0 && (
          <div className="overflow-x-auto">
            <table className="w-full text-std-16N-170" data-testid="approvers-table">
              <caption className="sr-only">{t('exchange.approvers.caption')}</caption>
              <thead>
                <tr className={headRowClass}>
                  <th scope="col" className={`${thClass} whitespace-nowrap`}>
                    {t('admin.groups.name')}
                  </th>
                  <th scope="col" className={`${thClass} whitespace-nowrap`}>
                    {t('exchange.approvers.approvers')}
                  </th>
                  <th scope="col" className={`${thClass} whitespace-nowrap`}>
                    {t('exchange.approvers.deputies')}
                  </th>
                  <th scope="col" className={`${thClass} whitespace-nowrap`}>
                    {t('files.col.actions')}
                  </th>
                </tr>
              </thead>
              <tbody>
                {groups.map((g) => {
                  const list = byGroup.get(g.id) ?? [];
                  const main = list.filter((a) => !a.deputy).map((a) => a.userName);
                  const deputies = list.filter((a) => a.deputy).map((a) => a.userName);
                  return (
                    <tr key={g.id} className={rowClass} data-testid="approvers-row" data-name={g.name}>
                      <th scope="row" className={`${thClass} font-normal break-all`}>
                        {g.name}
                      </th>
                      <td className={tdClass} data-testid="group-approvers">
                        {main.length ? listOf(t, main) : t('exchange.approvers.notSet')}
                      </td>
                      <td className={tdClass} data-testid="group-deputies">
                        {deputies.length ? listOf(t, deputies) : '—'}
                      </td>
                      <td className={tdClass}>
                        <Button variant="outline" size="md" onClick={() => setEditing(g)} data-testid="edit-approvers">
                          {t('exchange.approvers.edit')}
                          <span className="sr-only">（{g.name}）</span>
                        </Button>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <ApproversDialog
        group={editing}
        eligible={eligible}
        current={editing ? (byGroup.get(editing.id) ?? []) : []}
        onSave={save}
        onCancel={() => setEditing(null)}
      />
      {dialog}
    </div>
  );
}

function ApproversDialog({
  group,
  eligible,
  current,
  onSave,
  onCancel,
}: {
  group: Group | null;
  eligible: AdminUser[];
  current: ApproverAssignment[];
  onSave: (group: Group, approvers: Array<{ userId: string; deputy: boolean }>) => Promise<void>;
  onCancel: () => void;
}) {
  const { t } = useTranslation();
  const [choices, setChoices] = useState<Record<string, Choice>>({});
  const [failure, setFailure] = useState<{ code: string; n: number } | null>(null);
  const [busy, setBusy] = useState(false);
  const open = group !== null;

  useEffect(() => {
    if (!open) return;
    setChoices(Object.fromEntries(current.map((a) => [a.userId, a.deputy ? 'deputy' : 'approver'])));
    setFailure(null);
    setBusy(false);
    // Only when the dialog opens: a reload behind it must not undo the choices being made.
  }, [open, group?.id]);

  // Someone assigned earlier who is no longer eligible still shows, so the admin can remove them.
  const rows = [
    ...eligible.map((u) => ({ id: u.id, name: u.displayName, loginId: u.loginId, eligible: true })),
    ...current
      .filter((a) => !eligible.some((u) => u.id === a.userId))
      .map((a) => ({ id: a.userId, name: a.userName, loginId: '', eligible: false })),
  ];

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!group || busy) return;
    const approvers = Object.entries(choices)
      .filter(([, c]) => c !== 'none')
      .map(([userId, c]) => ({ userId, deputy: c === 'deputy' }));
    setBusy(true);
    try {
      await onSave(group, approvers);
    } catch (err) {
      if (!(err instanceof StepUpCancelled)) setFailure((f) => ({ code: errorCode(err), n: (f?.n ?? 0) + 1 }));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog
      open={open}
      title={group ? t('exchange.approvers.dialogTitle', { name: group.name }) : ''}
      onCancel={onCancel}
      data-testid="approvers-dialog"
    >
      <form noValidate onSubmit={(e) => void submit(e)} className="flex flex-col gap-6">
        <p>{t('exchange.approvers.dialogLead')}</p>
        {failure && <ErrorBanner key={failure.n} title={t('exchange.approvers.errorTitle')} code={failure.code} />}
        {rows.length === 0 ? (
          <p>{t('exchange.approvers.noEligible')}</p>
        ) : (
          <div className="max-h-[50vh] overflow-y-auto">
            <table className="w-full text-std-16N-170">
              <caption className="sr-only">{t('exchange.approvers.dialogCaption')}</caption>
              <thead>
                <tr className={headRowClass}>
                  <th scope="col" className={thClass}>
                    {t('exchange.approvers.user')}
                  </th>
                  <th scope="col" className={thClass}>
                    {t('exchange.approvers.assignment')}
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => {
                  const selectId = `approver-${r.id}`;
                  return (
                    <tr key={r.id} className={rowClass} data-testid="approver-choice" data-user={r.loginId || r.id}>
                      <th scope="row" className={`${thClass} font-normal`}>
                        <label htmlFor={selectId} className="block break-all">
                          {r.name}
                          {r.loginId && <span className="block text-dns-14N-130 text-solid-gray-700">{r.loginId}</span>}
                        </label>
                        {!r.eligible && (
                          <span className="block text-dns-14N-130 text-error-2">{t('exchange.approvers.notEligible')}</span>
                        )}
                      </th>
                      <td className={tdClass}>
                        <select
                          id={selectId}
                          value={choices[r.id] ?? 'none'}
                          onChange={(e) => setChoices((c) => ({ ...c, [r.id]: e.target.value as Choice }))}
                          className={`${inputClass} min-w-44`}
                        >
                          <option value="none">{t('exchange.approvers.choice.none')}</option>
                          {(r.eligible || choices[r.id] === 'approver') && (
                            <option value="approver">{t('exchange.approvers.choice.approver')}</option>
                          )}
                          {(r.eligible || choices[r.id] === 'deputy') && (
                            <option value="deputy">{t('exchange.approvers.choice.deputy')}</option>
                          )}
                        </select>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
        <div className="flex flex-wrap gap-4">
          <Button type="submit" variant="solid-fill" size="md" busy={busy} data-testid="approvers-save">
            {t('exchange.approvers.save')}
          </Button>
          <Button variant="outline" size="md" onClick={onCancel}>
            {t('form.cancel')}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
