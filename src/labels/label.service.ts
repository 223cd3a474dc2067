/**
 * Classification labels (PII-01) and the personal-data check of uploads (PII-02).
 *
 * Labels are set on files (editor on the folder) and folders (manager), validated against the
 * tenant's configuration, and every change writes `file.labels_changed` / `folder.labels_changed`
 * with before and after in the same transaction. The exchange reads `effective()` to apply its
 * label rules (no external share of 機密性3 or 特定個人情報, forced 上長承認).
 *
 * Every version that becomes available is queued for `checkVersion`: its text is extracted (txt,
 * csv, docx, xlsx, pptx, pdf) and checked for My Number and the tenant's patterns. A hit is recorded
 * on the version as kinds and counts only (never the text), audited as `file.pii_detected`, and,
 * per the tenant's policy, either suggested to the uploader (notice `pii.suggested`) or set on the
 * file (`file.labels_changed`, reason `pii`).
 */
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../core/clock.js';
import { systemActor, type Actor, type TenantId } from '../core/types.js';
import type { Database, Executor } from '../db/database.js';
import type { PiiState } from '../db/schema.js';
import type { BlobVault } from '../files/blob-vault.js';
import type { FileAccess } from '../files/file-access.js';
import type { FileRepository } from '../files/file.repository.js';
import type { FolderRepository } from '../files/folder.repository.js';
import type { JobQueue } from '../jobs/job-queue.js';
import type { NotificationRepository } from '../notifications/notification.repository.js';
import { extractText } from '../pii/text-extract.js';
import { SanitizeError } from '../sanitize/sanitizer.js';
import type { TenantPolicyService } from '../tenants/tenant-policy.service.js';
import type { LabelSettings } from '../tenants/tenant-settings.js';
import { carries, effectiveLabelsOf, parseLabels, validateLabels, withLabel, type EffectiveLabels } from './effective-labels.js';
import { MY_NUMBER_KIND, scanText, textExtractable, type PiiHit } from './pii-scan.js';

export type { EffectiveLabels } from './effective-labels.js';

/** The personal-data check of one version (PII-02); payload `{ versionId }`. */
export const PII_JOB = 'files.pii_check';
/** Larger files are not read for the check (`unreadable`): the extractor's own input bound. */
export const PII_MAX_BYTES = 64 * 1024 * 1024;
/** Notice kind that suggests a label to the uploader. */
export const PII_SUGGESTED = 'pii.suggested';

export interface LabelServiceDeps {
  database: Database;
  clock: Clock;
  audit: AuditLog;
  files: FileRepository;
  folders: FolderRepository;
  access: FileAccess;
  policy: TenantPolicyService;
  notifications: NotificationRepository;
  jobs: JobQueue;
  vault: BlobVault;
}

/** The tenant's label configuration as every signed-in user may read it (pattern names and labels, never their expressions). */
export interface LabelConfig {
  levels: string[];
  defaultLevel: string;
  flags: string[];
  /** What a My Number hit suggests, and what each tenant pattern suggests: the file page words its notice from these. */
  myNumberLabel: string;
  patterns: Array<{ name: string; label: string }>;
}

export interface PiiCheckResult {
  state: Exclude<PiiState, 'pending'>;
  hits: PiiHit[];
  /** Labels set on the file (policy `enforce`). */
  labelled: string[];
  /** Labels suggested to the uploader (policy `suggest`). */
  suggested: string[];
}

export class LabelService {
  constructor(private readonly deps: LabelServiceDeps) {}

  private now(): string {
    return this.deps.clock.now().toISOString();
  }

  async config(tenantId: string): Promise<LabelConfig> {
    const s = (await this.deps.policy.get(tenantId)).labels;
    return {
      levels: s.levels,
      defaultLevel: s.defaultLevel,
      flags: s.flags,
      myNumberLabel: s.myNumberLabel,
      patterns: s.patterns.map((p) => ({ name: p.name, label: p.label })),
    };
  }

  /**
   * Effective labels of files of one tenant (level, flags, own and inherited). Ids of files that do
   * not exist in the tenant are missing from the map.
   */
  async effective(tenantId: string, fileIds: string[], exec?: Executor): Promise<Map<string, EffectiveLabels>> {
    const settings = (await this.deps.policy.get(tenantId)).labels;
    const rows = [];
    for (const id of new Set(fileIds)) {
      const f = await this.deps.files.find(tenantId, id, exec);
      if (f) rows.push(f);
    }
    return effectiveLabelsOf(this.deps.folders, settings, tenantId, rows, exec);
  }

  /** Replaces a file's own labels (editor on its folder); returns its effective labels. */
  async setFileLabels(actor: Actor, fileId: string, labels: string[]): Promise<EffectiveLabels> {
    // Access first: a file the caller cannot see is 404 whatever the body says.
    await this.deps.access.requireFile(actor, fileId, 'editor');
    const settings = (await this.deps.policy.get(actor.tenantId)).labels;
    const after = validateLabels(settings, labels);
    await this.deps.database.transaction(async (trx) => {
      // Re-checked in the transaction: the role or the file may have changed meanwhile.
      const { file } = await this.deps.access.requireFile(actor, fileId, 'editor', {}, trx);
      const before = parseLabels(file.labels);
      if (sameLabels(before, after)) return;
      await this.deps.files.update(actor.tenantId, fileId, { labels: JSON.stringify(after), updated_at: this.now() }, trx);
      await this.deps.audit.append(trx, actor, {
        action: 'file.labels_changed',
        target: { type: 'file', id: fileId },
        details: { name: file.name, before, after },
      });
    });
    return (await this.effective(actor.tenantId, [fileId])).get(fileId)!;
  }

  /** Replaces a folder's own labels (manager); everything below inherits them. Returns the folder's own labels. */
  async setFolderLabels(actor: Actor, folderId: string, labels: string[]): Promise<string[]> {
    await this.deps.access.requireFolder(actor, folderId, 'manager');
    const settings = (await this.deps.policy.get(actor.tenantId)).labels;
    const after = validateLabels(settings, labels);
    await this.deps.database.transaction(async (trx) => {
      const { folder } = await this.deps.access.requireFolder(actor, folderId, 'manager', {}, trx);
      const before = parseLabels(folder.labels);
      if (sameLabels(before, after)) return;
      await this.deps.folders.update(actor.tenantId, folderId, { labels: JSON.stringify(after), updated_at: this.now() }, trx);
      await this.deps.audit.append(trx, actor, {
        action: 'folder.labels_changed',
        target: { type: 'folder', id: folderId },
        details: { name: folder.name, before, after },
      });
    });
    return after;
  }

  // ---- personal-data check (PII-02) ----

  /**
   * Checks one available version for My Number and the tenant's patterns (the PII_JOB handler).
   * Idempotent: a version no longer available, or already checked, is left alone (null). Reading
   * failures of the store throw so the job retries. A format the check does not read is
   * `unsupported`; one it reads but could not (malformed, over a limit, the extractor failed) is
   * `unreadable`, audited, and needs an approval to leave the organisation like a hit (PII-02).
   */
  async checkVersion(tenantId: TenantId, versionId: string): Promise<PiiCheckResult | null> {
    const { files, vault, database, audit } = this.deps;
    const v = await files.findVersion(tenantId, versionId);
    if (!v || v.state !== 'available' || !(v.pii_state === 'pending' || v.pii_state === null)) return null;
    const file = await files.find(tenantId, v.file_id);
    const blob = await files.findBlob(tenantId, v.blob_id);
    if (!file || !blob) return null;
    // Settings and the file's labels are read before the transaction (SQLite: one writer).
    const settings = (await this.deps.policy.get(tenantId)).labels;
    let state: PiiCheckResult['state'] = 'unsupported';
    let hits: PiiHit[] = [];
    let timedOut: string[] = [];
    let unreadable: string | null = null;
    if (textExtractable(file.name, v.detected_type)) {
      state = 'unreadable';
      unreadable = 'limit';
      if (v.size <= PII_MAX_BYTES) {
        let text: string | null = null;
        try {
          text = await extractText({ name: file.name, detectedMime: v.detected_type, open: () => vault.open(blob) });
        } catch (err) {
          if (!(err instanceof SanitizeError)) throw err;
          unreadable = err.code;
        }
        if (text !== null) {
          ({ hits, timedOut } = scanText(text, settings.patterns));
          state = hits.length ? 'hit' : 'clear';
          unreadable = null;
        }
      }
    }
    const wanted = labelsFor(settings, hits);
    const current = (await effectiveLabelsOf(this.deps.folders, settings, tenantId, [file])).get(file.id)!;
    const missing = wanted.filter((l) => !carries(current, l));
    const enforce = settings.myNumber === 'enforce';
    const actor = systemActor(tenantId, 'job:pii');
    const at = this.now();
    const result: PiiCheckResult = { state, hits, labelled: [], suggested: [] };
    await database.transaction(async (trx) => {
      const fresh = await files.findVersion(tenantId, versionId, trx);
      if (!fresh || fresh.state !== 'available' || !(fresh.pii_state === 'pending' || fresh.pii_state === null)) return;
      await files.updateVersion(
        tenantId,
        versionId,
        { pii_state: state, pii_hits: JSON.stringify(hits), pii_checked_at: at },
        trx,
        'available',
      );
      if (unreadable) {
        await audit.append(trx, actor, {
          action: 'file.pii_unreadable',
          target: { type: 'file', id: v.file_id },
          outcome: 'error',
          reason: `pii.${unreadable}`,
          details: { version: v.version, versionId, size: v.size },
        });
      }
      if (state !== 'hit') return;
      const target = { type: 'file', id: v.file_id };
      await audit.append(trx, actor, {
        action: 'file.pii_detected',
        target,
        details: {
          version: v.version,
          versionId,
          hits,
          policy: settings.myNumber,
          ...(timedOut.length ? { patternsTimedOut: timedOut } : {}),
          uploadedBy: v.uploaded_by,
        },
      });
      if (missing.length === 0) return;
      if (enforce) {
        const row = await files.find(tenantId, v.file_id, trx);
        if (!row) return;
        const before = parseLabels(row.labels);
        const after = missing.reduce((ls, l) => withLabel(settings, ls, l), before);
        if (sameLabels(before, after)) return;
        await files.update(tenantId, v.file_id, { labels: JSON.stringify(after) }, trx);
        await audit.append(trx, actor, {
          action: 'file.labels_changed',
          target,
          details: { name: row.name, before, after, reason: 'pii', kinds: hits.map((h) => h.kind) },
        });
        result.labelled = missing;
      } else {
        for (const label of missing) {
          // Which finding asks for this label (`my_number`, `pattern:<name>`), so the notice can say what was found.
          const kinds = hits.map((h) => h.kind).filter((k) => labelsFor(settings, [{ kind: k, count: 1 }]).includes(label));
          await this.deps.notifications.add(
            trx,
            tenantId,
            [v.uploaded_by],
            PII_SUGGESTED,
            { fileId: v.file_id, name: file.name, label, kinds },
            at,
          );
        }
        result.suggested = missing;
      }
    });
    return result;
  }
}

/** The labels the hits call for: the My Number label, and each hit pattern's own label. */
function labelsFor(settings: LabelSettings, hits: PiiHit[]): string[] {
  const out = new Set<string>();
  for (const h of hits) {
    if (h.kind === MY_NUMBER_KIND) out.add(settings.myNumberLabel);
    const p = settings.patterns.find((x) => `pattern:${x.name}` === h.kind);
    if (p) out.add(p.label);
  }
  return [...out];
}

function sameLabels(a: string[], b: string[]): boolean {
  const set = new Set(a);
  return set.size === new Set(b).size && b.every((x) => set.has(x));
}
