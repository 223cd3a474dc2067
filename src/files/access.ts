/**
 * Folder permissions (AC-05): viewer < editor < manager, granted to users or groups on a folder and
 * inherited by everything below it. A folder's owner is its manager. The effective role is the
 * highest one found on the folder or any ancestor; there are no deny entries, so removing access
 * means removing the grant where it was given (the permissions page shows where that is).
 */
import type { FolderRole } from '../db/schema.js';

export const FOLDER_ROLES = ['viewer', 'editor', 'manager'] as const satisfies readonly FolderRole[];

const RANK: Record<FolderRole, number> = { viewer: 1, editor: 2, manager: 3 };

export function atLeast(role: FolderRole | null, needed: FolderRole): boolean {
  return role !== null && RANK[role] >= RANK[needed];
}

export function higher(a: FolderRole | null, b: FolderRole | null): FolderRole | null {
  if (a === null) return b;
  if (b === null) return a;
  return RANK[a] >= RANK[b] ? a : b;
}

export interface PathNode {
  id: string;
  ownerId: string;
  deleted: boolean;
}

export interface GrantView {
  folderId: string;
  subjectType: 'user' | 'group';
  subjectId: string;
  role: FolderRole;
}

/**
 * The effective role of `userId` (member of `groupIds`) on the first folder of `path` (the folder,
 * then its ancestors up to the top), given every grant on those folders.
 */
export function effectiveRole(
  path: readonly PathNode[],
  grants: readonly GrantView[],
  userId: string,
  groupIds: ReadonlySet<string>,
): FolderRole | null {
  const onPath = new Set(path.map((p) => p.id));
  let role: FolderRole | null = path.some((p) => p.ownerId === userId) ? 'manager' : null;
  for (const g of grants) {
    if (!onPath.has(g.folderId)) continue;
    const mine = g.subjectType === 'user' ? g.subjectId === userId : groupIds.has(g.subjectId);
    if (mine) role = higher(role, g.role);
  }
  return role;
}
