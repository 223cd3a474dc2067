import { describe, expect, it } from 'vitest';
import { AppError } from '../core/errors.js';
import { LabelSettings } from '../tenants/tenant-settings.js';
import { combineLabels, parseLabels, validateLabels, withLabel } from './effective-labels.js';

const settings = LabelSettings.parse({});

describe('effective classification labels (PII-01)', () => {
  it('takes the own level, else the nearest folder level, else the tenant default; flags add up [PII-01]', () => {
    expect(combineLabels(settings, [], [])).toEqual({ level: '機密性2', flags: [], own: [], inherited: [] });
    expect(combineLabels(settings, ['個人情報'], [['機密性1'], ['機密性3', '特定個人情報']])).toEqual({
      level: '機密性1',
      flags: ['個人情報', '特定個人情報'],
      own: ['個人情報'],
      inherited: ['機密性1', '機密性3', '特定個人情報'],
    });
    expect(combineLabels(settings, ['機密性3'], [['機密性1']]).level).toBe('機密性3');
  });

  it('accepts known labels with one level at most, in the tenant order [PII-01]', () => {
    expect(validateLabels(settings, ['特定個人情報', '機密性3', '特定個人情報'])).toEqual(['機密性3', '特定個人情報']);
    for (const bad of [
      ['機密性1', '機密性2'],
      ['社外秘'],
      Array(30)
        .fill('個人情報')
        .map((l, i) => `${l}${i}`),
    ]) {
      expect(() => validateLabels(settings, bad)).toThrow(AppError);
    }
  });

  it('adds a label without lowering a level [PII-01, PII-02]', () => {
    expect(withLabel(settings, ['機密性1', '個人情報'], '特定個人情報')).toEqual(['機密性1', '個人情報', '特定個人情報']);
    expect(withLabel(settings, ['機密性1', '個人情報'], '機密性3')).toEqual(['機密性3', '個人情報']);
    expect(withLabel(settings, ['機密性3'], '機密性2')).toEqual(['機密性3']);
  });

  it('reads stored labels defensively [PII-01]', () => {
    expect(parseLabels('["機密性1", 3]')).toEqual(['機密性1']);
    expect(parseLabels('not json')).toEqual([]);
    expect(parseLabels(null)).toEqual([]);
  });
});
