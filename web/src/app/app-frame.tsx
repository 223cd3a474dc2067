/**
 * Page frame shared by every page: skip link, header (service name, signed-in user and sign-out,
 * language), the main menu when signed in (admin pages only for tenant admins; 利用者の管理, セキュリティ設定
 * (its export only), 棚卸し, 隔離・保留ファイル and 保守アクセス for auditors too, read-only; the requests to decide for approvers; ファイル交換 — 受信箱, 送信済み,
 * 受け取り依頼 — for the roles that use files but guests, and 承認待ち（外部送信） for approvers and admins), main,
 * footer.
 */
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useSession } from '../features/identity/session';
import { linkClass } from '../ui/link';
import { KuraMark } from './kura-mark';
import { LanguageSwitch } from './language-switch';
import { navigate, routeLink, usePath } from './router';

export const MAIN_ID = 'main';

export function AppFrame({ children }: { children: ReactNode }) {
  const { t } = useTranslation();
  const { state } = useSession();
  const me = state.status === 'signed-in' ? state.me : null;
  return (
    <div className="flex min-h-screen flex-col">
      <a
        href={`#${MAIN_ID}`}
        className="sr-only bg-yellow-300 px-4 py-3 text-std-16B-170 text-black underline focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus-visible:outline-4 focus-visible:outline-black"
      >
        {t('app.skipToMain')}
      </a>
      <header className="border-b border-solid-gray-420 bg-white">
        <div className="mx-auto flex max-w-5xl flex-wrap items-center justify-between gap-x-6 gap-y-3 px-4 py-3 sm:px-6">
          <a
            {...routeLink('/')}
            className="flex items-center gap-3 rounded-4 text-solid-gray-900 no-underline focus-visible:bg-yellow-300 focus-visible:outline-4 focus-visible:outline-black focus-visible:outline-offset-[calc(2/16*1rem)]"
          >
            <KuraMark className="size-10 shrink-0 text-blue-900" />
            <span className="flex flex-col">
              <span className="text-std-20B-150">{t('app.serviceName')}</span>
              <span className="text-dns-14N-130 text-solid-gray-700">{t('app.serviceTagline')}</span>
            </span>
          </a>
          <div className="flex flex-wrap items-center gap-x-6 gap-y-3">
            {me && <SignedInUser name={me.user.displayName} tenant={me.tenant.displayName} />}
            <LanguageSwitch />
          </div>
        </div>
        {me && <MainNav role={me.user.role} />}
      </header>
      <main id={MAIN_ID} tabIndex={-1} className="mx-auto w-full max-w-5xl flex-1 px-4 py-8 focus:outline-none sm:px-6 sm:py-12">
        {children}
      </main>
      <footer className="border-t border-solid-gray-420 bg-solid-gray-50">
        <div className="mx-auto flex max-w-5xl flex-col gap-2 px-4 py-6 text-dns-14N-130 text-solid-gray-800 sm:px-6">
          <p className="text-dns-16B-130 text-solid-gray-900">{t('app.serviceName')}</p>
          <p>{t('app.footerNote')}</p>
          <p>
            <a href="/status" className={linkClass}>
              {t('status.title')}
            </a>
          </p>
        </div>
      </footer>
    </div>
  );
}

function SignedInUser({ name, tenant }: { name: string; tenant: string }) {
  const { t } = useTranslation();
  const { signOut } = useSession();
  const [busy, setBusy] = useState(false);
  const [failed, setFailed] = useState(0);
  async function onSignOut() {
    if (busy) return;
    setBusy(true);
    try {
      await signOut();
      navigate('/login', { replace: true });
    } catch {
      // The server still holds the session: say so instead of showing a sign-in page over it.
      setFailed((n) => n + 1);
    } finally {
      setBusy(false);
    }
  }
  return (
    <div className="flex items-center gap-4" data-testid="signed-in-user">
      <p className="flex flex-col text-right">
        <span className="sr-only">{t('app.header.account')}：</span>
        <span className="text-dns-16B-130 text-solid-gray-900" data-testid="signed-in-name">
          {t('app.header.signedInAs', { name })}
        </span>
        <span className="text-dns-14N-130 text-solid-gray-700">{tenant}</span>
      </p>
      <button
        type="button"
        onClick={() => void onSignOut()}
        aria-disabled={busy || undefined}
        className="min-h-11 rounded-8 border border-current bg-white px-4 text-oln-16B-100 text-blue-900 underline-offset-[calc(3/16*1rem)] hover:bg-blue-200 hover:text-blue-1000 hover:underline focus-visible:outline-4 focus-visible:outline-black focus-visible:outline-offset-[calc(2/16*1rem)] focus-visible:ring-[calc(2/16*1rem)] focus-visible:ring-yellow-300"
      >
        {t('app.header.signOut')}
      </button>
      {failed > 0 && (
        <p key={failed} role="alert" className="text-dns-14N-130 text-error-1" data-testid="sign-out-failed">
          {t('app.header.signOutFailed')}
        </p>
      )}
    </div>
  );
}

function MainNav({ role }: { role: string }) {
  const { t } = useTranslation();
  const path = usePath();
  const files =
    role === 'operator'
      ? []
      : [
          { path: '/files', label: t('app.nav.files'), also: /^\/(folders|files)\// },
          { path: '/trash', label: t('app.nav.trash') },
          ...(role === 'guest'
            ? []
            : [
                { path: '/exchange/inbox', label: t('app.nav.exchangeInbox') },
                { path: '/exchange/sent', label: t('app.nav.exchangeSent'), also: /^\/exchange\/send$/ },
                { path: '/exchange/requests', label: t('app.nav.exchangeRequests') },
              ]),
          ...(role === 'approver' || role === 'tenant_admin'
            ? [{ path: '/exchange/approvals', label: t('app.nav.exchangeApprovals') }]
            : []),
        ];
  const items: Array<{ path: string; label: string; also?: RegExp }> = [
    { path: '/', label: t('app.nav.home') },
    ...files,
    { path: '/account', label: t('app.nav.account') },
    ...(role === 'tenant_admin'
      ? [
          { path: '/admin/users', label: t('app.nav.adminUsers') },
          { path: '/admin/groups', label: t('app.nav.adminGroups') },
          { path: '/admin/approvers', label: t('app.nav.adminApprovers') },
          { path: '/admin/folders', label: t('app.nav.adminFolders') },
          { path: '/admin/policy', label: t('app.nav.adminPolicy') },
          { path: '/admin/keys', label: t('app.nav.adminKeys') },
          { path: '/admin/audit', label: t('app.nav.adminAudit') },
          { path: '/admin/tokens', label: t('app.nav.adminTokens') },
          { path: '/admin/mail', label: t('app.nav.adminMail') },
          { path: '/admin/access-reviews', label: t('app.nav.adminReviews') },
          { path: '/admin/quarantine', label: t('app.nav.adminQuarantine') },
          { path: '/admin/support-access', label: t('app.nav.adminSupport') },
        ]
      : role === 'auditor'
        ? [
            { path: '/admin/users', label: t('app.nav.adminUsers') },
            { path: '/admin/policy', label: t('app.nav.adminPolicy') },
            { path: '/admin/audit', label: t('app.nav.adminAudit') },
            { path: '/admin/access-reviews', label: t('app.nav.adminReviews') },
            { path: '/admin/quarantine', label: t('app.nav.adminQuarantine') },
            { path: '/admin/support-access', label: t('app.nav.adminSupport') },
          ]
        : role === 'approver'
          ? [{ path: '/admin/quarantine', label: t('app.nav.approverRequests') }]
          : role === 'operator'
            ? [{ path: '/operator/support', label: t('app.nav.operatorSupport') }]
            : []),
  ];
  return (
    <nav aria-label={t('app.nav.label')} className="border-t border-solid-gray-200 bg-white">
      <ul className="mx-auto flex max-w-5xl flex-wrap gap-x-2 px-2 sm:px-4">
        {items.map((item) => {
          const exact = path === item.path;
          const current = exact || (item.also?.test(path) ?? false);
          return (
            <li key={item.path}>
              <a
                {...routeLink(item.path)}
                aria-current={exact ? 'page' : current ? 'true' : undefined}
                className={`flex min-h-12 items-center border-b-4 px-3 text-oln-16N-100 underline-offset-[calc(3/16*1rem)] hover:underline focus-visible:bg-yellow-300 focus-visible:outline-4 focus-visible:outline-black focus-visible:-outline-offset-4 ${
                  current ? 'border-blue-900 font-bold text-blue-1000' : 'border-transparent text-solid-gray-800'
                }`}
              >
                {item.label}
              </a>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
