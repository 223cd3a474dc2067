/**
 * Small pieces shared by the files pages: state badges, times, the quota line, the note that
 * downloads are off, the folder tree.
 */
import { useTranslation } from 'react-i18next';
import { routeLink } from '../../app/router';
import { formatDateTime } from '../../i18n/format';
import { currentLanguage } from '../../i18n/i18n';
import { Badge, type BadgeTone } from '../../ui/badge';
import { formatBytes, formatDateTimeShort } from './file-format';
import type { Folder, FolderRef, Quota, VersionState } from './files.api';
import { FolderIcon } from './file-dialogs';

const stateTone: Record<VersionState, BadgeTone> = {
  held: 'warning',
  available: 'success',
  quarantined: 'error',
  blocked: 'error',
  damaged: 'error',
};

/**
 * 「ウイルス検査待ち」「利用可」「隔離済み（ウイルス検出）」「ブロック」「破損」; a held version with a
 * hold reason (type mismatch, encrypted, …) waits for an administrator: 「保留（管理者の確認待ち）」.
 */
export function VersionBadge({ state, holdReason }: { state: VersionState; holdReason?: string | null }) {
  const { t } = useTranslation();
  return (
    <Badge tone={stateTone[state]} data-testid="state-badge">
      {state === 'held' && holdReason ? t('files.states.review') : t(`files.states.${state}`)}
    </Badge>
  );
}

/** A time in Japan time; `short` for table cells (no seconds, numeric date). */
export function When({ iso, short }: { iso: string | null; short?: boolean }) {
  if (!iso) return <>—</>;
  const date = new Date(iso);
  const language = currentLanguage();
  return (
    <time dateTime={iso} className={short ? 'whitespace-nowrap' : undefined}>
      {short ? formatDateTimeShort(date, language) : formatDateTime(date, language)}
    </time>
  );
}

/** 使用量 X / Y for the user and the organisation, and the largest file allowed. */
export function QuotaSummary({ quota }: { quota: Quota | null }) {
  const { t } = useTranslation();
  const language = currentLanguage();
  if (!quota) return null;
  const limit = (n: number) => (n > 0 ? formatBytes(n, language) : t('files.quota.unlimited'));
  return (
    <section aria-labelledby="quota-title" className="rounded-8 bg-solid-gray-50 px-4 py-3" data-testid="quota">
      <h2 id="quota-title" className="sr-only">
        {t('files.quota.title')}
      </h2>
      <dl className="flex flex-wrap gap-x-8 gap-y-1 text-std-16N-170">
        <div className="flex gap-2">
          <dt className="font-bold text-solid-gray-900">{t('files.quota.mine')}</dt>
          <dd data-testid="quota-user">
            {t('files.quota.value', { used: formatBytes(quota.user.usedBytes, language), limit: limit(quota.user.limitBytes) })}
          </dd>
        </div>
        <div className="flex gap-2">
          <dt className="font-bold text-solid-gray-900">{t('files.quota.tenant')}</dt>
          <dd data-testid="quota-tenant">
            {t('files.quota.value', {
              used: formatBytes(quota.tenant.usedBytes, language),
              limit: limit(quota.tenant.limitBytes),
            })}
          </dd>
        </div>
        <div className="flex gap-2">
          <dt className="font-bold text-solid-gray-900">{t('files.quota.maxFile')}</dt>
          <dd>{formatBytes(quota.maxFileBytes, language)}</dd>
        </div>
      </dl>
    </section>
  );
}

/**
 * Said where download links would be when the administrator switched downloads off for the zone
 * of this session (the policy page's 機能の利用; the server refuses them too).
 */
export function DownloadsOffNote() {
  const { t } = useTranslation();
  return (
    <p className="rounded-8 bg-solid-gray-50 px-4 py-3 text-std-16N-170" data-testid="downloads-off">
      {t('files.downloadsOff')}
    </p>
  );
}

/**
 * The folder tree: the top-level folders the user can reach, with the branch down to the folder on
 * screen opened out under its top-level folder.
 */
export function FolderTree({ roots, path }: { roots: Folder[] | null; path: FolderRef[] }) {
  const { t } = useTranslation();
  const currentId = path.at(-1)?.id ?? null;
  const item = (f: FolderRef, depth: number) => {
    const current = f.id === currentId;
    return (
      <a
        {...routeLink(`/folders/${f.id}`)}
        aria-current={current ? 'page' : undefined}
        style={{ paddingInlineStart: `${0.5 + depth * 1.25}rem` }}
        className={`flex min-h-11 items-center gap-2 rounded-4 py-1 pr-2 text-std-16N-170 underline-offset-[calc(3/16*1rem)] hover:bg-blue-50 hover:underline focus-visible:bg-yellow-300 focus-visible:outline-4 focus-visible:outline-black focus-visible:-outline-offset-4 ${
          current ? 'bg-blue-100 font-bold text-blue-1000' : 'text-solid-gray-900'
        }`}
      >
        <FolderIcon />
        <span className="min-w-0 break-all">{f.name}</span>
      </a>
    );
  };
  return (
    <nav aria-labelledby="folder-tree-title" className="flex flex-col gap-2" data-testid="folder-tree">
      <h2 id="folder-tree-title" className="text-std-17B-170 text-solid-gray-900">
        <a
          {...routeLink('/files')}
          aria-current={currentId === null ? 'page' : undefined}
          className="underline-offset-[calc(3/16*1rem)] hover:underline focus-visible:bg-yellow-300 focus-visible:outline-4 focus-visible:outline-black"
        >
          {t('files.rootsTitle')}
        </a>
      </h2>
      {roots === null ? (
        <p className="text-std-16N-170">{t('app.loading')}</p>
      ) : roots.length === 0 ? (
        <p className="text-std-16N-170">{t('files.noRoots')}</p>
      ) : (
        <ul className="flex flex-col">
          {roots.map((root) => {
            const at = path.findIndex((p) => p.id === root.id);
            const branch = at >= 0 ? path.slice(at + 1) : [];
            return (
              <li key={root.id}>
                {item(root, 0)}
                {branch.length > 0 && (
                  <ul>
                    {branch.map((p, i) => (
                      <li key={p.id}>{item(p, i + 1)}</li>
                    ))}
                  </ul>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </nav>
  );
}
