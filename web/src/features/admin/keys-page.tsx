/**
 * The tenant's key-encryption key (暗号鍵, ENC-03): its versions and how many data keys still wait to
 * be re-wrapped under the active one. Rotating starts a new version at once (new files use it) and a
 * background job re-wraps the rest; file bytes never change. Rotation asks for a confirmation and a
 * recent verification (step-up); while data keys are pending, the page checks again every few seconds.
 * A retired version can be destroyed for good once nothing waits for the re-wrap (same confirmation
 * and step-up; the server refuses while anything still needs it).
 */
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { errorCode } from '../../api/api-client';
import { useDocumentTitle } from '../../app/use-document-title';
import { Badge } from '../../ui/badge';
import { Button } from '../../ui/button';
import { ConfirmDialog, headRowClass, rowClass, tdClass, thClass } from '../../ui/confirm-dialog';
import { ErrorBanner, SuccessBanner } from '../../ui/messages';
import { PageHeading, SectionHeading } from '../../ui/page-heading';
import { When } from '../files/file-bits';
import { StepUpCancelled, useStepUp } from '../identity/step-up';
import { destroyKeyVersion, fetchKeyStatus, rotateKey, type KeyStatus } from './files-admin.api';

const PENDING_POLL_MS = 3000;
const KEY_STATES = ['active', 'retired', 'destroyed'] as const;
type KeyState = (typeof KEY_STATES)[number];
const isKeyState = (s: string): s is KeyState => (KEY_STATES as readonly string[]).includes(s);

export function KeysPage() {
  const { t } = useTranslation();
  useDocumentTitle(t('admin.keys.title'));
  const { run, dialog } = useStepUp();
  const [status, setStatus] = useState<KeyStatus | null>(null);
  const [failure, setFailure] = useState<{ code: string; n: number; action: 'load' | 'rotate' | 'destroy' } | null>(null);
  const [done, setDone] = useState<{ text: string; n: number } | null>(null);
  const [confirming, setConfirming] = useState(false);
  /** The retired version whose destruction waits for confirmation. */
  const [destroying, setDestroying] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      setStatus(await fetchKeyStatus());
    } catch (err) {
      setFailure((f) => ({ code: errorCode(err), n: (f?.n ?? 0) + 1, action: 'load' }));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  // Data keys of files, and the other secrets under the tenant key (TOTP, unfinished uploads).
  const pendingCount = (status?.pendingBlobs ?? 0) + (status?.pendingSecrets ?? 0);
  const pending = pendingCount > 0;
  useEffect(() => {
    if (!pending) return;
    const timer = setTimeout(() => void load(), PENDING_POLL_MS);
    return () => clearTimeout(timer);
  }, [pending, status, load]);

  async function rotate() {
    if (busy) return;
    setBusy(true);
    try {
      const next = await run(() => rotateKey());
      setStatus(next);
      setFailure(null);
      setDone((d) => ({ text: t('admin.keys.rotated', { version: next.activeVersion }), n: (d?.n ?? 0) + 1 }));
    } catch (err) {
      if (!(err instanceof StepUpCancelled)) setFailure((f) => ({ code: errorCode(err), n: (f?.n ?? 0) + 1, action: 'rotate' }));
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  }

  async function destroy(version: number) {
    if (busy) return;
    setBusy(true);
    try {
      setStatus(await run(() => destroyKeyVersion(version)));
      setFailure(null);
      setDone((d) => ({ text: t('admin.keys.destroyed', { version }), n: (d?.n ?? 0) + 1 }));
    } catch (err) {
      if (!(err instanceof StepUpCancelled)) setFailure((f) => ({ code: errorCode(err), n: (f?.n ?? 0) + 1, action: 'destroy' }));
    } finally {
      setBusy(false);
      setDestroying(null);
    }
  }

  return (
    <div className="flex flex-col gap-6">
      <PageHeading>{t('admin.keys.title')}</PageHeading>
      <p className="text-std-16N-170">{t('admin.keys.lead')}</p>
      {failure && (
        <ErrorBanner
          key={failure.n}
          title={t(
            failure.action === 'destroy'
              ? 'admin.keys.destroyErrorTitle'
              : failure.action === 'load'
                ? 'admin.keys.loadErrorTitle'
                : 'admin.keys.errorTitle',
          )}
          code={failure.code}
        />
      )}
      {done && <SuccessBanner key={done.n} title={done.text} data-testid="keys-done" />}
      {status === null && !failure && <p className="text-std-16N-170">{t('app.loading')}</p>}
      {status && (
        <>
          <dl
            className="grid grid-cols-1 gap-x-6 gap-y-1 text-std-16N-170 sm:grid-cols-[max-content_1fr] sm:gap-y-3"
            data-testid="keys-summary"
          >
            <dt className="font-bold text-solid-gray-900">{t('admin.keys.active')}</dt>
            <dd className="mb-3 sm:mb-0" data-testid="keys-active">
              {t('admin.keys.versionN', { n: status.activeVersion })}
            </dd>
            <dt className="font-bold text-solid-gray-900">{t('admin.keys.pending')}</dt>
            <dd data-testid="keys-pending" data-count={pendingCount}>
              {pending ? t('admin.keys.pendingValue', { count: pendingCount }) : t('admin.keys.pendingNone')}
            </dd>
          </dl>
          <div>
            <Button variant="solid-fill" size="md" busy={busy} onClick={() => setConfirming(true)} data-testid="rotate-button">
              {t('admin.keys.rotate')}
            </Button>
          </div>
          <section aria-labelledby="key-versions" className="flex flex-col gap-4">
            <SectionHeading id="key-versions">{t('admin.keys.versionsTitle')}</SectionHeading>
            <div className="overflow-x-auto">
              <table className="w-full text-std-16N-170" data-testid="keys-table">
                <caption className="sr-only">{t('admin.keys.caption')}</caption>
                <thead>
                  <tr className={headRowClass}>
                    <th scope="col" className={`${thClass} whitespace-nowrap`}>
                      {t('admin.keys.version')}
                    </th>
                    <th scope="col" className={`${thClass} whitespace-nowrap`}>
                      {t('admin.keys.state')}
                    </th>
                    <th scope="col" className={`${thClass} whitespace-nowrap`}>
                      {t('admin.keys.createdAt')}
                    </th>
                    <th scope="col" className={`${thClass} whitespace-nowrap`}>
                      {t('admin.keys.actions')}
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {status.versions.map((v) => (
                    <tr key={v.version} className={rowClass} data-testid="key-row" data-state={v.state}>
                      <th scope="row" className={`${thClass} font-normal`}>
                        {t('admin.keys.versionN', { n: v.version })}
                      </th>
                      <td className={tdClass}>
                        <Badge tone={v.state === 'active' ? 'success' : 'neutral'}>
                          {isKeyState(v.state) ? t(`admin.keys.states.${v.state}`) : v.state}
                        </Badge>
                      </td>
                      <td className={tdClass}>
                        <When iso={v.createdAt} />
                      </td>
                      <td className={tdClass}>
                        {v.state === 'retired' &&
                          (pending ? (
                            <span className="text-solid-gray-700" data-testid="destroy-waiting">
                              {t('admin.keys.destroyWaiting')}
                            </span>
                          ) : (
                            <Button
                              variant="outline"
                              size="md"
                              onClick={() => setDestroying(v.version)}
                              aria-label={t('admin.keys.destroyLabel', { n: v.version })}
                              data-testid="destroy-key"
                            >
                              {t('admin.keys.destroy')}
                            </Button>
                          ))}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
        </>
      )}
      <ConfirmDialog
        open={confirming}
        title={t('admin.keys.rotateTitle')}
        body={<p>{t('admin.keys.rotateBody')}</p>}
        confirmLabel={t('admin.keys.rotate')}
        busy={busy}
        onConfirm={() => void rotate()}
        onCancel={() => setConfirming(false)}
      />
      <ConfirmDialog
        open={destroying !== null}
        title={t('admin.keys.destroyTitle', { n: destroying ?? 0 })}
        body={<p>{t('admin.keys.destroyBody')}</p>}
        confirmLabel={t('admin.keys.destroy')}
        busy={busy}
        onConfirm={() => destroying !== null && void destroy(destroying)}
        onCancel={() => setDestroying(null)}
      />
      {dialog}
    </div>
  );
}
