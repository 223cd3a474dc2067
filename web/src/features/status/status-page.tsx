/**
 * The public status page (SC-03, MON-03), served on both zones (LG-01): overall state as a
 * notification banner, one table row per zone, when it was checked and which zone this browser
 * came through.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../../api/api-client';
import { errorMessageKey } from '../../i18n/error-message';
import { formatDateTime } from '../../i18n/format';
import { currentLanguage } from '../../i18n/i18n';
import { useDocumentTitle } from '../../app/use-document-title';
import { Button } from '../../ui/button';
import { NotificationBanner } from '../../ui/notification-banner';
import { StatusIcon, type StatusTone } from '../../ui/status-icon';
import { fetchStatus, ZONES, type ServiceStatus, type ZoneState } from './status.api';

type LoadState = { phase: 'loading' } | { phase: 'ready'; status: ServiceStatus } | { phase: 'error'; code: string };

const TONE: Record<ZoneState, StatusTone> = { operational: 'success', degraded: 'warning', down: 'error' };

const STATE_TEXT_CLASS: Record<StatusTone, string> = {
  success: 'text-success-2',
  warning: 'text-warning-yellow-2',
  error: 'text-error-1',
};

function useServiceStatus() {
  const [state, setState] = useState<LoadState>({ phase: 'loading' });
  const [refreshing, setRefreshing] = useState(false);
  const inFlight = useRef<AbortController | null>(null);

  const load = useCallback(async () => {
    inFlight.current?.abort();
    const controller = new AbortController();
    inFlight.current = controller;
    setRefreshing(true);
    try {
      const status = await fetchStatus(controller.signal);
      setState({ phase: 'ready', status });
    } catch (err) {
      if (controller.signal.aborted) return;
      setState({ phase: 'error', code: err instanceof ApiError ? err.code : 'unknown' });
    } finally {
      if (inFlight.current === controller) {
        inFlight.current = null;
        setRefreshing(false);
      }
    }
  }, []);

  useEffect(() => {
    void load();
    return () => inFlight.current?.abort();
  }, [load]);

  return { state, refreshing, refresh: load };
}

export function StatusPage() {
  const { t } = useTranslation();
  const { state, refreshing, refresh } = useServiceStatus();
  useDocumentTitle(t('status.title'));

  const announcement =
    state.phase === 'loading' || refreshing
      ? t('status.loading')
      : state.phase === 'error'
        ? t('status.errorTitle')
        : t(`status.overall.${state.status.overall}`);

  return (
    <div className="flex flex-col gap-8">
      <div className="flex flex-col gap-4">
        <h1 className="text-std-32B-150 text-solid-gray-900 sm:text-std-36B-140">{t('status.title')}</h1>
        <p className="text-std-16N-170">{t('status.lead')}</p>
      </div>

      {/* One short polite announcement per change instead of re-reading the whole table. */}
      <p role="status" className="sr-only">
        {announcement}
      </p>

      {state.phase === 'loading' && (
        <p className="text-std-16N-170 text-solid-gray-800" aria-hidden="true">
          {t('status.loading')}
        </p>
      )}

      {state.phase === 'error' && (
        <NotificationBanner tone="error" iconLabel={t('icon.error')} title={t('status.errorTitle')} data-testid="status-error">
          <p>{t(errorMessageKey(state.code))}</p>
        </NotificationBanner>
      )}

      {state.phase === 'ready' && <StatusDetails status={state.status} />}

      <div>
        <Button variant="outline" size="md" busy={refreshing} onClick={() => void refresh()} data-testid="refresh">
          {refreshing ? t('status.refreshing') : t('status.refresh')}
        </Button>
      </div>
    </div>
  );
}

function StatusDetails({ status }: { status: ServiceStatus }) {
  const { t } = useTranslation();
  const overallTone = TONE[status.overall];
  // Always both zones in a fixed order, whatever order the server lists them in.
  const rows = ZONES.flatMap((zone) => status.zones.filter((z) => z.zone === zone));

  return (
    <>
      <NotificationBanner
        tone={overallTone}
        iconLabel={t(`icon.${overallTone}`)}
        title={t(`status.overall.${status.overall}`)}
        data-testid="overall-state"
        data-state={status.overall}
      >
        <p>{t(`status.overallBody.${status.overall}`)}</p>
      </NotificationBanner>

      <div className="overflow-x-auto">
        <table className="w-full text-std-16N-170">
          <caption className="mb-3 text-left text-std-20B-150 text-solid-gray-900">{t('status.table.caption')}</caption>
          <thead>
            <tr className="border-b border-black bg-solid-gray-100">
              <th scope="col" className="w-2/5 px-4 py-4 text-start align-top">
                {t('status.table.zone')}
              </th>
              <th scope="col" className="px-4 py-4 text-start align-top">
                {t('status.table.state')}
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map(({ zone, state }) => {
              const tone = TONE[state];
              return (
                <tr key={zone} className="border-b border-solid-gray-420" data-testid={`zone-row-${zone}`} data-state={state}>
                  <th scope="row" className="px-4 py-4 text-start align-top font-bold">
                    {t(`status.zone.${zone}`)}
                  </th>
                  <td className="px-4 py-4 align-top">
                    <span className="inline-flex items-center gap-2">
                      <StatusIcon tone={tone} className={`size-5 shrink-0 ${STATE_TEXT_CLASS[tone]}`} />
                      <span>{t(`status.state.${state}`)}</span>
                    </span>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>

      <dl className="grid grid-cols-1 gap-x-6 gap-y-1 text-std-16N-170 sm:grid-cols-[max-content_1fr] sm:gap-y-3">
        <dt className="font-bold text-solid-gray-900">{t('status.details.checkedAt')}</dt>
        <dd className="mb-3 sm:mb-0">
          <time dateTime={status.checkedAt.toISOString()} data-testid="checked-at">
            {t('status.checkedAtValue', { time: formatDateTime(status.checkedAt, currentLanguage()) })}
          </time>
        </dd>
        <dt className="font-bold text-solid-gray-900">{t('status.details.connectedVia')}</dt>
        <dd data-testid="connected-via" data-zone={status.via}>
          {t(`status.zone.${status.via}`)}
        </dd>
      </dl>
    </>
  );
}
