/**
 * Clients for the tenant-admin pages of the files capability (src/files/files-admin.routes.ts,
 * src/identity/groups.routes.ts): folder owners (HR-04), the tenant key (ENC-03), groups (AC-05).
 */
import { ApiError, deleteJson, getJson, postJson, putJson } from '../../api/api-client';

export interface OwnedFolder {
  id: string;
  name: string;
  parentId: string | null;
  ownerId: string;
  ownerName: string;
  ownerLoginId: string;
  /** False when the owner was suspended or deleted: the folder needs a new owner. */
  ownerActive: boolean;
}

export interface KeyStatus {
  activeVersion: number;
  versions: Array<{ version: number; state: string; createdAt: string }>;
  /** Blobs whose data key is still wrapped by an older key version (the re-wrap job is running). */
  pendingBlobs: number;
  pendingSecrets: number;
}

export interface Group {
  id: string;
  name: string;
  memberIds: string[];
  createdAt: string;
}

function field<T>(body: unknown, key: string): T {
  if (typeof body !== 'object' || body === null || !(key in body)) throw new ApiError('unknown', 200);
  return (body as Record<string, unknown>)[key] as T;
}

function keyStatus(body: unknown): KeyStatus {
  field<unknown>(body, 'versions');
  return body as KeyStatus;
}

export async function fetchFolderOwners(): Promise<OwnedFolder[]> {
  return field<OwnedFolder[]>(await getJson('/api/v1/admin/folders'), 'folders');
}

export async function setFolderOwner(folderId: string, userId: string): Promise<void> {
  await putJson(`/api/v1/admin/folders/${encodeURIComponent(folderId)}/owner`, { userId });
}

export async function fetchKeyStatus(): Promise<KeyStatus> {
  return keyStatus(await getJson('/api/v1/admin/keys'));
}

/** Starts a new KEK version; needs a recent step-up (AC-13). */
export async function rotateKey(): Promise<KeyStatus> {
  return keyStatus(await postJson('/api/v1/admin/keys/rotate'));
}

/** Destroys a retired KEK version for good; needs a recent step-up (AC-13). */
export async function destroyKeyVersion(version: number): Promise<KeyStatus> {
  return keyStatus(await postJson(`/api/v1/admin/keys/${version}/destroy`));
}

export async function fetchGroups(): Promise<Group[]> {
  return field<Group[]>(await getJson('/api/v1/admin/groups'), 'groups');
}

export async function saveGroup(input: { id?: string; name: string; memberIds: string[] }): Promise<Group> {
  const body = { name: input.name, memberIds: input.memberIds };
  const saved = input.id
    ? await putJson(`/api/v1/admin/groups/${encodeURIComponent(input.id)}`, body)
    : await postJson('/api/v1/admin/groups', body);
  field<string>(saved, 'id');
  return saved as Group;
}

export async function deleteGroup(id: string): Promise<void> {
  await deleteJson(`/api/v1/admin/groups/${encodeURIComponent(id)}`);
}
