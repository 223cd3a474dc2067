/**
 * Classification labels in the files pages (PII-01/02): badges for a file's level and flags (and a
 * folder's own labels), the dialog that sets them, and the notice on a file where the personal-data
 * check found a My Number or a tenant pattern, with a one-click 「ラベルを設定」 for editors.
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { errorCode } from '../../api/api-client';
import { Badge } from '../../ui/badge';
import { Button } from '../../ui/button';
import { Dialog } from '../../ui/dialog';
import { Checkbox, RadioGroup } from '../../ui/form';
import { ErrorBanner } from '../../ui/messages';
import { NotificationBanner } from '../../ui/notification-banner';
import type { EffectiveLabels, FileItem } from '../files/files.api';
import { fetchLabelConfig, setFileLabels, setFolderLabels, suggestions, withLabel, type LabelConfig } from './labels.api';

/** The tenant's label configuration, or null while it loads (or when it could not be loaded). */
export function useLabelConfig(): LabelConfig | null {
  const [config, setConfig] = useState<LabelConfig | null>(null);
  useEffect(() => {
    let live = true;
    fetchLabelConfig().then(
      (c) => live && setConfig(c),
      () => live && setConfig(null),
    );
    return () => {
      live = false;
    };
  }, []);
  return config;
}

/** A file's level and flags as badges; inherited ones say so to screen readers and in their tooltip. */
export function LabelBadges({ labels }: { labels: EffectiveLabels }) {
  const { t } = useTranslation();
  const all = [labels.level, ...labels.flags];
  const inherited = (l: string) => !labels.own.includes(l);
  return (
    <span
      className="mt-1 flex flex-wrap gap-1"
      data-testid="label-badges"
      aria-label={t('labels.badgesLabel', { labels: all.join('、') })}
    >
      {all.map((l, i) => (
        <span key={l} title={inherited(l) ? t('labels.inherited') : undefined} data-testid="label-badge" data-label={l}>
          <Badge tone={i === 0 ? 'info' : 'warning'}>
            {l}
            {inherited(l) && <span className="sr-only">{t('labels.inheritedNote')}</span>}
          </Badge>
        </span>
      ))}
    </span>
  );
}

/** A folder's own labels (what it passes down), if any. */
export function FolderLabelBadges({ labels }: { labels: string[] }) {
  const { t } = useTranslation();
  if (labels.length === 0) return null;
  return (
    <span
      className="mt-1 flex flex-wrap gap-1"
      data-testid="label-badges"
      aria-label={t('labels.badgesLabel', { labels: labels.join('、') })}
    >
      {labels.map((l) => (
        <span key={l} data-testid="label-badge" data-label={l}>
          <Badge tone="neutral">{l}</Badge>
        </span>
      ))}
    </span>
  );
}

export type LabelTarget =
  | { kind: 'file'; id: string; name: string; labels: EffectiveLabels }
  | { kind: 'folder'; id: string; name: string; labels: string[] };

/**
 * Sets the own labels of a file (editor) or a folder (manager): one level or none, any flags. The
 * server checks the role and the labels again (`label.invalid`, `folder.forbidden`).
 */
export function LabelDialog({
  target,
  onDone,
  onCancel,
}: {
  target: LabelTarget | null;
  onDone: (labels: string[]) => void;
  onCancel: () => void;
}) {
  const { t } = useTranslation();
  const config = useLabelConfig();
  const [level, setLevel] = useState('');
  const [flags, setFlags] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<{ code: string; n: number } | null>(null);

  // The form starts from the target's own labels each time a dialog opens (not on every render of the caller).
  const opened = target ? `${target.kind}:${target.id}` : '';
  const ownRef = useRef<string[]>([]);
  ownRef.current = target ? (target.kind === 'file' ? target.labels.own : target.labels) : [];
  useEffect(() => {
    if (!opened || !config) return;
    setLevel(ownRef.current.find((l) => config.levels.includes(l)) ?? '');
    setFlags(ownRef.current.filter((l) => config.flags.includes(l)));
    setFailure(null);
    setBusy(false);
  }, [opened, config]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!target || busy || !config) return;
    const labels = [...(level ? [level] : []), ...config.flags.filter((f) => flags.includes(f))];
    setBusy(true);
    try {
      const saved =
        target.kind === 'file' ? (await setFileLabels(target.id, labels)).own : await setFolderLabels(target.id, labels);
      onDone(saved);
    } catch (err) {
      setFailure((f) => ({ code: errorCode(err), n: (f?.n ?? 0) + 1 }));
    } finally {
      setBusy(false);
    }
  }

  const inherited = target?.kind === 'file' ? target.labels.inherited : [];
  return (
    <Dialog
      open={target !== null}
      title={target ? t('labels.editTitle', { name: target.name }) : ''}
      onCancel={onCancel}
      data-testid="label-dialog"
    >
      <form noValidate onSubmit={(e) => void submit(e)} className="flex flex-col gap-6">
        {failure && <ErrorBanner key={failure.n} title={t('labels.errorTitle')} code={failure.code} />}
        <p>{target?.kind === 'folder' ? t('labels.folderLead') : t('labels.fileLead')}</p>
        {inherited.length > 0 && (
          <p className="text-std-16N-170 text-solid-gray-700" data-testid="label-inherited">
            {t('labels.inheritedList', { labels: inherited.join('、') })}
          </p>
        )}
        {config === null ? (
          <p>{t('app.loading')}</p>
        ) : (
          <>
            <RadioGroup
              legend={t('labels.levelLegend')}
              name="label-level"
              value={level}
              options={[
                { value: '', label: t('labels.levelNone') },
                ...config.levels.map((l) => ({
                  value: l,
                  label: target?.kind === 'folder' || l !== config.defaultLevel ? l : `${l}${t('labels.defaultNote')}`,
                })),
              ]}
              onChange={setLevel}
              data-testid="label-level"
            />
            <fieldset className="flex flex-col gap-1" data-testid="label-flags">
              <legend className="mb-1 text-std-17B-170 text-solid-gray-900">{t('labels.flagsLegend')}</legend>
              {config.flags.map((f) => (
                <Checkbox
                  key={f}
                  checked={flags.includes(f)}
                  onChange={(e) => setFlags(e.target.checked ? [...flags, f] : flags.filter((x) => x !== f))}
                  data-label={f}
                >
                  {f}
                </Checkbox>
              ))}
            </fieldset>
          </>
        )}
        <div className="flex flex-wrap gap-4">
          <Button type="submit" variant="solid-fill" size="md" busy={busy} data-testid="label-save">
            {t('labels.save')}
          </Button>
          <Button variant="outline" size="md" onClick={onCancel}>
            {t('form.cancel')}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

/**
 * PII-02: the personal-data check of the newest version found something this file does not carry a
 * label for yet: say what, and let an editor set the suggested labels in one step.
 */
export function PiiNotice({
  file,
  canEdit,
  onApplied,
}: {
  file: Pick<FileItem, 'id' | 'labels' | 'pii'>;
  canEdit: boolean;
  onApplied: (labels: string[]) => void;
}) {
  const { t } = useTranslation();
  const config = useLabelConfig();
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<{ code: string; n: number } | null>(null);
  if (file.pii.state === 'unreadable') {
    return (
      <NotificationBanner
        tone="warning"
        iconLabel={t('icon.warning')}
        title={t('labels.pii.unreadableTitle')}
        data-testid="pii-unreadable"
      >
        <p>{t('labels.pii.unreadable')}</p>
      </NotificationBanner>
    );
  }
  if (!config || file.pii.state !== 'hit') return null;
  const found = suggestions(config, file.labels, file.pii.hits);
  if (found.length === 0) return null;
  const wanted = [...new Set(found.map((s) => s.label))];

  async function apply() {
    if (busy || !config) return;
    setBusy(true);
    try {
      const next = wanted.reduce((ls, l) => withLabel(config, ls, l), file.labels.own);
      await setFileLabels(file.id, next);
      onApplied(wanted);
    } catch (err) {
      setFailure((f) => ({ code: errorCode(err), n: (f?.n ?? 0) + 1 }));
    } finally {
      setBusy(false);
    }
  }

  return (
    <NotificationBanner tone="warning" iconLabel={t('icon.warning')} title={t('labels.pii.title')} data-testid="pii-notice">
      <div className="flex flex-col gap-4">
        {[...new Map(found.map((s) => [`${s.kind}:${s.name}`, s])).values()].map((s) => (
          <p key={`${s.kind}:${s.name}`}>
            {s.kind === 'my_number'
              ? t('labels.pii.myNumber', { label: s.label })
              : t('labels.pii.pattern', { name: s.name, label: s.label })}
          </p>
        ))}
        {failure && <ErrorBanner key={failure.n} title={t('labels.errorTitle')} code={failure.code} />}
        {canEdit ? (
          <div>
            <Button variant="solid-fill" size="md" busy={busy} onClick={() => void apply()} data-testid="pii-apply">
              {t('labels.pii.apply')}
              <span className="sr-only">（{wanted.map((l) => t('labels.pii.applyLabel', { label: l })).join('、')}）</span>
            </Button>
          </div>
        ) : (
          <p>{t('labels.pii.askEditor')}</p>
        )}
      </div>
    </NotificationBanner>
  );
}
