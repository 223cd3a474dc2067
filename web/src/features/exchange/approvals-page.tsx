/**
 * 承認待ち (`/exchange/approvals`, TLS-03, PII-02): shares to outside recipients that wait for the
 * caller's 上長承認 — who sends, for what purpose, to which addresses and domains, and which files
 * (each can be opened first: the approver sees the shared version, the 無害化 view when there is
 * one). 承認 takes an optional comment, 却下 a required one; the sender is told either way.
 */
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { errorCode } from '../../api/api-client';
import { useDocumentTitle } from '../../app/use-document-title';
import { Button } from '../../ui/button';
import { Dialog } from '../../ui/dialog';
import { TextareaField } from '../../ui/form';
import { ErrorBanner, SuccessBanner } from '../../ui/messages';
import { PageHeading } from '../../ui/page-heading';
import { StepUpCancelled, useStepUp } from '../identity/step-up';
import { approvalFileUrl, decideShare, fetchApprovals, type ShareDto } from './exchange.api';
import { downloadLinkClass } from './exchange-bits';
import { ShareCard } from './share-card';

const COMMENT_MAX = 1000;

type Deciding = { share: ShareDto; decision: 'approve' | 'reject' } | null;

export function ApprovalsPage() {
  const { t } = useTranslation();
  useDocumentTitle(t('exchange.approvals.title'));
  const { run, dialog } = useStepUp();
  const [shares, setShares] = useState<ShareDto[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [done, setDone] = useState<{ message: string; n: number } | null>(null);
  const [deciding, setDeciding] = useState<Deciding>(null);
  const counter = useRef(0);

  const load = useCallback(async () => {
    try {
      setShares(await fetchApprovals());
      setLoadError(null);
    } catch (err) {
      setLoadError(errorCode(err));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  async function decide(comment: string) {
    if (!deciding) return;
    const { share, decision } = deciding;
    await run(() => decideShare(share.id, decision, comment));
    setDeciding(null);
    setDone({
      message: t(decision === 'approve' ? 'exchange.approvals.approved' : 'exchange.approvals.rejected', {
        name: share.senderName,
      }),
      n: ++counter.current,
    });
    await load();
  }

  return (
    <div className="flex flex-col gap-8">
      <div className="flex flex-col gap-4">
        <PageHeading>{t('exchange.approvals.title')}</PageHeading>
        <p className="text-std-16N-170">{t('exchange.approvals.lead')}</p>
      </div>
      {done && <SuccessBanner key={done.n} title={done.message} data-testid="approval-done" />}
      {loadError && <ErrorBanner title={t('app.loadErrorTitle')} code={loadError} focus={false} />}
      {shares === null && !loadError && <p className="text-std-16N-170">{t('app.loading')}</p>}
      {shares && shares.length === 0 && (
        <p className="text-std-16N-170" data-testid="approvals-empty">
          {t('exchange.approvals.none')}
        </p>
      )}
      {shares && shares.length > 0 && (
        <ul className="flex flex-col gap-6" aria-label={t('exchange.approvals.listLabel')}>
          {shares.map((s) => (
            <li key={s.id}>
              <ShareCard
                share={s}
                showSender
                fileLink={(f) => (
                  <a
                    href={approvalFileUrl(s.id, f.fileId)}
                    target="_blank"
                    rel="noopener"
                    className={downloadLinkClass}
                    data-testid="approval-file"
                  >
                    {t('exchange.approvals.viewFile')}
                    <span className="sr-only">
                      （{f.name}、{t('exchange.approvals.newTab')}）
                    </span>
                  </a>
                )}
                actions={
                  s.approval.canDecide ? (
                    <>
                      <Button
                        variant="solid-fill"
                        size="md"
                        onClick={() => setDeciding({ share: s, decision: 'approve' })}
                        data-testid="approve-share"
                      >
                        {t('exchange.approvals.approve')}
                        <span className="sr-only">（{s.purpose}）</span>
                      </Button>
                      <Button
                        variant="outline"
                        size="md"
                        onClick={() => setDeciding({ share: s, decision: 'reject' })}
                        data-testid="reject-share"
                      >
                        {t('exchange.approvals.reject')}
                        <span className="sr-only">（{s.purpose}）</span>
                      </Button>
                    </>
                  ) : (
                    <p className="text-std-16N-170">{t('exchange.approvals.cannotDecide')}</p>
                  )
                }
              />
            </li>
          ))}
        </ul>
      )}
      <DecisionDialog deciding={deciding} onSubmit={decide} onCancel={() => setDeciding(null)} />
      {dialog}
    </div>
  );
}

function DecisionDialog({
  deciding,
  onSubmit,
  onCancel,
}: {
  deciding: Deciding;
  onSubmit: (comment: string) => Promise<void>;
  onCancel: () => void;
}) {
  const { t } = useTranslation();
  const [value, setValue] = useState('');
  const [fieldError, setFieldError] = useState<string | undefined>();
  const [failure, setFailure] = useState<{ code: string; n: number } | null>(null);
  const [busy, setBusy] = useState(false);
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const open = deciding !== null;
  const reject = deciding?.decision === 'reject';

  useEffect(() => {
    if (!open) return;
    setValue('');
    setFieldError(undefined);
    setFailure(null);
    setBusy(false);
  }, [open]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    const comment = value.normalize('NFC').trim();
    const label = t(reject ? 'exchange.approvals.rejectComment' : 'exchange.approvals.approveComment');
    const problem =
      reject && comment.length === 0
        ? t('form.fieldRequired', { field: label })
        : [...comment].length > COMMENT_MAX
          ? t('malware.reason.tooLong', { max: COMMENT_MAX })
          : undefined;
    setFieldError(problem);
    if (problem) {
      inputRef.current?.focus();
      return;
    }
    setBusy(true);
    try {
      await onSubmit(comment);
    } catch (err) {
      if (!(err instanceof StepUpCancelled)) setFailure((f) => ({ code: errorCode(err), n: (f?.n ?? 0) + 1 }));
    } finally {
      setBusy(false);
    }
  }

  const name = deciding?.share.senderName ?? '';
  return (
    <Dialog
      open={open}
      title={reject ? t('exchange.approvals.rejectTitle', { name }) : t('exchange.approvals.approveTitle', { name })}
      onCancel={onCancel}
      initialFocus={inputRef}
      data-testid="decision-dialog"
    >
      <form noValidate onSubmit={(e) => void submit(e)} className="flex flex-col gap-6">
        {deciding && (
          <p>
            {t('exchange.approvals.dialogLead', {
              purpose: deciding.share.purpose,
              domains: [...new Set(deciding.share.recipients.map((r) => r.domain))].join(t('exchange.listSeparator')),
            })}
          </p>
        )}
        {failure && <ErrorBanner key={failure.n} title={t('exchange.approvals.errorTitle')} code={failure.code} />}
        <TextareaField
          ref={inputRef}
          label={
            reject ? (
              t('exchange.approvals.rejectComment')
            ) : (
              <>
                {t('exchange.approvals.approveComment')}
                <span className="text-oln-16N-100 text-solid-gray-700">{t('form.optional')}</span>
              </>
            )
          }
          hint={reject ? t('exchange.approvals.rejectHint') : t('exchange.approvals.approveHint')}
          required={reject}
          rows={4}
          value={value}
          onChange={(e) => setValue(e.target.value)}
          error={fieldError}
          maxLength={COMMENT_MAX}
          data-testid="decision-comment"
        />
        <div className="flex flex-wrap gap-4">
          <Button type="submit" variant="solid-fill" size="md" busy={busy} data-testid="decision-submit">
            {reject ? t('exchange.approvals.reject') : t('exchange.approvals.approve')}
          </Button>
          <Button variant="outline" size="md" onClick={onCancel}>
            {t('form.cancel')}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
