/**
 * Classification labels (PII-01): what a file carries once its folders are taken into account. A
 * file has at most one level (機密性1/2/3 by default) and any number of flags (個人情報, …); folders
 * pass theirs down to everything below them. The level is the file's own, else the nearest folder's,
 * else the tenant's default (HR-04: every file has a level); the flags are the union of the file's
 * and every ancestor's. Pure apart from the folder walk, so the file DTO and the exchange rules
 * compute labels the same way.
 */
import { AppError } from '../core/errors.js';
import type { Executor } from '../db/database.js';
import type { FileRow } from '../files/file.repository.js';
import type { FolderRepository, FolderRow } from '../files/folder.repository.js';
import type { LabelSettings } from '../tenants/tenant-settings.js';

export interface EffectiveLabels {
  /** The level that applies: own, else the nearest folder's, else the tenant default. */
  level: string;
  /** Every flag of the file and of the folders above it (labels that are not levels count as flags). */
  flags: string[];
  /** Labels set on the file itself. */
  own: string[];
  /** Labels set on the folders above it, nearest first. */
  inherited: string[];
}

/** At most this many labels on one file or folder (a level and the flags). */
export const MAX_LABELS = 21;

/** A stored label column (JSON text array); anything unreadable counts as no labels. */
export function parseLabels(json: string | null | undefined): string[] {
  if (!json) return [];
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * The labels a user asked for, checked against the tenant's configuration: every value a known
 * level or flag, at most one level, duplicates removed. Throws `label.invalid` otherwise.
 */
export function validateLabels(settings: LabelSettings, labels: readonly string[]): string[] {
  const out = [...new Set(labels.map((l) => l.trim()))];
  const unknown = out.filter((l) => !settings.levels.includes(l) && !settings.flags.includes(l));
  if (unknown.length) throw new AppError('label.invalid', `unknown: ${unknown.join(', ').slice(0, 200)}`);
  if (out.filter((l) => settings.levels.includes(l)).length > 1) throw new AppError('label.invalid', 'more than one level');
  if (out.length > MAX_LABELS) throw new AppError('label.invalid', 'too many labels');
  // Level first, then flags in the tenant's order: stable for audit before/after comparisons.
  return [...settings.levels.filter((l) => out.includes(l)), ...settings.flags.filter((l) => out.includes(l))];
}

/**
 * `labels` with `label` added. A level replaces a lower own level (levels are listed from the least
 * to the most confidential) and never lowers one; a flag is added once.
 */
export function withLabel(settings: LabelSettings, labels: readonly string[], label: string): string[] {
  if (labels.includes(label)) return [...labels];
  const rank = settings.levels.indexOf(label);
  if (rank < 0) return [...labels, label];
  const current = labels.find((l) => settings.levels.includes(l));
  if (current !== undefined && settings.levels.indexOf(current) >= rank) return [...labels];
  return [label, ...labels.filter((l) => !settings.levels.includes(l))];
}

/** Effective labels from the file's own labels and its folder chain (nearest first). */
export function combineLabels(settings: LabelSettings, own: string[], chain: string[][]): EffectiveLabels {
  const isLevel = (l: string) => settings.levels.includes(l);
  const inherited = [...new Set(chain.flat())];
  const level = [own, ...chain].map((ls) => ls.find(isLevel)).find((l) => l !== undefined) ?? settings.defaultLevel;
  const flags = [...new Set([...own, ...inherited].filter((l) => !isLevel(l)))];
  return { level, flags, own, inherited };
}

/** Whether a file with these effective labels carries `label` (as its level or a flag). */
export function carries(labels: EffectiveLabels, label: string): boolean {
  return labels.level === label || labels.flags.includes(label);
}

/**
 * Effective labels of many files, walking each distinct folder chain once (a folder listing has one).
 * Files whose folder chain cannot be read get their own labels and the tenant default.
 */
export async function effectiveLabelsOf(
  folders: FolderRepository,
  settings: LabelSettings,
  tenantId: string,
  files: ReadonlyArray<Pick<FileRow, 'id' | 'folder_id' | 'labels'>>,
  exec?: Executor,
): Promise<Map<string, EffectiveLabels>> {
  const chains = new Map<string, string[][]>();
  const out = new Map<string, EffectiveLabels>();
  for (const f of files) {
    let chain = chains.get(f.folder_id);
    if (!chain) {
      const path: FolderRow[] = await folders.path(tenantId, f.folder_id, exec);
      chain = path.map((p) => parseLabels(p.labels));
      // Every folder on the path has the rest of the path as its own chain.
      path.forEach((p, i) => {
        if (!chains.has(p.id)) chains.set(p.id, chain!.slice(i));
      });
      chains.set(f.folder_id, chain);
    }
    out.set(f.id, combineLabels(settings, parseLabels(f.labels), chain));
  }
  return out;
}
