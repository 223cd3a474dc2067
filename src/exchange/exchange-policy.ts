/**
 * The exchange rules as pure functions (TLS-03, PII-01, AC-06): recipient domains against the
 * tenant's allow/deny lists, labels that forbid a share, and why a share needs 上長承認.
 */
import type { ExchangeSettings, LabelSettings } from '../tenants/tenant-settings.js';

const EMAIL = /^[^\s@<>()",;:]+@([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+)$/;

/** Normalises an address (trimmed, domain lower-cased) or returns null when it is not one. */
export function normaliseEmail(raw: string): { email: string; domain: string } | null {
  const trimmed = raw.trim();
  const m = EMAIL.exec(trimmed);
  if (!m || trimmed.length > 254) return null;
  const domain = m[1]!.toLowerCase();
  const local = trimmed.slice(0, trimmed.length - domain.length - 1);
  return { email: `${local}@${domain}`, domain };
}

/** `example.jp` matches only itself; `*.example.jp` matches its subdomains and itself. */
export function domainMatches(domain: string, pattern: string): boolean {
  const d = domain.toLowerCase();
  const p = pattern.toLowerCase();
  if (p.startsWith('*.')) {
    const base = p.slice(2);
    return d === base || d.endsWith(`.${base}`);
  }
  return d === p;
}

/** Whether the tenant's lists let a share go to `domain`: deny wins; a non-empty allow-list must match. */
export function domainAllowed(domain: string, settings: Pick<ExchangeSettings, 'allowDomains' | 'denyDomains'>): boolean {
  if (settings.denyDomains.some((p) => domainMatches(domain, p))) return false;
  return settings.allowDomains.length === 0 || settings.allowDomains.some((p) => domainMatches(domain, p));
}

/** The labels among `labels` that forbid any share to outside parties. */
export function forbiddenLabels(labels: readonly string[], settings: Pick<LabelSettings, 'externalForbidden'>): string[] {
  return labels.filter((l) => settings.externalForbidden.includes(l));
}

/**
 * Why a share needs approval (empty = it does not): `policy` (the tenant rule is "always"),
 * `label:<l>` (a forced or rule label), `size`, `domain:<d>`. Forced labels apply even when the
 * rule is "never".
 */
export function approvalReasons(
  share: { labels: readonly string[]; totalBytes: number; domains: readonly string[] },
  exchange: Pick<ExchangeSettings, 'approval'>,
  labels: Pick<LabelSettings, 'approvalForced'>,
): string[] {
  const reasons = new Set<string>();
  const rule = exchange.approval;
  if (rule.required === 'always') reasons.add('policy');
  for (const l of share.labels) if (labels.approvalForced.includes(l)) reasons.add(`label:${l}`);
  if (rule.required === 'rules') {
    for (const l of share.labels) if (rule.labels.includes(l)) reasons.add(`label:${l}`);
    if (rule.minBytes > 0 && share.totalBytes > rule.minBytes) reasons.add('size');
    for (const d of share.domains) if (rule.domains.some((p) => domainMatches(d, p))) reasons.add(`domain:${d}`);
  }
  return [...reasons];
}

/**
 * HR-05: when exchanged copies are deleted — `days` after the later of the end (expiry, revocation)
 * and the last download, so a download never cuts short anyone's remaining time.
 */
export function deletionDate(days: number, lastDownload: string | null, endedAt: string): string {
  const from = lastDownload && lastDownload > endedAt ? lastDownload : endedAt;
  return new Date(Date.parse(from) + days * 86_400_000).toISOString();
}

/** ya***@example.jp: enough for the owner of the address to recognise it, not enough to learn it. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return '***';
  const local = email.slice(0, at);
  return `${local.slice(0, Math.min(2, local.length - 1))}***${email.slice(at)}`;
}
