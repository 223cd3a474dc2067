/**
 * Client for the files capability (src/files/files.routes.ts, shapes in src/files/files.schemas.ts):
 * folders, files and versions, sharing, trash, quota and the colleague directory. Downloads are
 * plain links (see `contentUrl`), so the browser streams them to disk and names them from the
 * server's RFC 6266 `filename*`.
 */
import { ApiError, deleteJson, getJson, patchJson, postJson } from '../../api/api-client';

export type FolderRole = 'viewer' | 'editor' | 'manager';
export const FOLDER_ROLES: readonly FolderRole[] = ['viewer', 'editor', 'manager'];
/** held = ウイルス検査待ち or 保留 (with a hold reason); blocked = refused by the tenant's type rules (MAL-05/06). */
export type VersionState = 'held' | 'available' | 'quarantined' | 'blocked' | 'damaged';
export type SanitizeState = 'pending' | 'sanitised' | 'sanitised_with_loss' | 'failed' | 'blocked';
export type OnConflict = 'error' | 'keep_both';
export type PiiState = 'pending' | 'clear' | 'hit' | 'unsupported' | 'unreadable';

/** As in src/labels/effective-labels.ts. */
export interface EffectiveLabels {
  level: string;
  flags: string[];
  own: string[];
  inherited: string[];
}

export interface FolderRef {
  id: string;
  name: string;
}

export interface Folder {
  id: string;
  parentId: string | null;
  name: string;
  ownerId: string;
  ownerName: string | null;
  createdAt: string;
  updatedAt: string;
  /** The caller's effective role on this folder. */
  role: FolderRole;
  /** Classification labels set on the folder itself (PII-01); everything below inherits them. */
  labels: string[];
}

export interface Version {
  id: string;
  version: number;
  size: number;
  sha256: string;
  contentType: string;
  state: VersionState;
  scan: {
    engine: string | null;
    engineVersion: string | null;
    result: string | null;
    signature: string | null;
    attempts: number;
    at: string | null;
  };
  originZone: string;
  uploadedBy: string;
  uploadedByName: string | null;
  createdAt: string;
  /** Type detected from the content (MAL-06). */
  detectedType: string | null;
  /** Why the version is held or blocked: type_blocked, type_mismatch, encrypted, unscannable, infected. */
  holdReason: string | null;
  /** 無害化 of an internet-origin version (MAL-07/08): the rebuild LGWAN receives and what was removed. */
  sanitize: Sanitize | null;
  /** Released from quarantine or review by an administrator (MAL-03), with the justification. */
  released: { at: string; by: string | null; reason: string | null } | null;
}

export interface Sanitize {
  state: SanitizeState;
  name: string | null;
  size: number | null;
  sha256: string | null;
  contentType: string | null;
  engine: string | null;
  removed: Array<{ kind: string; count: number; detail?: string }>;
  reason: string | null;
}

export interface FileItem {
  id: string;
  folderId: string;
  name: string;
  createdAt: string;
  updatedAt: string;
  /** The newest version, whatever its state (its state is the file's badge). */
  latest: Version;
  /** The newest version that can be downloaded, if any. */
  availableVersion: number | null;
  deletedAt: string | null;
  /** Classification labels (PII-01): the level and flags that apply, and where they come from. */
  labels: EffectiveLabels;
  /** The personal-data check of the newest version (PII-02); kinds and counts only. */
  pii: { state: PiiState | null; hits: Array<{ kind: string; count: number }> };
}

export interface FileDetail extends FileItem {
  versions: Version[];
  path: FolderRef[];
  role: FolderRole;
}

export interface FolderListing {
  folder: Folder;
  /** From the top-level folder down to this one. */
  path: FolderRef[];
  folders: Folder[];
  files: FileItem[];
}

export interface Grant {
  id: string;
  folderId: string;
  /** Set when the grant is on an ancestor: inherited here, changed there. */
  inheritedFrom: FolderRef | null;
  subjectType: 'user' | 'group';
  subjectId: string;
  subjectName: string;
  role: FolderRole;
  grantedBy: string;
  createdAt: string;
}

export interface Permissions {
  owner: { id: string; name: string | null; loginId: string | null };
  grants: Grant[];
}

export interface TrashItem {
  kind: 'file' | 'folder';
  id: string;
  name: string;
  /** Where it was; null for a top-level folder. */
  parent: FolderRef | null;
  deletedAt: string;
  deletedBy: string | null;
  /** Who deleted it; null when that account is gone from the directory. */
  deletedByName: string | null;
  purgeAfter: string;
  size: number | null;
}

export interface Trash {
  items: TrashItem[];
  trashDays: number;
}

export interface Quota {
  tenant: { usedBytes: number; limitBytes: number };
  user: { usedBytes: number; limitBytes: number };
  maxFileBytes: number;
}

export interface Directory {
  users: Array<{ id: string; loginId: string; displayName: string }>;
  groups: Array<{ id: string; name: string }>;
}

function obj<T>(body: unknown, key?: string): T {
  if (typeof body !== 'object' || body === null || (key !== undefined && !(key in body))) throw new ApiError('unknown', 200);
  return body as T;
}

const enc = encodeURIComponent;

export async function fetchRoots(signal?: AbortSignal): Promise<Folder[]> {
  return obj<{ folders: Folder[] }>(await getJson('/api/v1/folders/roots', signal), 'folders').folders;
}

export async function fetchFolder(id: string, signal?: AbortSignal): Promise<FolderListing> {
  return obj<FolderListing>(await getJson(`/api/v1/folders/${enc(id)}`, signal), 'folder');
}

export async function createFolder(parentId: string | null, name: string): Promise<Folder> {
  return obj<Folder>(await postJson('/api/v1/folders', { parentId, name, onConflict: 'error' }), 'id');
}

export async function renameFolder(id: string, name: string): Promise<Folder> {
  return obj<Folder>(await patchJson(`/api/v1/folders/${enc(id)}`, { name }), 'id');
}

export async function moveFolder(id: string, parentId: string): Promise<Folder> {
  return obj<Folder>(await patchJson(`/api/v1/folders/${enc(id)}`, { parentId }), 'id');
}

export async function trashFolder(id: string): Promise<void> {
  await deleteJson(`/api/v1/folders/${enc(id)}`);
}

export async function restoreFolder(id: string, onConflict: OnConflict): Promise<Folder> {
  return obj<Folder>(await postJson(`/api/v1/folders/${enc(id)}/restore`, { onConflict }), 'id');
}

export async function fetchPermissions(id: string): Promise<Permissions> {
  return obj<Permissions>(await getJson(`/api/v1/folders/${enc(id)}/permissions`), 'grants');
}

export async function grantPermission(
  id: string,
  input: { subjectType: 'user' | 'group'; subjectId: string; role: FolderRole },
): Promise<Permissions> {
  return obj<Permissions>(await postJson(`/api/v1/folders/${enc(id)}/permissions`, input), 'grants');
}

export async function revokePermission(id: string, grantId: string): Promise<Permissions> {
  return obj<Permissions>(await deleteJson(`/api/v1/folders/${enc(id)}/permissions/${enc(grantId)}`), 'grants');
}

export async function fetchDirectory(): Promise<Directory> {
  return obj<Directory>(await getJson('/api/v1/directory'), 'users');
}

export async function fetchFile(id: string, signal?: AbortSignal): Promise<FileDetail> {
  return obj<FileDetail>(await getJson(`/api/v1/files/${enc(id)}`, signal), 'versions');
}

export async function renameFile(id: string, name: string): Promise<FileItem> {
  return obj<FileItem>(await patchJson(`/api/v1/files/${enc(id)}`, { name }), 'id');
}

export async function moveFile(id: string, folderId: string, onConflict: OnConflict): Promise<FileItem> {
  return obj<FileItem>(await patchJson(`/api/v1/files/${enc(id)}`, { folderId, onConflict }), 'id');
}

/** Copies a file into a folder; a name already there gets a 「(2)」 suffix (keep both). */
export async function copyFile(id: string, folderId: string): Promise<FileItem> {
  return obj<FileItem>(await postJson(`/api/v1/files/${enc(id)}/copy`, { folderId, onConflict: 'keep_both' }), 'id');
}

export async function trashFile(id: string): Promise<void> {
  await deleteJson(`/api/v1/files/${enc(id)}`);
}

export async function restoreFile(id: string, onConflict: OnConflict): Promise<FileItem> {
  return obj<FileItem>(await postJson(`/api/v1/files/${enc(id)}/restore`, { onConflict }), 'id');
}

export async function fetchTrash(): Promise<Trash> {
  return obj<Trash>(await getJson('/api/v1/trash'), 'items');
}

export async function purgeTrashItem(kind: 'file' | 'folder', id: string): Promise<void> {
  await deleteJson(`/api/v1/trash/${kind}/${enc(id)}`);
}

export async function fetchQuota(signal?: AbortSignal): Promise<Quota> {
  return obj<Quota>(await getJson('/api/v1/quota', signal), 'tenant');
}

/**
 * The download address of a file (its newest available version) or of one version. Used as a
 * plain `<a download>`: the browser streams the bytes to disk (no copy in page memory, which
 * matters for large files) and names the file from the server's `filename*`.
 */
export function contentUrl(id: string, version?: number): string {
  return `/api/v1/files/${enc(id)}/content${version === undefined ? '' : `?version=${version}`}`;
}

/**
 * The original (not the 無害化 rebuild) of an internet-origin version on the LGWAN zone (MAL-08);
 * the server answers 403 `file.original_needs_approval` unless an approver granted the caller's request.
 */
export function originalUrl(id: string, version: number): string {
  return `/api/v1/files/${enc(id)}/content?version=${version}&original=1`;
}

/** Asks for the original of a sanitised internet-origin version on LGWAN; an approver decides. */
export async function requestOriginal(id: string, version: number, reason: string): Promise<string> {
  return obj<{ id: string }>(await postJson(`/api/v1/files/${enc(id)}/versions/${version}/original-requests`, { reason }), 'id')
    .id;
}

/**
 * What point-in-time recovery (MAL-09) does to one file: revert = a new version with the content it
 * had at the chosen time (the newer versions stay in the history); trash = created after that time,
 * moved to the trash; untrash = deleted after that time, brought back (untrash_revert = both);
 * none_clean = no clean version existed at that time, so it is left as it is.
 */
export type RecoveryAction = 'revert' | 'trash' | 'untrash' | 'untrash_revert' | 'none_clean';

export interface RecoveryItem {
  fileId: string;
  name: string;
  action: RecoveryAction;
  fromVersion: number | null;
  toVersion: number | null;
}

export interface RecoveryPlan {
  folderId: string;
  /** The point in time, as the server read it (UTC). */
  at: string;
  /** False for a dry run (the plan only). */
  applied: boolean;
  items: RecoveryItem[];
}

/**
 * Returns a folder and everything below it to its state at `at` (ISO 8601 with offset), or with
 * `dryRun` only says what would change. Needs the 管理者 role on the folder.
 */
export async function restoreToPoint(folderId: string, at: string, dryRun: boolean): Promise<RecoveryPlan> {
  return obj<RecoveryPlan>(await postJson(`/api/v1/folders/${enc(folderId)}/restore-point`, { at, dryRun }), 'items');
}
