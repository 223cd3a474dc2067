import { describe, expect, it } from 'vitest';
import { redactUrl } from './request-log.js';

describe('request log', () => {
  it('[TLS-03] never writes an outside party link token', () => {
    const token = 'A'.repeat(43);
    expect(redactUrl(`/api/v1/ext/shares/${token}/files/x/content`)).toBe('/api/v1/ext/shares/***/files/x/content');
    expect(redactUrl(`/api/v1/ext/requests/${token}?a=1`)).toBe('/api/v1/ext/requests/***?a=1');
    expect(redactUrl(`/x/r/${token}`)).toBe('/x/r/***');
    expect(redactUrl('/api/v1/files/abc')).toBe('/api/v1/files/abc');
  });
});
