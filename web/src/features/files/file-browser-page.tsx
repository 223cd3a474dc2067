/**
 * The file browser (ファイル): the folder tree on the side; the folder's breadcrumbs, its subfolders
 * and files with size, update time, scan state and version; creating, renaming, moving, copying,
 * deleting to the trash, downloading, sharing; uploads by button or drag-and-drop; and the quota.
 * `/files` lists the top-level folders, `/folders/:id` one folder.
 *
 * What a row offers follows the user's role on the folder (閲覧者 < 編集者 < フォルダー管理者); the server
 * checks every action again.
 */
import { Fragment, useCallback, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, errorCode } from '../../api/api-client';
import { navigate, routeLink } from '../../app/router';
import { useDocumentTitle } from '../../app/use-document-title';
import { formatDateTime } from '../../i18n/format';
import { currentLanguage } from '../../i18n/i18n';
import { Breadcrumbs } from '../../ui/breadcrumbs';
import { Button } from '../../ui/button';
import { ConfirmDialog, headRowClass, tdClass, thClass } from '../../ui/confirm-dialog';
import { linkClass } from '../../ui/link';
import { ErrorBanner, SuccessBanner } from '../../ui/messages';
import { PageHeading } from '../../ui/page-heading';
import { featureOn } from '../identity/identity.api';
import { useMe } from '../identity/session';
import { deliverable, FileMarkers } from '../malware/malware-bits';
import { FolderLabelBadges, LabelBadges, LabelDialog, type LabelTarget } from '../labels/label-bits';
import { FileIcon, FolderIcon, ConflictDialog, FolderPickerDialog, NameDialog } from './file-dialogs';
import { formatBytes } from './file-format';
import { DownloadsOffNote, FolderTree, QuotaSummary, VersionBadge, When } from './file-bits';
import {
  contentUrl,
  copyFile,
  createFolder,
  fetchFolder,
  fetchQuota,
  fetchRoots,
  moveFile,
  moveFolder,
  renameFile,
  renameFolder,
  trashFile,
  trashFolder,
  type FileItem,
  type Folder,
  type FolderListing,
  type FolderRef,
  type Quota,
  type RecoveryPlan,
} from './files.api';
import { countRestore, RestorePointDialog } from './restore-point-dialog';
import { ShareDialog } from './share-dialog';
import { UploadControls, UploadList } from './upload-panel';
import { SCAN_POLL_MS, SCAN_WAIT_MS, useUploads } from './uploads';

/** Roles that may create top-level folders (as the server allows). */
const TOP_LEVEL_CREATORS = new Set(['tenant_admin', 'staff', 'approver']);

type Item = { kind: 'folder'; folder: Folder } | { kind: 'file'; file: FileItem };
type Outcome = { kind: 'success'; message: string; trashLink?: boolean; n: number } | { kind: 'error'; code: string; n: number };

const itemName = (item: Item) => (item.kind === 'folder' ? item.folder.name : item.file.name);
const itemId = (item: Item) => (item.kind === 'folder' ? item.folder.id : item.file.id);

export function FileBrowserPage({ folderId }: { folderId: string | null }) {
  const { t } = useTranslation();
  const me = useMe();
  const uploads = useUploads();
  const [roots, setRoots] = useState<Folder[] | null>(null);
  const [listing, setListing] = useState<FolderListing | null>(null);
  const [quota, setQuota] = useState<Quota | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const counter = useRef(0);
  const [creating, setCreating] = useState(false);
  const [renaming, setRenaming] = useState<Item | null>(null);
  const [moving, setMoving] = useState<Item | null>(null);
  const [copying, setCopying] = useState<FileItem | null>(null);
  const [deleting, setDeleting] = useState<Item | null>(null);
  const [sharing, setSharing] = useState<Folder | null>(null);
  const [restoring, setRestoring] = useState<Folder | null>(null);
  const [labeling, setLabeling] = useState<LabelTarget | null>(null);
  const [conflict, setConflict] = useState<{ file: FileItem; to: FolderRef } | null>(null);
  const [busy, setBusy] = useState(false);
  const heldWatch = useRef(Date.now());

  const shown = folderId !== null && listing?.folder.id === folderId ? listing : null;
  const title = folderId === null ? t('files.title') : (shown?.folder.name ?? t('files.title'));
  useDocumentTitle(title);

  const report = useCallback(
    (o: Omit<Extract<Outcome, { kind: 'success' }>, 'n'> | Omit<Extract<Outcome, { kind: 'error' }>, 'n'>) => {
      setOutcome({ ...o, n: ++counter.current } as Outcome);
    },
    [],
  );

  const load = useCallback(async () => {
    try {
      const [r, l, q] = await Promise.all([
        fetchRoots(),
        folderId ? fetchFolder(folderId) : Promise.resolve(null),
        fetchQuota().catch(() => null),
      ]);
      setRoots(r);
      setListing(l);
      if (q) setQuota(q);
      setLoadError(null);
    } catch (err) {
      setLoadError(errorCode(err));
    }
  }, [folderId]);

  // Load on arrival, after a change, and whenever an upload finishes or a scan result arrives.
  useEffect(() => {
    heldWatch.current = Date.now();
    void load();
  }, [load, uploads.revision]);

  // Files held for the scan by someone else (or from before this page), and files whose 無害化 is still
  // running (on LGWAN their download appears when it is done): look again every 2 s for 2 min.
  const uploadsWatching = uploads.items.some((i) => i.status === 'held' && !i.scanSlow && i.folder.id === folderId);
  const anyHeld =
    shown?.files.some((f) => (f.latest.state === 'held' && !f.latest.holdReason) || f.latest.sanitize?.state === 'pending') ??
    false;
  useEffect(() => {
    if (!anyHeld || uploadsWatching || Date.now() - heldWatch.current > SCAN_WAIT_MS) return;
    const timer = setTimeout(() => void load(), SCAN_POLL_MS);
    return () => clearTimeout(timer);
  }, [anyHeld, uploadsWatching, shown, load]);

  useEffect(() => {
    setOutcome(null);
  }, [folderId]);

  const fail = (err: unknown) => report({ kind: 'error', code: errorCode(err) });
  const done = async (message: string, trashLink = false) => {
    report({ kind: 'success', message, trashLink });
    await load();
  };

  async function create(name: string) {
    const folder = await createFolder(folderId, name);
    setCreating(false);
    await done(t('files.created', { name: folder.name }));
  }

  async function rename(name: string) {
    if (!renaming) return;
    const result =
      renaming.kind === 'folder' ? await renameFolder(renaming.folder.id, name) : await renameFile(renaming.file.id, name);
    setRenaming(null);
    await done(t('files.renamed', { name: result.name }));
  }

  async function move(to: FolderRef) {
    if (!moving) return;
    const item = moving;
    try {
      if (item.kind === 'folder') await moveFolder(item.folder.id, to.id);
      else await moveFile(item.file.id, to.id, 'error');
    } catch (err) {
      if (item.kind === 'file' && err instanceof ApiError && err.code === 'name.taken') {
        setMoving(null);
        setConflict({ file: item.file, to });
        return;
      }
      throw err;
    }
    setMoving(null);
    await done(t('files.moved', { name: itemName(item), folder: to.name }));
  }

  async function moveKeepingBoth() {
    if (!conflict) return;
    setBusy(true);
    try {
      const moved = await moveFile(conflict.file.id, conflict.to.id, 'keep_both');
      setConflict(null);
      await done(t('files.moved', { name: moved.name, folder: conflict.to.name }));
    } catch (err) {
      setConflict(null);
      fail(err);
    } finally {
      setBusy(false);
    }
  }

  async function copy(to: FolderRef) {
    if (!copying) return;
    const copied = await copyFile(copying.id, to.id);
    setCopying(null);
    await done(t('files.copied', { name: copied.name, folder: to.name }));
  }

  async function remove() {
    if (!deleting || busy) return;
    const item = deleting;
    setBusy(true);
    try {
      if (item.kind === 'folder') await trashFolder(item.folder.id);
      else await trashFile(item.file.id);
      setDeleting(null);
      await done(t('files.deleted', { name: itemName(item) }), true);
    } catch (err) {
      setDeleting(null);
      fail(err);
    } finally {
      setBusy(false);
    }
  }

  async function restored(result: RecoveryPlan) {
    const folder = restoring;
    setRestoring(null);
    const counts = countRestore(result.items);
    const at = formatDateTime(new Date(result.at), currentLanguage());
    await done(t('files.restorePoint.done', { name: folder?.name ?? '', at, ...counts }), counts.trashed > 0);
  }

  // The server leaves out the folders above the highest one the user may open (a folder shared deep in someone's tree).
  const path = shown?.path ?? [];
  const downloads = featureOn(me, 'downloads');
  const role = shown?.folder.role ?? null;
  const canCreate = folderId === null ? TOP_LEVEL_CREATORS.has(me.user.role) : role === 'editor' || role === 'manager';
  const currentRef: FolderRef | null = shown ? { id: shown.folder.id, name: shown.folder.name } : null;

  return (
    <div className="flex flex-col gap-6">
      {shown && (
        <Breadcrumbs
          label={t('files.breadcrumbs')}
          items={[
            { label: t('files.rootsTitle'), path: '/files' },
            ...path.map((p, i) => (i === path.length - 1 ? { label: p.name } : { label: p.name, path: `/folders/${p.id}` })),
          ]}
        />
      )}
      <div className="flex flex-col gap-2">
        <PageHeading>{title}</PageHeading>
        {folderId === null && <p className="text-std-16N-170">{t('files.lead')}</p>}
        {shown && (
          <p className="text-std-16N-170 text-solid-gray-700" data-testid="folder-role">
            {t('files.yourRole', { role: t(`share.roles.${shown.folder.role}`) })}
            {shown.folder.ownerName && ` ・ ${t('files.ownerIs', { name: shown.folder.ownerName })}`}
          </p>
        )}
        {shown && <FolderLabelBadges labels={shown.folder.labels} />}
      </div>
      <QuotaSummary quota={quota} />
      {!downloads && <DownloadsOffNote />}
      {loadError && <ErrorBanner title={t('app.loadErrorTitle')} code={loadError} focus={false} data-testid="load-error" />}
      {outcome?.kind === 'error' && (
        <ErrorBanner key={outcome.n} title={t('files.errorTitle')} code={outcome.code} data-testid="files-error" />
      )}
      {outcome?.kind === 'success' && (
        <SuccessBanner key={outcome.n} title={outcome.message} data-testid="files-success">
          {outcome.trashLink && (
            <p>
              <a className={linkClass} {...routeLink('/trash')}>
                {t('files.openTrash')}
              </a>
            </p>
          )}
        </SuccessBanner>
      )}

      <div className="flex flex-col gap-8 lg:flex-row">
        <div className="lg:w-56 lg:shrink-0">
          <FolderTree roots={roots} path={path} />
        </div>
        <div className="flex min-w-0 flex-1 flex-col gap-6">
          <div className="flex flex-wrap gap-3" role="group" aria-label={t('files.toolbar')}>
            {canCreate && (
              <Button variant="outline" size="md" onClick={() => setCreating(true)}>
                {t('files.newFolder')}
              </Button>
            )}
            {shown && (
              <Button variant="outline" size="md" onClick={() => setSharing(shown.folder)} data-testid="share-button">
                {t('files.share')}
              </Button>
            )}
            {shown && role === 'manager' && (
              <Button
                variant="outline"
                size="md"
                onClick={() => {
                  setOutcome(null);
                  setLabeling({ kind: 'folder', id: shown.folder.id, name: shown.folder.name, labels: shown.folder.labels });
                }}
                data-testid="folder-labels-button"
              >
                {t('labels.edit')}
              </Button>
            )}
            {shown && role === 'manager' && (
              <Button
                variant="outline"
                size="md"
                onClick={() => {
                  setOutcome(null);
                  setRestoring(shown.folder);
                }}
                data-testid="restore-point-button"
              >
                {t('files.restorePoint.open')}
              </Button>
            )}
          </div>
          {currentRef && (role === 'editor' || role === 'manager') && <UploadControls folder={currentRef} />}
          {folderId === null && <p className="text-std-16N-170">{t('uploads.noFolder')}</p>}
          <UploadList current={currentRef} />
          {folderId === null && roots && (
            <ItemsTable
              mode="roots"
              caption={t('files.rootsCaption')}
              items={roots.map((folder) => ({ kind: 'folder', folder }))}
              downloads={downloads}
              zone={me.session.zone}
              onAction={act}
            />
          )}
          {shown && (
            <ItemsTable
              mode="folder"
              caption={t('files.caption', { name: shown.folder.name })}
              items={[
                ...shown.folders.map((folder): Item => ({ kind: 'folder', folder })),
                ...shown.files.map((file): Item => ({ kind: 'file', file })),
              ]}
              downloads={downloads}
              zone={me.session.zone}
              onAction={act}
            />
          )}
          {folderId !== null && !shown && !loadError && <p className="text-std-16N-170">{t('app.loading')}</p>}
        </div>
      </div>

      <NameDialog
        open={creating}
        title={t('files.newFolderTitle')}
        label={t('files.folderName')}
        initial=""
        submitLabel={t('files.create')}
        onSubmit={create}
        onCancel={() => setCreating(false)}
      />
      <NameDialog
        open={renaming !== null}
        title={renaming ? t('files.renameTitle', { name: itemName(renaming) }) : ''}
        label={t('files.newName')}
        initial={renaming ? itemName(renaming) : ''}
        submitLabel={t('files.renameSubmit')}
        onSubmit={rename}
        onCancel={() => setRenaming(null)}
      />
      <FolderPickerDialog
        open={moving !== null}
        title={moving ? t('files.moveTitle', { name: itemName(moving) }) : ''}
        actionLabel={t('files.moveHere')}
        exclude={moving?.kind === 'folder' ? moving.folder.id : undefined}
        onPick={move}
        onCancel={() => setMoving(null)}
      />
      <FolderPickerDialog
        open={copying !== null}
        title={copying ? t('files.copyTitle', { name: copying.name }) : ''}
        actionLabel={t('files.copyHere')}
        onPick={copy}
        onCancel={() => setCopying(null)}
      />
      <ConfirmDialog
        open={deleting !== null}
        title={deleting ? t('files.deleteTitle', { name: itemName(deleting) }) : ''}
        body={<p>{deleting?.kind === 'folder' ? t('files.deleteFolderBody') : t('files.deleteBody')}</p>}
        confirmLabel={t('files.deleteConfirm')}
        busy={busy}
        onConfirm={() => void remove()}
        onCancel={() => setDeleting(null)}
      />
      <ConflictDialog
        open={conflict !== null}
        name={conflict?.file.name ?? ''}
        busy={busy}
        onKeepBoth={() => void moveKeepingBoth()}
        onCancel={() => setConflict(null)}
      />
      <ShareDialog folder={sharing} onClose={() => setSharing(null)} />
      <RestorePointDialog folder={restoring} onDone={restored} onCancel={() => setRestoring(null)} />
      <LabelDialog
        target={labeling}
        onCancel={() => setLabeling(null)}
        onDone={() => {
          setLabeling(null);
          void done(t('labels.saved'));
        }}
      />
    </div>
  );

  function act(action: RowAction, item: Item) {
    setOutcome(null);
    switch (action) {
      case 'open':
        if (item.kind === 'folder') navigate(`/folders/${item.folder.id}`);
        else navigate(`/files/${item.file.id}`);
        return;
      case 'rename':
        return setRenaming(item);
      case 'move':
        return setMoving(item);
      case 'copy':
        if (item.kind === 'file') setCopying(item.file);
        return;
      case 'share':
        if (item.kind === 'folder') setSharing(item.folder);
        return;
      case 'labels':
        return setLabeling(
          item.kind === 'folder'
            ? { kind: 'folder', id: item.folder.id, name: item.folder.name, labels: item.folder.labels }
            : { kind: 'file', id: item.file.id, name: item.file.name, labels: item.file.labels },
        );
      case 'delete':
        return setDeleting(item);
    }
  }
}

type RowAction = 'open' | 'rename' | 'move' | 'copy' | 'share' | 'labels' | 'delete';

function actionsFor(item: Item): RowAction[] {
  if (item.kind === 'folder') {
    const role = item.folder.role;
    const top = item.folder.parentId === null;
    return [
      'open',
      ...(role !== 'viewer' ? (['rename'] as const) : []),
      ...(role === 'manager' ? (['move'] as const) : []),
      'share',
      ...(role === 'manager' ? (['labels'] as const) : []),
      ...((top ? role === 'manager' : role !== 'viewer') ? (['delete'] as const) : []),
    ];
  }
  return ['open', 'rename', 'move', 'copy', 'labels', 'delete'];
}

function ItemsTable({
  mode,
  caption,
  items,
  downloads,
  zone,
  onAction,
}: {
  mode: 'roots' | 'folder';
  caption: string;
  items: Item[];
  /** False when downloads are switched off for this session's zone: no download links. */
  downloads: boolean;
  /** The session's zone: on LGWAN an internet-origin file waits for its 無害化 rebuild. */
  zone: string;
  onAction: (action: RowAction, item: Item) => void;
}) {
  const { t } = useTranslation();
  const language = currentLanguage();
  const [expanded, setExpanded] = useState<string | null>(null);
  const collator = new Intl.Collator('ja');
  const sorted = [...items].sort((a, b) =>
    a.kind !== b.kind ? (a.kind === 'folder' ? -1 : 1) : collator.compare(itemName(a), itemName(b)),
  );
  if (sorted.length === 0) {
    return (
      <p className="text-std-16N-170" data-testid="folder-empty">
        {mode === 'roots' ? t('files.noRoots') : t('files.empty')}
      </p>
    );
  }
  const columns = mode === 'roots' ? 5 : 6;
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-std-16N-170" data-testid="items-table">
        <caption className="sr-only">{caption}</caption>
        <thead>
          <tr className={headRowClass}>
            <th scope="col" className={`${thClass} whitespace-nowrap`}>
              {t('files.col.name')}
            </th>
            {mode === 'roots' ? (
              <>
                <th scope="col" className={`${thClass} whitespace-nowrap`}>
                  {t('files.col.owner')}
                </th>
                <th scope="col" className={`${thClass} whitespace-nowrap`}>
                  {t('files.col.role')}
                </th>
              </>
            ) : (
              <>
                <th scope="col" className={`${thClass} whitespace-nowrap text-end`}>
                  {t('files.col.size')}
                </th>
                <th scope="col" className={`${thClass} whitespace-nowrap`}>
                  {t('files.col.state')}
                </th>
                <th scope="col" className={`${thClass} whitespace-nowrap text-end`}>
                  {t('files.col.version')}
                </th>
              </>
            )}
            <th scope="col" className={`${thClass} whitespace-nowrap`}>
              {t('files.col.updatedAt')}
            </th>
            <th scope="col" className={`${thClass} whitespace-nowrap`}>
              {t('files.col.actions')}
            </th>
          </tr>
        </thead>
        <tbody>
          {sorted.map((item) => {
            const id = itemId(item);
            const name = itemName(item);
            const open = expanded === id;
            const panelId = `item-actions-${id}`;
            const href = item.kind === 'folder' ? `/folders/${id}` : `/files/${id}`;
            return (
              <Fragment key={id}>
                <tr
                  className={`${open ? '' : 'border-b'} border-solid-gray-420`}
                  data-testid="item-row"
                  data-kind={item.kind}
                  data-name={name}
                  data-state={item.kind === 'file' ? item.file.latest.state : undefined}
                >
                  <th scope="row" className={`${thClass} min-w-48 font-normal`}>
                    <a className={`${linkClass} inline-flex items-start gap-2`} {...routeLink(href)}>
                      {item.kind === 'folder' ? <FolderIcon /> : <FileIcon />}
                      <span className="wrap-anywhere">{name}</span>
                      <span className="sr-only">（{t(`files.kind.${item.kind}`)}）</span>
                    </a>
                    {item.kind === 'file' && <FileMarkers name={item.file.name} latest={item.file.latest} />}
                    {item.kind === 'file' ? (
                      <LabelBadges labels={item.file.labels} />
                    ) : (
                      <FolderLabelBadges labels={item.folder.labels} />
                    )}
                  </th>
                  {mode === 'roots' && item.kind === 'folder' ? (
                    <>
                      <td className={tdClass}>{item.folder.ownerName ?? '—'}</td>
                      <td className={tdClass}>{t(`share.roles.${item.folder.role}`)}</td>
                    </>
                  ) : item.kind === 'file' ? (
                    <>
                      <td className={`${tdClass} text-end whitespace-nowrap`} data-testid="item-size">
                        {formatBytes(item.file.latest.size, language)}
                      </td>
                      <td className={tdClass}>
                        <VersionBadge state={item.file.latest.state} holdReason={item.file.latest.holdReason} />
                      </td>
                      <td className={`${tdClass} text-end`} data-testid="item-version">
                        {item.file.latest.version}
                      </td>
                    </>
                  ) : (
                    <>
                      <td className={`${tdClass} text-end`}>
                        <span aria-hidden="true">—</span>
                        <span className="sr-only">{t('files.kind.folder')}</span>
                      </td>
                      <td className={tdClass} />
                      <td className={tdClass} />
                    </>
                  )}
                  <td className={tdClass}>
                    <When short iso={item.kind === 'folder' ? item.folder.updatedAt : item.file.updatedAt} />
                  </td>
                  <td className={tdClass}>
                    <div className="flex flex-wrap gap-2">
                      {downloads &&
                        item.kind === 'file' &&
                        item.file.availableVersion !== null &&
                        (item.file.availableVersion !== item.file.latest.version || deliverable(item.file.latest, zone)) && (
                          <a
                            href={contentUrl(item.file.id)}
                            download
                            className="inline-flex min-h-11 items-center whitespace-nowrap rounded-8 border border-current bg-white px-3 text-oln-16B-100 text-blue-900 hover:bg-blue-200 hover:underline focus-visible:outline-4 focus-visible:outline-black focus-visible:outline-offset-[calc(2/16*1rem)] focus-visible:ring-[calc(2/16*1rem)] focus-visible:ring-yellow-300"
                            data-testid="download-link"
                          >
                            {t('files.download')}
                            <span className="sr-only">（{name}）</span>
                          </a>
                        )}
                      <button
                        type="button"
                        aria-expanded={open}
                        aria-controls={panelId}
                        onClick={() => setExpanded(open ? null : id)}
                        className="inline-flex min-h-11 items-center gap-1 whitespace-nowrap rounded-8 border border-current bg-white px-3 text-oln-16B-100 text-blue-900 hover:bg-blue-200 hover:underline focus-visible:outline-4 focus-visible:outline-black focus-visible:outline-offset-[calc(2/16*1rem)] focus-visible:ring-[calc(2/16*1rem)] focus-visible:ring-yellow-300"
                        data-testid="actions-toggle"
                      >
                        {t('files.actionsToggle')}
                        <span className="sr-only">（{name}）</span>
                        <svg aria-hidden="true" viewBox="0 0 16 16" className={`size-4 ${open ? 'rotate-180' : ''}`}>
                          <path d="M8 11.5 2.5 6l1-1L8 9.5 12.5 5l1 1z" fill="currentColor" />
                        </svg>
                      </button>
                    </div>
                  </td>
                </tr>
                {open && (
                  <tr className="border-b border-solid-gray-420 bg-solid-gray-50" data-testid="item-actions" data-name={name}>
                    <td colSpan={columns} className="px-4 py-4">
                      <div
                        id={panelId}
                        role="group"
                        aria-label={t('files.actionsFor', { name })}
                        className="flex flex-wrap gap-3"
                      >
                        {actionsFor(item).map((action) => (
                          <Button
                            key={action}
                            variant="outline"
                            size="md"
                            onClick={() => onAction(action, item)}
                            data-action={action}
                          >
                            {t(`files.action.${item.kind === 'file' && action === 'open' ? 'detail' : action}`)}
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
