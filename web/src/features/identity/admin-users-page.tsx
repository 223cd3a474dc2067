/**
 * User administration for tenant admins (AC-01–AC-05): the user list with state badges, the
 * registration form (which hands out a one-time setup link, or waits for a second admin under the
 * two-person rule), and row actions with a confirmation for the destructive ones. Suspending or
 * deleting someone who owns folders needs an heir (HR-04): the confirmation offers
 * 「フォルダーの引き継ぎ先」, and when the server answers `user.owns_folders` it asks for one there.
 * Changes need a recent verification: a 403 `auth.step_up_required` opens the step-up dialog and
 * the action is retried. Auditors read the same list (and the inactive filter) with no form and no
 * row actions: the server refuses them every change.
 */
import { Fragment, useCallback, useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, errorCode } from '../../api/api-client';
import { useDocumentTitle } from '../../app/use-document-title';
import { formatDateTime } from '../../i18n/format';
import { currentLanguage } from '../../i18n/i18n';
import { Badge } from '../../ui/badge';
import { Button } from '../../ui/button';
import { Dialog } from '../../ui/dialog';
import { inputClass, Label, SelectField, SupportText, TextField } from '../../ui/form';
import { errorMessageKey } from '../../i18n/error-message';
import { ErrorBanner, SuccessBanner } from '../../ui/messages';
import { PageHeading, SectionHeading } from '../../ui/page-heading';
import {
  actionsFor,
  CONFIRMED_ACTIONS,
  createUser,
  fetchInactiveUsers,
  fetchUsers,
  HANDOVER_ACTIONS,
  heirCandidates,
  runUserAction,
  type AdminUser,
  type UserAction,
} from './admin-users.api';
import { ROLES, type Role } from './identity.api';
import { useMe } from './session';
import { StepUpCancelled, useStepUp } from './step-up';

type Outcome =
  | {
      kind: 'success';
      message: string;
      setupUrl?: string | undefined;
      pending?: boolean;
      heir?: string | undefined;
      n: number;
    }
  | { kind: 'error'; code: string; n: number };

export function AdminUsersPage() {
  const { t } = useTranslation();
  useDocumentTitle(t('admin.users.title'));
  const canChange = useMe().user.role === 'tenant_admin';
  const { run, dialog } = useStepUp();
  const [users, setUsers] = useState<AdminUser[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [confirming, setConfirming] = useState<{ user: AdminUser; action: UserAction } | null>(null);
  const [busy, setBusy] = useState(false);
  const [filter, setFilter] = useState<'all' | 'inactive'>('all');
  const [inactive, setInactive] = useState<AdminUser[] | null>(null);
  const counter = useRef(0);

  const load = useCallback(async () => {
    try {
      setUsers(await fetchUsers());
      setLoadError(null);
    } catch (err) {
      setLoadError(errorCode(err));
    }
  }, []);

  useEffect(() => {
    if (filter !== 'inactive') return;
    setInactive(null);
    fetchInactiveUsers()
      .then(setInactive)
      .catch((err: unknown) => setLoadError(errorCode(err)));
  }, [filter, users]);

  useEffect(() => {
    void load();
  }, [load]);

  const report = (o: Omit<Extract<Outcome, { kind: 'success' }>, 'n'> | Omit<Extract<Outcome, { kind: 'error' }>, 'n'>) =>
    setOutcome({ ...o, n: ++counter.current } as Outcome);

  /**
   * Runs the action; answers the error code when the confirmation should stay open for the admin to
   * choose an heir (the user owns folders, or the chosen heir is no longer active).
   */
  async function perform(user: AdminUser, action: UserAction, reassignTo?: string): Promise<string | null> {
    setBusy(true);
    try {
      const result = await run(() => runUserAction(user.id, action, reassignTo));
      setUsers((list) => list?.map((u) => (u.id === result.user.id ? result.user : u)) ?? null);
      const heir = reassignTo ? users?.find((u) => u.id === reassignTo)?.displayName : undefined;
      report({
        kind: 'success',
        message: t(`admin.users.done.${action}`, { name: result.user.displayName }),
        setupUrl: result.setupUrl,
        // Two-person rule: a link for another admin waits for a second admin's approval.
        pending: action === 'setup-link' && !result.setupUrl,
        heir,
      });
      setConfirming(null);
      return null;
    } catch (err) {
      const code = errorCode(err);
      if (HANDOVER_ACTIONS.has(action) && (code === 'user.owns_folders' || code === 'folder.owner_invalid')) {
        if (code === 'folder.owner_invalid') void load();
        return code;
      }
      if (!(err instanceof StepUpCancelled)) report({ kind: 'error', code });
      setConfirming(null);
      return null;
    } finally {
      setBusy(false);
    }
  }

  function request(user: AdminUser, action: UserAction) {
    if (CONFIRMED_ACTIONS.has(action)) setConfirming({ user, action });
    else void perform(user, action);
  }

  return (
    <div className="flex flex-col gap-12">
      <div className="flex flex-col gap-4">
        <PageHeading>{t('admin.users.title')}</PageHeading>
        <p className="text-std-16N-170" data-testid={canChange ? undefined : 'users-read-only'}>
          {t(canChange ? 'admin.users.lead' : 'admin.users.readOnly')}
        </p>
      </div>

      {canChange && (
        <InviteForm
          run={run}
          onCreated={(user, setupUrl) => {
            setUsers((list) => (list ? [...list.filter((u) => u.id !== user.id), user] : list));
            report({
              kind: 'success',
              message: t('admin.users.created', { name: user.displayName, loginId: user.loginId }),
              setupUrl,
              pending: user.state === 'requested',
            });
          }}
          onError={(code) => report({ kind: 'error', code })}
        />
      )}

      <section aria-labelledby="users-list" className="flex flex-col gap-4">
        <SectionHeading id="users-list">{t('admin.users.listTitle')}</SectionHeading>
        {outcome && <OutcomeBanner key={outcome.n} outcome={outcome} />}
        {loadError && <ErrorBanner title={t('app.loadErrorTitle')} code={loadError} focus={false} />}
        {!users && !loadError && <p className="text-std-16N-170">{t('app.loading')}</p>}
        <div role="group" aria-label={t('admin.users.filterLabel')} className="flex flex-wrap gap-2" data-testid="users-filter">
          {(['all', 'inactive'] as const).map((f) => (
            <Button
              key={f}
              variant={filter === f ? 'solid-fill' : 'outline'}
              size="md"
              aria-pressed={filter === f}
              onClick={() => setFilter(f)}
            >
              {t(f === 'all' ? 'admin.users.filterAll' : 'admin.users.filterInactive')}
            </Button>
          ))}
        </div>
        {filter === 'inactive' && <p className="text-std-16N-170">{t('admin.users.inactiveLead')}</p>}
        {filter === 'all' && users && <UsersTable users={users} busy={busy} onAction={canChange ? request : undefined} />}
        {filter === 'inactive' && inactive && inactive.length === 0 && (
          <p className="text-std-16N-170" data-testid="inactive-none">
            {t('admin.users.inactiveNone')}
          </p>
        )}
        {filter === 'inactive' && inactive && inactive.length > 0 && (
          <UsersTable users={inactive} busy={busy} onAction={canChange ? request : undefined} />
        )}
      </section>

      <ConfirmActionDialog
        confirming={confirming}
        candidates={confirming && users ? heirCandidates(users, confirming.user) : []}
        busy={busy}
        onConfirm={perform}
        onCancel={() => setConfirming(null)}
      />
      {dialog}
    </div>
  );
}

/**
 * The confirmation of a row action. For suspend and delete it also asks who takes over the user's
 * folders (optional up front: only someone who owns folders needs an heir, and the server says so).
 */
function ConfirmActionDialog({
  confirming,
  candidates,
  busy,
  onConfirm,
  onCancel,
}: {
  confirming: { user: AdminUser; action: UserAction } | null;
  candidates: AdminUser[];
  busy: boolean;
  /** Resolves to an error code to show at the heir field, or null when the dialog is done. */
  onConfirm: (user: AdminUser, action: UserAction, reassignTo?: string) => Promise<string | null>;
  onCancel: () => void;
}) {
  const { t } = useTranslation();
  const [heir, setHeir] = useState('');
  const [heirError, setHeirError] = useState<string | null>(null);
  const heirRef = useRef<HTMLSelectElement>(null);

  useEffect(() => {
    setHeir('');
    setHeirError(null);
  }, [confirming]);

  const asksHeir = confirming !== null && HANDOVER_ACTIONS.has(confirming.action) && confirming.user.state !== 'requested';

  async function confirm() {
    if (!confirming || busy) return;
    setHeirError(null);
    const code = await onConfirm(confirming.user, confirming.action, asksHeir && heir ? heir : undefined);
    if (code) {
      // The chosen heir is no longer active: the list was reloaded without them.
      if (code === 'folder.owner_invalid') setHeir('');
      setHeirError(code);
      heirRef.current?.focus();
    }
  }

  return (
    <Dialog
      open={confirming !== null}
      title={confirming ? t(`admin.users.confirmTitle.${confirming.action}`, { name: confirming.user.displayName }) : ''}
      onCancel={onCancel}
      data-testid="confirm-dialog"
    >
      {confirming && (
        <>
          <p>{t(`admin.users.confirmBody.${confirming.action}`)}</p>
          {asksHeir && (
            <SelectField
              ref={heirRef}
              label={t('admin.users.heir')}
              hint={t('admin.users.heirHint')}
              value={heir}
              error={heirError ? t(errorMessageKey(heirError)) : undefined}
              onChange={(e) => setHeir(e.target.value)}
              options={[
                { value: '', label: t('admin.users.heirNone') },
                ...candidates.map((u) => ({ value: u.id, label: `${u.displayName}（${u.loginId}）` })),
              ]}
              data-testid="heir-select"
              data-state={heirError ?? undefined}
            />
          )}
          <div className="flex flex-wrap gap-4">
            <Button variant="solid-fill" size="md" busy={busy} onClick={() => void confirm()}>
              {t(`admin.users.action.${confirming.action}`)}
            </Button>
            <Button variant="outline" size="md" onClick={onCancel}>
              {t('form.cancel')}
            </Button>
          </div>
        </>
      )}
    </Dialog>
  );
}

function OutcomeBanner({ outcome }: { outcome: Outcome }) {
  const { t } = useTranslation();
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => ref.current?.focus(), []);
  if (outcome.kind === 'error')
    return <ErrorBanner title={t('admin.users.errorTitle')} code={outcome.code} data-testid="admin-error" />;
  return (
    <div ref={ref} tabIndex={-1} className="focus:outline-none">
      <SuccessBanner title={outcome.message} data-testid="admin-success">
        {outcome.pending && <p data-testid="awaiting-approval">{t('admin.users.awaitingApproval')}</p>}
        {outcome.heir && <p data-testid="heir-done">{t('admin.users.heirDone', { name: outcome.heir })}</p>}
        {outcome.setupUrl && <SetupUrlBox url={outcome.setupUrl} />}
      </SuccessBanner>
    </div>
  );
}

/** The one-time setup link, read-only, with a copy button; the admin hands it over out of band. */
function SetupUrlBox({ url }: { url: string }) {
  const { t } = useTranslation();
  const id = useId();
  const [copied, setCopied] = useState<'ok' | 'failed' | null>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  async function copy() {
    try {
      await navigator.clipboard.writeText(url);
      setCopied('ok');
    } catch {
      inputRef.current?.select();
      setCopied('failed');
    }
  }
  return (
    <div className="mt-4 flex flex-col gap-2">
      <Label htmlFor={id}>{t('admin.users.setupUrlLabel')}</Label>
      <SupportText id={`${id}-hint`}>{t('admin.users.setupUrlHint')}</SupportText>
      <div className="flex flex-wrap gap-2">
        <input
          ref={inputRef}
          id={id}
          readOnly
          value={url}
          aria-describedby={`${id}-hint`}
          onFocus={(e) => e.target.select()}
          className={`${inputClass} min-w-0 flex-1 basis-80 font-mono text-dns-14N-130`}
          data-testid="setup-url"
        />
        <Button variant="outline" size="lg" onClick={() => void copy()}>
          {t('form.copy')}
        </Button>
      </div>
      <p role="status" className="text-std-16N-170">
        {copied === 'ok' ? t('form.copied') : copied === 'failed' ? t('form.copyFailed') : ''}
      </p>
    </div>
  );
}

function InviteForm({
  run,
  onCreated,
  onError,
}: {
  run: <T>(action: () => Promise<T>) => Promise<T>;
  onCreated: (user: AdminUser, setupUrl: string | undefined) => void;
  onError: (code: string) => void;
}) {
  const { t } = useTranslation();
  const [loginId, setLoginId] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('staff');
  const [errors, setErrors] = useState<{ loginId?: string; displayName?: string; email?: string }>({});
  const [busy, setBusy] = useState(false);
  const refs = {
    loginId: useRef<HTMLInputElement>(null),
    displayName: useRef<HTMLInputElement>(null),
    email: useRef<HTMLInputElement>(null),
  };

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    const id = loginId.normalize('NFKC').trim().toLowerCase();
    const found = {
      loginId: !id
        ? t('form.fieldRequired', { field: t('admin.users.loginId') })
        : !/^[a-z0-9][a-z0-9._@-]{0,127}$/.test(id)
          ? t('admin.users.loginIdHint')
          : undefined,
      displayName: displayName.trim() ? undefined : t('form.fieldRequired', { field: t('admin.users.displayName') }),
      email: email.trim() && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email.trim()) ? t('errors.request.invalid') : undefined,
    };
    setErrors(found);
    const first = (['loginId', 'displayName', 'email'] as const).find((k) => found[k]);
    if (first) {
      refs[first].current?.focus();
      return;
    }
    setBusy(true);
    try {
      const result = await run(() =>
        createUser({ loginId: id, displayName: displayName.trim(), role, ...(email.trim() ? { email: email.trim() } : {}) }),
      );
      setLoginId('');
      setDisplayName('');
      setEmail('');
      setRole('staff');
      onCreated(result.user, result.setupUrl);
    } catch (err) {
      if (err instanceof StepUpCancelled) return;
      if (err instanceof ApiError && err.code === 'request.invalid' && err.fields.includes('body.email')) {
        setErrors({ email: t('errors.request.invalid') });
        refs.email.current?.focus();
        return;
      }
      onError(errorCode(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="invite" className="flex flex-col gap-6">
      <SectionHeading id="invite">{t('admin.users.inviteTitle')}</SectionHeading>
      <form noValidate onSubmit={(e) => void submit(e)} className="flex max-w-2xl flex-col gap-6" data-testid="invite-form">
        <TextField
          label={t('admin.users.loginId')}
          hint={t('admin.users.loginIdHint')}
          required
          value={loginId}
          onChange={(e) => setLoginId(e.target.value)}
          error={errors.loginId}
          inputRef={refs.loginId}
          autoComplete="off"
          autoCapitalize="off"
          spellCheck={false}
          maxLength={128}
        />
        <TextField
          label={t('admin.users.displayName')}
          required
          value={displayName}
          onChange={(e) => setDisplayName(e.target.value)}
          error={errors.displayName}
          inputRef={refs.displayName}
          autoComplete="off"
          maxLength={100}
        />
        <TextField
          label={
            <>
              {t('admin.users.email')}
              <span className="text-oln-16N-100 text-solid-gray-700">{t('form.optional')}</span>
            </>
          }
          type="email"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={errors.email}
          inputRef={refs.email}
          autoComplete="off"
          maxLength={254}
        />
        <SelectField
          label={t('admin.users.role')}
          required
          value={role}
          onChange={(e) => setRole(e.target.value as Role)}
          options={ROLES.map((r) => ({ value: r, label: t(`roles.${r}`) }))}
        />
        <div>
          <Button type="submit" variant="solid-fill" size="lg" busy={busy}>
            {t('admin.users.submit')}
          </Button>
        </div>
      </form>
    </section>
  );
}

function StateBadges({ user }: { user: AdminUser }) {
  const { t } = useTranslation();
  const tone = { requested: 'warning', active: 'success', suspended: 'neutral', deleted: 'neutral' } as const;
  return (
    <span className="flex flex-wrap gap-2">
      <Badge tone={tone[user.state]} data-testid="state-badge">
        {t(`admin.users.state.${user.state}`)}
      </Badge>
      {user.locked && user.state !== 'deleted' && (
        <Badge tone="error" data-testid="locked-badge">
          {t('admin.users.locked')}
        </Badge>
      )}
      {!user.mfaEnrolled && user.state === 'active' && (
        <Badge tone="warning" data-testid="no-mfa-badge">
          {t('admin.users.noMfa')}
        </Badge>
      )}
    </span>
  );
}

function UsersTable({
  users,
  busy,
  onAction,
}: {
  users: AdminUser[];
  busy: boolean;
  /** Absent for auditors, who read only: no actions column. */
  onAction?: ((user: AdminUser, action: UserAction) => void) | undefined;
}) {
  const { t } = useTranslation();
  const language = currentLanguage();
  const [expanded, setExpanded] = useState<string | null>(null);
  if (users.length === 0) return <p className="text-std-16N-170">{t('admin.users.empty')}</p>;
  const th = 'px-4 py-3 text-start align-top';
  const td = 'px-4 py-3 align-top';
  const sorted = [...users].sort(
    (a, b) => Number(a.state === 'deleted') - Number(b.state === 'deleted') || a.loginId.localeCompare(b.loginId),
  );

  return (
    <div className="overflow-x-auto">
      <table className="w-full text-std-16N-170" data-testid="users-table">
        <caption className="sr-only">{t('admin.users.tableCaption')}</caption>
        <thead>
          <tr className="border-b border-black bg-solid-gray-100">
            <th scope="col" className={th}>
              {t('admin.users.colLoginId')}
            </th>
            <th scope="col" className={th}>
              {t('admin.users.colName')}
            </th>
            <th scope="col" className={th}>
              {t('admin.users.colRole')}
            </th>
            <th scope="col" className={th}>
              {t('admin.users.colState')}
            </th>
            <th scope="col" className={th}>
              {t('admin.users.colLastLogin')}
            </th>
            {onAction && (
              <th scope="col" className={th}>
                {t('admin.users.colActions')}
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {sorted.map((user) => {
            const actions = onAction ? actionsFor(user) : [];
            const open = expanded === user.id;
            const panelId = `user-actions-${user.id}`;
            return (
              <Fragment key={user.id}>
                <tr
                  className={`${open ? '' : 'border-b'} border-solid-gray-420`}
                  data-testid="user-row"
                  data-login-id={user.loginId}
                  data-state={user.state}
                >
                  <th scope="row" className={`${th} font-mono font-normal break-all`}>
                    {user.loginId}
                  </th>
                  <td className={td}>{user.displayName}</td>
                  <td className={td}>{t(`roles.${user.role}`)}</td>
                  <td className={td}>
                    <StateBadges user={user} />
                  </td>
                  <td className={td}>
                    {user.lastLoginAt ? (
                      <time dateTime={user.lastLoginAt}>{formatDateTime(new Date(user.lastLoginAt), language)}</time>
                    ) : (
                      t('admin.users.never')
                    )}
                  </td>
                  {onAction && (
                    <td className={td}>
                      {actions.length > 0 && (
                        <button
                          type="button"
                          aria-expanded={open}
                          aria-controls={panelId}
                          onClick={() => setExpanded(open ? null : user.id)}
                          className="inline-flex min-h-11 items-center gap-1 rounded-8 border border-current bg-white px-3 text-oln-16B-100 text-blue-900 hover:bg-blue-200 hover:underline focus-visible:outline-4 focus-visible:outline-black focus-visible:outline-offset-[calc(2/16*1rem)] focus-visible:ring-[calc(2/16*1rem)] focus-visible:ring-yellow-300"
                          data-testid="actions-toggle"
                        >
                          {t('admin.users.actionsToggle')}
                          <span className="sr-only">（{user.loginId}）</span>
                          <svg aria-hidden="true" viewBox="0 0 16 16" className={`size-4 ${open ? 'rotate-180' : ''}`}>
                            <path d="M8 11.5 2.5 6l1-1L8 9.5 12.5 5l1 1z" fill="currentColor" />
                          </svg>
                        </button>
                      )}
                    </td>
                  )}
                </tr>
                {open && onAction && (
                  <tr
                    className="border-b border-solid-gray-420 bg-solid-gray-50"
                    data-testid="user-actions"
                    data-login-id={user.loginId}
                  >
                    <td colSpan={6} className="px-4 py-4">
                      <div
                        id={panelId}
                        role="group"
                        aria-label={t('admin.users.actionsFor', { name: user.displayName })}
                        className="flex flex-wrap gap-3"
                      >
                        {actions.map((action) => (
                          <Button
                            key={action}
                            variant="outline"
                            size="md"
                            busy={busy}
                            onClick={() => onAction(user, action)}
                            data-action={action}
                          >
                            {t(`admin.users.action.${action}`)}
                          </Button>
                        ))}
                      </div>
                    </td>
                  </tr>
                )}
              </Fragment>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
