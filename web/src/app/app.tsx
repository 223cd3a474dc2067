/**
 * Path → page. The server answers every HTML GET with this SPA. Public pages: /status, /login,
 * /setup. Everything else needs a full session (loaded from /me on first use); admin pages also
 * need the tenant_admin role (the server enforces it again on every call). Files: /files (the
 * top-level folders), /folders/:id, /files/:id (one file), /trash. /admin/quarantine (隔離・保留
 * ファイル) is for admins and auditors, and for approvers as their list of requests to decide.
 * Auditors also read /admin/users, /admin/support-access and /admin/access-reviews, and export the
 * authentication policy from /admin/policy; those pages hide every change for them.
 * File exchange (docs/exchange.md): /exchange/inbox, /exchange/sent, /exchange/requests,
 * /exchange/send?files=…, /exchange/approvals (approvers and admins), /admin/approvers. The pages
 * outside parties open from a link, /x/r/<token> and /x/s/<token>, need no session and get their
 * own frame without the staff menu; they never ask /me, so nothing sends them to /login.
 */
import { useEffect, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { AccessReviewsPage } from '../features/admin/access-reviews-page';
import { AdminTokensPage } from '../features/admin/admin-tokens-page';
import { MailOutboxPage } from '../features/admin/mail-outbox-page';
import { FolderOwnersPage } from '../features/admin/folder-owners-page';
import { GroupsPage } from '../features/admin/groups-page';
import { KeysPage } from '../features/admin/keys-page';
import { AuditLogPage } from '../features/admin/audit-log-page';
import { SupportAccessPage } from '../features/admin/support-access-page';
import { OperatorSupportPage } from '../features/admin/operator-support-page';
import { FileBrowserPage } from '../features/files/file-browser-page';
import { FileDetailPage } from '../features/files/file-detail-page';
import { TrashPage } from '../features/files/trash-page';
import { ApprovalsPage } from '../features/exchange/approvals-page';
import { ApproversPage } from '../features/exchange/approvers-page';
import { ExternalFrame, InvalidLink } from '../features/exchange/external-frame';
import { ExternalRequestPage } from '../features/exchange/external-request-page';
import { ExternalSharePage } from '../features/exchange/external-share-page';
import { InboxPage } from '../features/exchange/inbox-page';
import { RequestsPage } from '../features/exchange/requests-page';
import { SendPage } from '../features/exchange/send-page';
import { SentPage } from '../features/exchange/sent-page';
import { UploadsProvider } from '../features/files/uploads';
import { AccountPage } from '../features/identity/account-page';
import { AdminUsersPage } from '../features/identity/admin-users-page';
import { HomePage } from '../features/identity/home-page';
import type { Role } from '../features/identity/identity.api';
import { LoginPage } from '../features/identity/login-page';
import { SessionProvider, useSession } from '../features/identity/session';
import { SetupPage } from '../features/identity/setup-page';
import { StatusPage } from '../features/status/status-page';
import { QuarantinePage } from '../features/malware/quarantine-page';
import { PolicyPage } from '../features/tenants/policy-page';
import { Button } from '../ui/button';
import { linkClass } from '../ui/link';
import { ErrorBanner } from '../ui/messages';
import { AppFrame } from './app-frame';
import { NotFoundPage } from './not-found-page';
import { navigate, routeLink, usePath } from './router';
import { useDocumentTitle } from './use-document-title';

/** Tenant roles that work with files (everyone but the provider's operators). */
const FILE_ROLES: Role[] = ['tenant_admin', 'auditor', 'approver', 'staff', 'guest'];
/** Roles of the exchange pages (src/exchange/exchange.routes.ts): auditors read, guests have none. */
const EXCHANGE_READ_ROLES: Role[] = ['tenant_admin', 'auditor', 'approver', 'staff'];
const EXCHANGE_WRITE_ROLES: Role[] = ['tenant_admin', 'approver', 'staff'];
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const FOLDER_PATH = new RegExp(`^/folders/(${UUID})$`, 'i');
const FILE_PATH = new RegExp(`^/files/(${UUID})$`, 'i');
/** Pages for outside parties: a request link (r) or a share link (s); the token is base64url. */
const EXTERNAL_PATH = /^\/x\/(r|s)\/([A-Za-z0-9_-]{16,128})$/;

/** The page of an outside party's link, in its own frame (no session, no staff menu). */
function externalPageFor(path: string): ReactNode {
  const match = EXTERNAL_PATH.exec(path);
  if (match?.[1] === 'r') return <ExternalRequestPage key={match[2]} token={match[2]!} />;
  if (match?.[1] === 's') return <ExternalSharePage key={match[2]} token={match[2]!} />;
  return (
    <ExternalFrame>
      <InvalidLink />
    </ExternalFrame>
  );
}

function pageFor(path: string): ReactNode {
  const folder = FOLDER_PATH.exec(path);
  if (folder) {
    return (
      <RequireSession role={FILE_ROLES}>
        <FileBrowserPage key={folder[1]} folderId={folder[1]!} />
      </RequireSession>
    );
  }
  const file = FILE_PATH.exec(path);
  if (file) {
    return (
      <RequireSession role={FILE_ROLES}>
        <FileDetailPage key={file[1]} fileId={file[1]!} />
      </RequireSession>
    );
  }
  switch (path) {
    case '/status':
      return <StatusPage />;
    case '/login':
      return <LoginPage />;
    case '/setup':
      return <SetupPage />;
    case '/':
    case '/index.html':
      return (
        <RequireSession>
          <HomePage />
        </RequireSession>
      );
    case '/files':
      return (
        <RequireSession role={FILE_ROLES}>
          <FileBrowserPage folderId={null} />
        </RequireSession>
      );
    case '/trash':
      return (
        <RequireSession role={FILE_ROLES}>
          <TrashPage />
        </RequireSession>
      );
    case '/exchange/inbox':
      return (
        <RequireSession role={EXCHANGE_READ_ROLES}>
          <InboxPage />
        </RequireSession>
      );
    case '/exchange/sent':
      return (
        <RequireSession role={EXCHANGE_READ_ROLES}>
          <SentPage />
        </RequireSession>
      );
    case '/exchange/requests':
      return (
        <RequireSession role={EXCHANGE_READ_ROLES}>
          <RequestsPage />
        </RequireSession>
      );
    case '/exchange/send':
      return (
        <RequireSession role={EXCHANGE_WRITE_ROLES}>
          <SendPage key={window.location.search} />
        </RequireSession>
      );
    case '/exchange/approvals':
      return (
        <RequireSession role={['tenant_admin', 'approver']}>
          <ApprovalsPage />
        </RequireSession>
      );
    case '/admin/approvers':
      return (
        <RequireSession role="tenant_admin">
          <ApproversPage />
        </RequireSession>
      );
    case '/admin/groups':
      return (
        <RequireSession role="tenant_admin">
          <GroupsPage />
        </RequireSession>
      );
    case '/admin/folders':
      return (
        <RequireSession role="tenant_admin">
          <FolderOwnersPage />
        </RequireSession>
      );
    case '/admin/audit':
      return (
        <RequireSession role={['tenant_admin', 'auditor']}>
          <AuditLogPage />
        </RequireSession>
      );
    case '/admin/keys':
      return (
        <RequireSession role="tenant_admin">
          <KeysPage />
        </RequireSession>
      );
    case '/account':
      return (
        <RequireSession>
          <AccountPage />
        </RequireSession>
      );
    case '/admin/users':
      return (
        <RequireSession role={['tenant_admin', 'auditor']}>
          <AdminUsersPage />
        </RequireSession>
      );
    case '/admin/policy':
      return (
        <RequireSession role={['tenant_admin', 'auditor']}>
          <PolicyPage />
        </RequireSession>
      );
    case '/admin/mail':
      return (
        <RequireSession role="tenant_admin">
          <MailOutboxPage />
        </RequireSession>
      );
    case '/admin/tokens':
      return (
        <RequireSession role="tenant_admin">
          <AdminTokensPage />
        </RequireSession>
      );
    case '/admin/access-reviews':
      return (
        <RequireSession role={['tenant_admin', 'auditor']}>
          <AccessReviewsPage />
        </RequireSession>
      );
    case '/admin/quarantine':
      return (
        <RequireSession role={['tenant_admin', 'auditor', 'approver']}>
          <QuarantinePage />
        </RequireSession>
      );
    case '/operator/support':
      return (
        <RequireSession role="operator">
          <OperatorSupportPage />
        </RequireSession>
      );
    case '/admin/support-access':
      return (
        <RequireSession role={['tenant_admin', 'auditor']}>
          <SupportAccessPage />
        </RequireSession>
      );
    default:
      return <NotFoundPage />;
  }
}

/** Renders its page once /me says who is signed in; otherwise sends the browser to /login. */
function RequireSession({ children, role }: { children: ReactNode; role?: Role | Role[] }) {
  const { t } = useTranslation();
  const { state, ensureLoaded, refresh } = useSession();
  useEffect(() => {
    ensureLoaded();
    if (state.status === 'signed-out') navigate('/login', { replace: true });
  }, [state, ensureLoaded]);

  if (state.status === 'signed-in') {
    const allowed = role === undefined || (Array.isArray(role) ? role : [role]).includes(state.me.user.role);
    if (!allowed) return <Forbidden />;
    return children;
  }
  if (state.status === 'error') {
    return (
      <div className="flex flex-col gap-6">
        <ErrorBanner title={t('app.loadErrorTitle')} code={state.code} focus={false} data-testid="session-error" />
        <div>
          <Button variant="outline" size="md" onClick={() => void refresh()}>
            {t('app.retry')}
          </Button>
        </div>
      </div>
    );
  }
  return (
    <p className="text-std-16N-170" role="status">
      {t('app.loading')}
    </p>
  );
}

function Forbidden() {
  const { t } = useTranslation();
  useDocumentTitle(t('app.forbidden.title'));
  return (
    <div className="flex flex-col gap-4">
      <h1 className="text-std-32B-150 text-solid-gray-900">{t('app.forbidden.title')}</h1>
      <p className="text-std-16N-170">{t('app.forbidden.body')}</p>
      <p className="text-std-16N-170">
        <a className={linkClass} {...routeLink('/')}>
          {t('app.forbidden.backToHome')}
        </a>
      </p>
    </div>
  );
}

function Routes() {
  const path = usePath();
  if (path.startsWith('/x/')) return externalPageFor(path);
  return <AppFrame>{pageFor(path)}</AppFrame>;
}

export function App() {
  return (
    <SessionProvider>
      <UploadsProvider>
        <Routes />
      </UploadsProvider>
    </SessionProvider>
  );
}
