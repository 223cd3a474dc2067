/**
 * Client for classification labels (src/labels/labels.routes.ts, PII-01/02): the tenant's label
 * configuration, and setting labels on a file (editor) or a folder (manager).
 */
import { ApiError, getJson, putJson } from '../../api/api-client';
import type { EffectiveLabels } from '../files/files.api';

export interface LabelConfig {
  /** Confidentiality levels, from the lowest to the highest. */
  levels: string[];
  defaultLevel: string;
  flags: string[];
  /** The label a My Number hit suggests; tenant patterns suggest their own. */
  myNumberLabel: string;
  patterns: Array<{ name: string; label: string }>;
}

let cached: Promise<LabelConfig> | null = null;

/** The tenant's labels (cached for the page's life; a failed load is tried again next time). */
export function fetchLabelConfig(): Promise<LabelConfig> {
  cached ??= (getJson('/api/v1/labels') as Promise<LabelConfig | null>).then((b) => {
    if (!b || !Array.isArray(b.levels) || !Array.isArray(b.flags)) throw new ApiError('unknown', 200);
    return b;
  });
  cached.catch(() => {
    cached = null;
  });
  return cached;
}

/** Forgets the cached configuration (after the policy page saved new labels). */
export function forgetLabelConfig(): void {
  cached = null;
}

export async function setFileLabels(fileId: string, labels: string[]): Promise<EffectiveLabels> {
  return (await putJson(`/api/v1/files/${fileId}/labels`, { labels })) as EffectiveLabels;
}

export async function setFolderLabels(folderId: string, labels: string[]): Promise<string[]> {
  return ((await putJson(`/api/v1/folders/${folderId}/labels`, { labels })) as { labels: string[] }).labels;
}

/**
 * `labels` with `label` added as the server's PII enforcement would: a level replaces a lower one
 * and never lowers one, a flag is added once (src/labels/effective-labels.ts `withLabel`).
 */
export function withLabel(config: LabelConfig, labels: readonly string[], label: string): string[] {
  if (labels.includes(label)) return [...labels];
  const rank = config.levels.indexOf(label);
  if (rank < 0) return [...labels, label];
  const current = labels.find((l) => config.levels.includes(l));
  if (current !== undefined && config.levels.indexOf(current) >= rank) return [...labels];
  return [label, ...labels.filter((l) => !config.levels.includes(l))];
}

/** Whether a file with these labels carries `label` as its level or a flag. */
export function carries(labels: EffectiveLabels, label: string): boolean {
  return labels.level === label || labels.flags.includes(label);
}

/** The labels a PII check's hits suggest, with the sentence each comes from (My Number or a named pattern). */
export function suggestions(
  config: LabelConfig,
  labels: EffectiveLabels,
  hits: Array<{ kind: string; count: number }>,
): Array<{ kind: 'my_number' | 'pattern'; name: string; label: string }> {
  const out: Array<{ kind: 'my_number' | 'pattern'; name: string; label: string }> = [];
  for (const h of hits) {
    if (h.kind === 'my_number') out.push({ kind: 'my_number', name: '', label: config.myNumberLabel });
    else if (h.kind.startsWith('pattern:')) {
      const name = h.kind.slice('pattern:'.length);
      const p = config.patterns.find((x) => x.name === name);
      if (p) out.push({ kind: 'pattern', name, label: p.label });
    }
  }
  return out.filter((s) => !carries(labels, s.label));
}
