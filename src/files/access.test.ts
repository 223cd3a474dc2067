import { describe, expect, it } from 'vitest';
import { atLeast, effectiveRole, type GrantView, type PathNode } from './access.js';

const path: PathNode[] = [
  { id: 'sub', ownerId: 'owner', deleted: false },
  { id: 'top', ownerId: 'owner', deleted: false },
];

describe('folder roles [AC-05]', () => {
  it('makes the owner of any folder on the path its manager', () => {
    expect(effectiveRole(path, [], 'owner', new Set())).toBe('manager');
    expect(effectiveRole(path, [], 'stranger', new Set())).toBeNull();
  });

  it('inherits grants from ancestors and takes the highest of user and group grants', () => {
    const grants: GrantView[] = [
      { folderId: 'top', subjectType: 'user', subjectId: 'u', role: 'viewer' },
      { folderId: 'sub', subjectType: 'group', subjectId: 'g', role: 'editor' },
      { folderId: 'elsewhere', subjectType: 'user', subjectId: 'u', role: 'manager' },
    ];
    expect(effectiveRole(path, grants, 'u', new Set())).toBe('viewer');
    expect(effectiveRole(path, grants, 'u', new Set(['g']))).toBe('editor');
    expect(effectiveRole(path.slice(1), grants, 'u', new Set(['g']))).toBe('viewer');
    expect(effectiveRole(path, grants, 'v', new Set(['other']))).toBeNull();
  });

  it('orders roles viewer < editor < manager', () => {
    expect(atLeast('editor', 'viewer')).toBe(true);
    expect(atLeast('viewer', 'editor')).toBe(false);
    expect(atLeast(null, 'viewer')).toBe(false);
    expect(atLeast('manager', 'manager')).toBe(true);
  });
});
