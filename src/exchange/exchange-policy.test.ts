import { describe, expect, it } from 'vitest';
import { ExchangeSettings, LabelSettings } from '../tenants/tenant-settings.js';
import {
  approvalReasons,
  deletionDate,
  domainAllowed,
  domainMatches,
  forbiddenLabels,
  maskEmail,
  normaliseEmail,
} from './exchange-policy.js';

const exchange = ExchangeSettings.parse({});
const labels = LabelSettings.parse({});

describe('exchange policy', () => {
  it('[TLS-03] normalises addresses and refuses what is not one', () => {
    expect(normaliseEmail(' Taro@Example.JP ')).toEqual({ email: 'Taro@example.jp', domain: 'example.jp' });
    for (const bad of ['taro', 'taro@', '@example.jp', 'a b@example.jp', 'taro@localhost', 'x@y@example.jp'])
      expect(normaliseEmail(bad)).toBeNull();
  });

  it('[TLS-03] matches domains exactly, and subdomains only with *.', () => {
    expect(domainMatches('example.jp', 'example.jp')).toBe(true);
    expect(domainMatches('city.example.jp', 'example.jp')).toBe(false);
    expect(domainMatches('city.example.jp', '*.example.jp')).toBe(true);
    expect(domainMatches('badexample.jp', '*.example.jp')).toBe(false);
  });

  it('[TLS-03] deny wins over allow; a non-empty allow-list is exclusive', () => {
    expect(domainAllowed('a.jp', { allowDomains: [], denyDomains: [] })).toBe(true);
    expect(domainAllowed('a.jp', { allowDomains: [], denyDomains: ['a.jp'] })).toBe(false);
    expect(domainAllowed('b.jp', { allowDomains: ['a.jp'], denyDomains: [] })).toBe(false);
    expect(domainAllowed('x.a.jp', { allowDomains: ['*.a.jp'], denyDomains: ['x.a.jp'] })).toBe(false);
  });

  it('[PII-01] 機密性3 and 特定個人情報 forbid an external share by default', () => {
    expect(forbiddenLabels(['機密性2', '個人情報'], labels)).toEqual([]);
    expect(forbiddenLabels(['機密性3'], labels)).toEqual(['機密性3']);
    expect(forbiddenLabels(['機密性1', '特定個人情報'], labels)).toEqual(['特定個人情報']);
  });

  it('[LG-03] approval: always by default; forced by 個人情報 even when the rule is never', () => {
    const share = { labels: ['機密性2'], totalBytes: 10, domains: ['a.jp'] };
    expect(approvalReasons(share, exchange, labels)).toEqual(['policy']);
    const never = ExchangeSettings.parse({ approval: { required: 'never' } });
    expect(approvalReasons(share, never, labels)).toEqual([]);
    expect(approvalReasons({ ...share, labels: ['個人情報'] }, never, labels)).toEqual(['label:個人情報']);
  });

  it('[LG-03] approval rules by label, size and domain', () => {
    const rules = ExchangeSettings.parse({
      approval: { required: 'rules', labels: ['機密性2'], minBytes: 100, domains: ['*.example.com'] },
    });
    expect(approvalReasons({ labels: ['機密性1'], totalBytes: 100, domains: ['a.jp'] }, rules, labels)).toEqual([]);
    expect(approvalReasons({ labels: ['機密性2'], totalBytes: 101, domains: ['x.example.com'] }, rules, labels)).toEqual([
      'label:機密性2',
      'size',
      'domain:x.example.com',
    ]);
  });

  it('[HR-05] deletes N days after the later of the end and the last download', () => {
    const end = '2026-12-01T00:00:00.000Z';
    expect(deletionDate(7, null, end)).toBe('2026-12-08T00:00:00.000Z');
    expect(deletionDate(7, '2026-11-20T00:00:00.000Z', end)).toBe('2026-12-08T00:00:00.000Z');
    expect(deletionDate(7, '2026-12-03T12:00:00.000Z', end)).toBe('2026-12-10T12:00:00.000Z');
  });

  it('masks addresses', () => {
    expect(maskEmail('yamada@example.jp')).toBe('ya***@example.jp');
    expect(maskEmail('a@example.jp')).toBe('***@example.jp');
  });
});
