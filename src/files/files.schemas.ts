/** API shapes of the files capability (zod), shared by routes, OpenAPI and the web UI. */
import { z } from 'zod';

export const FolderRoleSchema = z.enum(['viewer', 'editor', 'manager']);
export const VersionStateSchema = z.enum(['held', 'available', 'quarantined', 'blocked', 'damaged']);
export const OnConflictSchema = z.enum(['error', 'keep_both']);

export const FolderRef = z.object({ id: z.string(), name: z.string() });

export const FolderDto = z.object({
  id: z.string(),
  parentId: z.string().nullable(),
  name: z.string(),
  ownerId: z.string(),
  ownerName: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** The caller's effective role on this folder. */
  role: FolderRoleSchema,
  /** Classification labels set on the folder itself (PII-01); everything below inherits them. */
  labels: z.array(z.string()),
});
export type FolderDto = z.infer<typeof FolderDto>;

export const VersionDto = z.object({
  id: z.string(),
  version: z.number().int(),
  size: z.number().int(),
  sha256: z.string(),
  contentType: z.string(),
  /** held = ウイルス検査待ち; available; quarantined = 隔離; damaged = 破損 (integrity check failed). */
  state: VersionStateSchema,
  scan: z.object({
    engine: z.string().nullable(),
    engineVersion: z.string().nullable(),
    result: z.string().nullable(),
    signature: z.string().nullable(),
    attempts: z.number().int(),
    at: z.string().nullable(),
  }),
  originZone: z.string(),
  uploadedBy: z.string(),
  uploadedByName: z.string().nullable(),
  createdAt: z.string(),
  /** Type detected from the content (MAL-06). */
  detectedType: z.string().nullable(),
  /** Why a version is held or blocked: type_blocked, type_mismatch, encrypted, unscannable, infected. */
  holdReason: z.string().nullable(),
  /** 無害化 of an internet-origin version (MAL-07/08): the rebuilt file LGWAN receives, and what was removed. */
  sanitize: z
    .object({
      state: z.enum(['pending', 'sanitised', 'sanitised_with_loss', 'failed', 'blocked']),
      name: z.string().nullable(),
      size: z.number().int().nullable(),
      sha256: z.string().nullable(),
      contentType: z.string().nullable(),
      engine: z.string().nullable(),
      removed: z.array(z.object({ kind: z.string(), count: z.number().int(), detail: z.string().optional() })),
      reason: z.string().nullable(),
    })
    .nullable(),
  /** Released from quarantine or review by an administrator (MAL-03, MAL-10 warning). */
  released: z.object({ at: z.string(), by: z.string().nullable(), reason: z.string().nullable() }).nullable(),
});
export type VersionDto = z.infer<typeof VersionDto>;

export const EffectiveLabelsDto = z.object({
  /** The level that applies: the file's own, else the nearest folder's, else the tenant default. */
  level: z.string(),
  /** Flags of the file and every folder above it. */
  flags: z.array(z.string()),
  /** Labels set on the file itself. */
  own: z.array(z.string()),
  /** Labels set on the folders above it, nearest first. */
  inherited: z.array(z.string()),
});
export const PiiStateSchema = z.enum(['pending', 'clear', 'hit', 'unsupported', 'unreadable']);

export const FileDto = z.object({
  id: z.string(),
  folderId: z.string(),
  name: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** The newest version, whatever its state (its state is the file's badge). */
  latest: VersionDto,
  /** The newest version that can be downloaded, if any. */
  availableVersion: z.number().int().nullable(),
  deletedAt: z.string().nullable(),
  /** Classification labels (PII-01): the level and flags that apply, and where they come from. */
  labels: EffectiveLabelsDto,
  /** The personal-data check of the newest version (PII-02); null state = not checked (e.g. still held). */
  pii: z.object({
    state: PiiStateSchema.nullable(),
    hits: z.array(z.object({ kind: z.string(), count: z.number().int() })),
  }),
});
export type FileDto = z.infer<typeof FileDto>;

export const FileDetailDto = FileDto.extend({ versions: z.array(VersionDto), path: z.array(FolderRef), role: FolderRoleSchema });

export const FolderListing = z.object({
  folder: FolderDto,
  /** From the top-level folder down to this one. */
  path: z.array(FolderRef),
  folders: z.array(FolderDto),
  files: z.array(FileDto),
});
export type FolderListing = z.infer<typeof FolderListing>;

export const RootsReply = z.object({ folders: z.array(FolderDto) });

export const CreateFolderBody = z.object({
  parentId: z.uuid().nullable(),
  name: z.string().max(1000),
  onConflict: OnConflictSchema.default('error'),
});
export const UpdateFolderBody = z
  .object({ name: z.string().max(1000).optional(), parentId: z.uuid().optional() })
  .refine((b) => b.name !== undefined || b.parentId !== undefined, 'name or parentId');
export const UpdateFileBody = z
  .object({ name: z.string().max(1000).optional(), folderId: z.uuid().optional(), onConflict: OnConflictSchema.default('error') })
  .refine((b) => b.name !== undefined || b.folderId !== undefined, 'name or folderId');
export const CopyFileBody = z.object({
  folderId: z.uuid(),
  name: z.string().max(1000).optional(),
  onConflict: OnConflictSchema.default('keep_both'),
});

export const GrantDto = z.object({
  id: z.string(),
  folderId: z.string(),
  /** Set when the grant is on an ancestor: it is inherited here and changed there. */
  inheritedFrom: FolderRef.nullable(),
  subjectType: z.enum(['user', 'group']),
  subjectId: z.string(),
  subjectName: z.string(),
  role: FolderRoleSchema,
  grantedBy: z.string(),
  createdAt: z.string(),
});
export const PermissionsReply = z.object({
  owner: z.object({ id: z.string(), name: z.string().nullable(), loginId: z.string().nullable() }),
  grants: z.array(GrantDto),
});
export const GrantBody = z.object({
  subjectType: z.enum(['user', 'group']),
  subjectId: z.uuid(),
  role: FolderRoleSchema,
});

export const TrashItemDto = z.object({
  kind: z.enum(['file', 'folder']),
  id: z.string(),
  name: z.string(),
  /** Where it was (the parent folder); null for a top-level folder. */
  parent: FolderRef.nullable(),
  deletedAt: z.string(),
  deletedBy: z.string().nullable(),
  deletedByName: z.string().nullable(),
  /** When the purge job removes it for good. */
  purgeAfter: z.string(),
  size: z.number().int().nullable(),
});
export const TrashReply = z.object({ items: z.array(TrashItemDto), trashDays: z.number().int() });
export const RestoreBody = z.object({ onConflict: OnConflictSchema.default('error') });

export const QuotaReply = z.object({
  tenant: z.object({ usedBytes: z.number(), limitBytes: z.number() }),
  user: z.object({ usedBytes: z.number(), limitBytes: z.number() }),
  maxFileBytes: z.number(),
});

export const DirectoryUserDto = z.object({ id: z.string(), loginId: z.string(), displayName: z.string() });
export const DirectoryReply = z.object({
  users: z.array(DirectoryUserDto),
  groups: z.array(z.object({ id: z.string(), name: z.string() })),
});
