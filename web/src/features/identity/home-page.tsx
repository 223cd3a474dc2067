/**
 * The signed-in home: greeting, the previous sign-in (time in Japan time, IP address, zone) and the
 * failed attempts since then (AC-12), so a user notices someone else's activity; a password expiry
 * warning; the tenant's login banner; and the notices about the user's files and requests (お知らせ).
 */
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { getJson } from '../../api/api-client';
import { routeLink } from '../../app/router';
import { useDocumentTitle } from '../../app/use-document-title';
import { formatDateTime } from '../../i18n/format';
import { currentLanguage } from '../../i18n/i18n';
import { linkClass } from '../../ui/link';
import { NotificationBanner } from '../../ui/notification-banner';
import { PageHeading, SectionHeading } from '../../ui/page-heading';
import { NoticesSection } from '../notifications/notices-section';
import { useMe } from './session';

export function HomePage() {
  const { t } = useTranslation();
  const me = useMe();
  const language = currentLanguage();
  useDocumentTitle(t('app.nav.home'));
  const last = me.lastLogin;
  const zoneName = (zone: string | null) =>
    zone === 'lgwan' || zone === 'internet' ? t(`status.zone.${zone}`) : (zone ?? t('home.unknown'));

  return (
    <div className="flex flex-col gap-8">
      <div className="flex flex-col gap-2">
        <PageHeading>{t('home.greeting', { name: me.user.displayName })}</PageHeading>
        <p className="text-std-16N-170 text-solid-gray-700">
          {t('home.tenantRole', { tenant: me.tenant.displayName, role: t(`roles.${me.user.role}`) })}
        </p>
      </div>

      {me.loginBanner && (
        <NotificationBanner tone="warning" iconLabel={t('icon.warning')} title={t('home.bannerTitle')} data-testid="login-banner">
          <p className="whitespace-pre-line">{me.loginBanner}</p>
        </NotificationBanner>
      )}

      {me.passwordExpiryWarning && me.passwordExpiresAt && (
        <NotificationBanner
          tone="warning"
          iconLabel={t('icon.warning')}
          title={t('home.passwordExpiryTitle')}
          data-testid="password-expiry"
        >
          <p>
            {t('home.passwordExpiryBody', { date: formatDateTime(new Date(me.passwordExpiresAt), language) })}{' '}
            <a className={linkClass} {...routeLink('/account')}>
              {t('app.nav.account')}
            </a>
          </p>
        </NotificationBanner>
      )}

      {me.mfaResetSinceLastLogin && (
        <NotificationBanner tone="warning" iconLabel={t('icon.warning')} title={t('home.mfaResetTitle')} data-testid="mfa-reset">
          <p>{t('home.mfaResetBody')}</p>
        </NotificationBanner>
      )}

      {me.failuresSinceLastLogin > 0 && (
        <NotificationBanner
          tone="error"
          iconLabel={t('icon.error')}
          title={t('home.failuresTitle', { count: me.failuresSinceLastLogin })}
          data-testid="login-failures"
        >
          <p>{t('home.failures', { count: me.failuresSinceLastLogin })}</p>
          <p>{t('home.failuresAdvice')}</p>
        </NotificationBanner>
      )}

      {(me.user.role === 'tenant_admin' || me.user.role === 'auditor') && <OverdueReviews />}

      {me.user.role !== 'operator' && <NoticesSection />}

      <section aria-labelledby="last-login" className="flex flex-col gap-4" data-testid="last-login">
        <SectionHeading id="last-login">{t('home.lastLoginTitle')}</SectionHeading>
        {last ? (
          <dl className="grid grid-cols-1 gap-x-6 gap-y-1 text-std-16N-170 sm:grid-cols-[max-content_1fr] sm:gap-y-3">
            <dt className="font-bold text-solid-gray-900">{t('home.lastLoginAt')}</dt>
            <dd className="mb-3 sm:mb-0">
              <time dateTime={last.at} data-testid="last-login-at">
                {t('form.dateTime', { time: formatDateTime(new Date(last.at), language) })}
              </time>
            </dd>
            <dt className="font-bold text-solid-gray-900">{t('home.lastLoginIp')}</dt>
            <dd className="mb-3 sm:mb-0" data-testid="last-login-ip">
              {last.ip ?? t('home.unknown')}
            </dd>
            <dt className="font-bold text-solid-gray-900">{t('home.lastLoginZone')}</dt>
            <dd data-testid="last-login-zone">{zoneName(last.zone)}</dd>
          </dl>
        ) : (
          <p className="text-std-16N-170">{t('home.firstLogin')}</p>
        )}
        {me.failuresSinceLastLogin === 0 && (
          <p className="text-std-16N-170" data-testid="login-failures-none">
            {t('home.failuresNone')}
          </p>
        )}
      </section>

      <nav aria-labelledby="home-shortcuts" className="flex flex-col gap-3">
        <SectionHeading id="home-shortcuts">{t('home.shortcutsTitle')}</SectionHeading>
        <ul className="flex flex-col gap-2 text-std-16N-170">
          <li>
            <a className={linkClass} {...routeLink('/account')}>
              {t('app.nav.account')}
            </a>
          </li>
          {(me.user.role === 'tenant_admin' || me.user.role === 'auditor') && (
            <li>
              <a className={linkClass} {...routeLink('/admin/quarantine')}>
                {t('app.nav.adminQuarantine')}
              </a>
            </li>
          )}
          {me.user.role === 'approver' && (
            <li>
              <a className={linkClass} {...routeLink('/admin/quarantine')}>
                {t('app.nav.approverRequests')}
              </a>
            </li>
          )}
          {me.user.role === 'tenant_admin' && (
            <>
              <li>
                <a className={linkClass} {...routeLink('/admin/users')}>
                  {t('app.nav.adminUsers')}
                </a>
              </li>
              <li>
                <a className={linkClass} {...routeLink('/admin/policy')}>
                  {t('app.nav.adminPolicy')}
                </a>
              </li>
            </>
          )}
        </ul>
      </nav>
    </div>
  );
}

/** Overdue audit-log reviews (LOG-05), for those who do them: a link to the 監査ログ page. */
function OverdueReviews() {
  const { t } = useTranslation();
  const [overdue, setOverdue] = useState(0);
  useEffect(() => {
    getJson('/api/v1/audit/reviews').then(
      (r) => setOverdue((r as { items: Array<{ overdue: boolean }> }).items.filter((i) => i.overdue).length),
      () => setOverdue(0),
    );
  }, []);
  if (overdue === 0) return null;
  return (
    <NotificationBanner
      tone="error"
      iconLabel={t('icon.error')}
      title={t('home.reviewsOverdue', { count: overdue })}
      data-testid="reviews-overdue-home"
    >
      <p>
        <a {...routeLink('/admin/audit')} className={linkClass}>
          {t('home.reviewsLink')}
        </a>
      </p>
    </NotificationBanner>
  );
}
