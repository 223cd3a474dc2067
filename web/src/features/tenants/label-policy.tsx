/**
 * Two sections of the tenant policy page: ラベル (classification labels and personal-data detection,
 * PII-01/02) and 外部とのファイル交換 (domains, 上長承認 rules and deletion of exchanged copies; LG-03,
 * TLS-03, HR-05). Each has its form shape, conversion from and to the saved settings (ranges and
 * defaults as in src/tenants/tenant-settings.ts; the server checks everything again) and its fields.
 */
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import { Button } from '../../ui/button';
import { Checkbox, Fieldset, RadioGroup, SelectField, TextareaField, TextField } from '../../ui/form';
import type { TenantPolicy } from './policy.api';

type Errors = Partial<Record<string, string>>;

const LABEL_MAX = 40;
const DEFAULT_LEVELS = ['機密性1', '機密性2', '機密性3'];
const DEFAULT_FLAGS = ['個人情報', '要配慮個人情報', '特定個人情報'];
const LIMITS = { levels: 10, flags: 20, patterns: 50, domains: 500 } as const;
export const EXCHANGE_NUMBERS = {
  'exchange.approval.pendingHours': { min: 1, max: 720, def: 72 },
  'exchange.deleteAfterDays': { min: 1, max: 365, def: 7 },
  'exchange.maxDownloads': { min: 1, max: 100, def: 5 },
} as const;
type ExchangeNumber = keyof typeof EXCHANGE_NUMBERS;
const MiB = 1024 * 1024;
const DOMAIN = /^(\*\.)?([a-z0-9-]+\.)+[a-z0-9-]+$/;

let patternKeys = 0;

export interface PatternForm {
  key: number;
  name: string;
  regex: string;
  label: string;
}

export interface LabelPolicyForm {
  levels: string;
  defaultLevel: string;
  flags: string;
  externalForbidden: string[];
  approvalForced: string[];
  myNumber: 'suggest' | 'enforce';
  myNumberLabel: string;
  patterns: PatternForm[];
}

export interface ExchangePolicyForm {
  allowDomains: string;
  denyDomains: string;
  required: 'always' | 'rules' | 'never';
  labels: string[];
  minMb: string;
  domains: string;
  mode: 'any' | 'all';
  numbers: Record<ExchangeNumber, string>;
}

const strings = (v: unknown, def: string[] = []): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : def;
const lines = (text: string): string[] => [
  ...new Set(
    text
      .split(/\r?\n/)
      .map((l) => l.normalize('NFC').trim())
      .filter(Boolean),
  ),
];

export function labelPolicyForm(policy: TenantPolicy): LabelPolicyForm {
  const l = (policy.labels ?? {}) as Record<string, unknown>;
  const patterns = Array.isArray(l.patterns) ? (l.patterns as Array<Record<string, unknown>>) : [];
  return {
    levels: strings(l.levels, DEFAULT_LEVELS).join('\n'),
    defaultLevel: typeof l.defaultLevel === 'string' ? l.defaultLevel : '機密性2',
    flags: strings(l.flags, DEFAULT_FLAGS).join('\n'),
    externalForbidden: strings(l.externalForbidden, ['機密性3', '特定個人情報']),
    approvalForced: strings(l.approvalForced, ['個人情報', '要配慮個人情報']),
    myNumber: l.myNumber === 'enforce' ? 'enforce' : 'suggest',
    myNumberLabel: typeof l.myNumberLabel === 'string' ? l.myNumberLabel : '特定個人情報',
    patterns: patterns.map((p) => ({
      key: ++patternKeys,
      name: String(p.name ?? ''),
      regex: String(p.regex ?? ''),
      label: String(p.label ?? ''),
    })),
  };
}

export function exchangePolicyForm(policy: TenantPolicy): ExchangePolicyForm {
  const e = (policy.exchange ?? {}) as Record<string, unknown>;
  const a = (e.approval ?? {}) as Record<string, unknown>;
  const num = (v: unknown, def: number) => String(typeof v === 'number' ? v : def);
  const minBytes = typeof a.minBytes === 'number' ? a.minBytes : 0;
  return {
    allowDomains: strings(e.allowDomains).join('\n'),
    denyDomains: strings(e.denyDomains).join('\n'),
    required: a.required === 'rules' || a.required === 'never' ? a.required : 'always',
    labels: strings(a.labels),
    minMb: String(Math.round((minBytes / MiB) * 1000) / 1000),
    domains: strings(a.domains).join('\n'),
    mode: a.mode === 'all' ? 'all' : 'any',
    numbers: {
      'exchange.approval.pendingHours': num(a.pendingHours, 72),
      'exchange.deleteAfterDays': num(e.deleteAfterDays, 7),
      'exchange.maxDownloads': num(e.maxDownloads, 5),
    },
  };
}

/** Every label the form's levels and flags define (for the checkboxes and selects that pick labels). */
export function labelNames(f: LabelPolicyForm): string[] {
  return [...new Set([...lines(f.levels), ...lines(f.flags)])];
}

/** The `labels` settings from the form, or the fields' errors. */
export function labelPolicyValue(
  f: LabelPolicyForm,
  loaded: TenantPolicy,
  t: TFunction,
): { value: Record<string, unknown> | null; errors: Errors } {
  const found: Errors = {};
  const levels = lines(f.levels);
  const flags = lines(f.flags);
  const known = new Set([...levels, ...flags]);
  const badList = (list: string[], max: number, min = 0) =>
    list.length < min || list.length > max || list.some((l) => [...l].length > LABEL_MAX);
  if (badList(levels, LIMITS.levels, 1)) found['labels.levels'] = t('labelPolicy.listError', { max: LIMITS.levels });
  if (badList(flags, LIMITS.flags) || flags.some((x) => levels.includes(x)))
    found['labels.flags'] = t('labelPolicy.listError', { max: LIMITS.flags });
  if (!levels.includes(f.defaultLevel)) found['labels.defaultLevel'] = t('labelPolicy.labelMissing');
  if (!known.has(f.myNumberLabel)) found['labels.myNumberLabel'] = t('labelPolicy.labelMissing');
  f.patterns.forEach((p, i) => {
    const name = p.name.trim();
    if (!name || [...name].length > 60) found[`labels.patterns.${i}.name`] = t('labelPolicy.nameError');
    let ok = p.regex.length > 0 && p.regex.length <= 500;
    try {
      if (ok) new RegExp(p.regex, 'u');
    } catch {
      ok = false;
    }
    if (!ok) found[`labels.patterns.${i}.regex`] = t('labelPolicy.regexError');
    if (!known.has(p.label)) found[`labels.patterns.${i}.label`] = t('labelPolicy.labelMissing');
  });
  if (Object.keys(found).length) return { value: null, errors: found };
  return {
    errors: {},
    value: {
      ...(loaded.labels as object),
      levels,
      defaultLevel: f.defaultLevel,
      flags,
      externalForbidden: f.externalForbidden.filter((l) => known.has(l)),
      approvalForced: f.approvalForced.filter((l) => known.has(l)),
      myNumber: f.myNumber,
      myNumberLabel: f.myNumberLabel,
      patterns: f.patterns.map((p) => ({ name: p.name.trim(), regex: p.regex, label: p.label })),
    },
  };
}

/** The `exchange` settings from the form, or the fields' errors. */
export function exchangePolicyValue(
  f: ExchangePolicyForm,
  loaded: TenantPolicy,
  knownLabels: string[],
  t: TFunction,
): { value: Record<string, unknown> | null; errors: Errors } {
  const found: Errors = {};
  const domains = (key: string, text: string) => {
    const list = lines(text).map((d) => d.toLowerCase());
    const bad = list.find((d) => !DOMAIN.test(d));
    if (bad) found[key] = t('exchangePolicy.domainError', { value: bad });
    else if (list.length > LIMITS.domains) found[key] = t('admin.policy.rangeError', { min: 0, max: LIMITS.domains });
    return list;
  };
  const allowDomains = domains('exchange.allowDomains', f.allowDomains);
  const denyDomains = domains('exchange.denyDomains', f.denyDomains);
  const approvalDomains = domains('exchange.approval.domains', f.domains);
  const mbRaw = f.minMb.normalize('NFKC').trim();
  const mb = /^\d+(\.\d+)?$/.test(mbRaw) ? Number(mbRaw) : NaN;
  if (!(mb >= 0)) found['exchange.approval.minBytes'] = t('exchangePolicy.minBytesError');
  const numbers = {} as Record<ExchangeNumber, number>;
  for (const [path, { min, max }] of Object.entries(EXCHANGE_NUMBERS) as Array<[ExchangeNumber, { min: number; max: number }]>) {
    const raw = f.numbers[path].normalize('NFKC').trim();
    const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!(n >= min && n <= max)) found[path] = t('admin.policy.rangeError', { min, max });
    numbers[path] = n;
  }
  if (Object.keys(found).length) return { value: null, errors: found };
  return {
    errors: {},
    value: {
      ...(loaded.exchange as object),
      allowDomains,
      denyDomains,
      approval: {
        ...((loaded.exchange as { approval?: object } | undefined)?.approval ?? {}),
        required: f.required,
        labels: f.labels.filter((l) => knownLabels.includes(l)),
        minBytes: Math.round(mb * MiB),
        domains: approvalDomains,
        mode: f.mode,
        pendingHours: numbers['exchange.approval.pendingHours'],
      },
      deleteAfterDays: numbers['exchange.deleteAfterDays'],
      maxDownloads: numbers['exchange.maxDownloads'],
    },
  };
}

/** A server error path (`labels.patterns.0.regex`, `exchange.allowDomains.3`) → the field showing it. */
export function labelExchangeServerError(path: string, t: TFunction): [string, string] | null {
  const pattern = /^labels\.patterns\.(\d+)\.(name|regex|label)/.exec(path);
  if (pattern)
    return [
      `labels.patterns.${pattern[1]}.${pattern[2]}`,
      pattern[2] === 'regex'
        ? t('labelPolicy.regexError')
        : pattern[2] === 'name'
          ? t('labelPolicy.nameError')
          : t('labelPolicy.labelMissing'),
    ];
  if (/^labels\.levels/.test(path)) return ['labels.levels', t('labelPolicy.listError', { max: LIMITS.levels })];
  if (/^labels\.flags/.test(path)) return ['labels.flags', t('labelPolicy.listError', { max: LIMITS.flags })];
  if (/^labels\.defaultLevel/.test(path)) return ['labels.defaultLevel', t('labelPolicy.labelMissing')];
  if (/^labels\.myNumberLabel/.test(path)) return ['labels.myNumberLabel', t('labelPolicy.labelMissing')];
  const domain = /^exchange\.(allowDomains|denyDomains|approval\.domains)/.exec(path);
  if (domain) return [`exchange.${domain[1]}`, t('exchangePolicy.domainError', { value: '' })];
  if (path.startsWith('exchange.approval.minBytes')) return ['exchange.approval.minBytes', t('exchangePolicy.minBytesError')];
  const n = (Object.keys(EXCHANGE_NUMBERS) as ExchangeNumber[]).find((p) => path.startsWith(p));
  if (n) return [n, t('admin.policy.rangeError', EXCHANGE_NUMBERS[n])];
  return null;
}

/** Checkboxes choosing some of `options`. */
function LabelChoice({
  legend,
  hint,
  options,
  value,
  onChange,
  testId,
}: {
  legend: string;
  hint?: string;
  options: string[];
  value: string[];
  onChange: (v: string[]) => void;
  testId: string;
}) {
  return (
    <fieldset className="flex flex-col gap-1" data-testid={testId}>
      <legend className="mb-1 text-std-17B-170 text-solid-gray-900">{legend}</legend>
      {hint && <p className="text-std-16N-170 text-solid-gray-700">{hint}</p>}
      <div className="flex flex-wrap gap-x-6">
        {options.map((o) => (
          <Checkbox
            key={o}
            checked={value.includes(o)}
            onChange={(e) => onChange(e.target.checked ? [...value, o] : value.filter((x) => x !== o))}
            data-label={o}
          >
            {o}
          </Checkbox>
        ))}
      </div>
    </fieldset>
  );
}

export function LabelPolicySection({
  form,
  errors,
  onChange,
  className,
}: {
  form: LabelPolicyForm;
  errors: Errors;
  onChange: (patch: Partial<LabelPolicyForm>) => void;
  className: string;
}) {
  const { t } = useTranslation();
  const levels = lines(form.levels);
  const names = labelNames(form);
  const labelOptions = names.map((n) => ({ value: n, label: n }));
  const setPattern = (key: number, patch: Partial<PatternForm>) =>
    onChange({ patterns: form.patterns.map((p) => (p.key === key ? { ...p, ...patch } : p)) });
  return (
    <Fieldset legend={t('labelPolicy.title')} className={className} data-testid="policy-labels">
      <p className="text-std-16N-170">{t('labelPolicy.lead')}</p>
      <TextareaField
        label={t('labelPolicy.levels')}
        hint={t('labelPolicy.levelsHint')}
        required
        rows={4}
        value={form.levels}
        onChange={(e) => onChange({ levels: e.target.value })}
        error={errors['labels.levels']}
        data-testid="labels-levels"
      />
      <SelectField
        label={t('labelPolicy.defaultLevel')}
        hint={t('labelPolicy.defaultLevelHint')}
        required
        value={form.defaultLevel}
        onChange={(e) => onChange({ defaultLevel: e.target.value })}
        options={(levels.includes(form.defaultLevel) ? levels : [form.defaultLevel, ...levels]).map((l) => ({
          value: l,
          label: l,
        }))}
        error={errors['labels.defaultLevel']}
      />
      <TextareaField
        label={t('labelPolicy.flags')}
        hint={t('labelPolicy.flagsHint')}
        rows={4}
        value={form.flags}
        onChange={(e) => onChange({ flags: e.target.value })}
        error={errors['labels.flags']}
        data-testid="labels-flags"
      />
      <LabelChoice
        legend={t('labelPolicy.externalForbidden')}
        hint={t('labelPolicy.externalForbiddenHint')}
        options={names}
        value={form.externalForbidden}
        onChange={(v) => onChange({ externalForbidden: v })}
        testId="labels-external-forbidden"
      />
      <LabelChoice
        legend={t('labelPolicy.approvalForced')}
        hint={t('labelPolicy.approvalForcedHint')}
        options={names}
        value={form.approvalForced}
        onChange={(v) => onChange({ approvalForced: v })}
        testId="labels-approval-forced"
      />
      <RadioGroup
        legend={t('labelPolicy.myNumber')}
        hint={t('labelPolicy.myNumberHint')}
        name="labels.myNumber"
        value={form.myNumber}
        options={(['suggest', 'enforce'] as const).map((v) => ({ value: v, label: t(`labelPolicy.myNumberOptions.${v}`) }))}
        onChange={(v) => onChange({ myNumber: v })}
        data-testid="labels-my-number"
      />
      <SelectField
        label={t('labelPolicy.myNumberLabel')}
        required
        value={form.myNumberLabel}
        onChange={(e) => onChange({ myNumberLabel: e.target.value })}
        options={
          names.includes(form.myNumberLabel)
            ? labelOptions
            : [{ value: form.myNumberLabel, label: form.myNumberLabel }, ...labelOptions]
        }
        error={errors['labels.myNumberLabel']}
      />
      <Fieldset legend={t('labelPolicy.patterns')} size="group" data-testid="labels-patterns">
        <p className="text-std-16N-170 text-solid-gray-700">{t('labelPolicy.patternsHint')}</p>
        {form.patterns.length === 0 && <p className="text-std-16N-170">{t('labelPolicy.patternsNone')}</p>}
        {form.patterns.map((p, i) => (
          <Fieldset
            key={p.key}
            legend={t('labelPolicy.pattern', { n: i + 1 })}
            size="group"
            className="rounded-8 border border-solid-gray-420 bg-solid-gray-50 p-4"
            data-testid="labels-pattern"
          >
            <TextField
              label={t('labelPolicy.patternName')}
              required
              value={p.name}
              onChange={(e) => setPattern(p.key, { name: e.target.value })}
              error={errors[`labels.patterns.${i}.name`]}
              maxLength={60}
            />
            <TextField
              label={t('labelPolicy.patternRegex')}
              hint={t('labelPolicy.patternRegexHint')}
              required
              value={p.regex}
              onChange={(e) => setPattern(p.key, { regex: e.target.value })}
              error={errors[`labels.patterns.${i}.regex`]}
              spellCheck={false}
              className="font-mono"
              maxLength={500}
            />
            <SelectField
              label={t('labelPolicy.patternLabel')}
              required
              value={p.label}
              onChange={(e) => setPattern(p.key, { label: e.target.value })}
              options={names.includes(p.label) ? labelOptions : [{ value: p.label, label: p.label || '—' }, ...labelOptions]}
              error={errors[`labels.patterns.${i}.label`]}
            />
            <div>
              <Button
                variant="outline"
                size="md"
                onClick={() => onChange({ patterns: form.patterns.filter((x) => x.key !== p.key) })}
              >
                {t('labelPolicy.patternRemove', { n: i + 1 })}
              </Button>
            </div>
          </Fieldset>
        ))}
        {form.patterns.length < LIMITS.patterns && (
          <div>
            <Button
              variant="outline"
              size="md"
              onClick={() =>
                onChange({
                  patterns: [...form.patterns, { key: ++patternKeys, name: '', regex: '', label: form.myNumberLabel }],
                })
              }
              data-testid="labels-pattern-add"
            >
              {t('labelPolicy.patternAdd')}
            </Button>
          </div>
        )}
      </Fieldset>
    </Fieldset>
  );
}

export function ExchangePolicySection({
  form,
  labels,
  errors,
  onChange,
  className,
}: {
  form: ExchangePolicyForm;
  /** The labels the label section defines now (for the approval rule). */
  labels: string[];
  errors: Errors;
  onChange: (patch: Partial<ExchangePolicyForm>) => void;
  className: string;
}) {
  const { t } = useTranslation();
  const numberField = (path: ExchangeNumber, label: string, hint: string) => {
    const { min, max, def } = EXCHANGE_NUMBERS[path];
    return (
      <TextField
        label={label}
        hint={`${hint} ${t('admin.policy.range', { min, max, def })}`}
        required
        inputMode="numeric"
        value={form.numbers[path]}
        onChange={(e) => onChange({ numbers: { ...form.numbers, [path]: e.target.value } })}
        error={errors[path]}
        className="max-w-40"
        name={path}
      />
    );
  };
  return (
    <Fieldset legend={t('exchangePolicy.title')} className={className} data-testid="policy-exchange">
      <p className="text-std-16N-170">{t('exchangePolicy.lead')}</p>
      <TextareaField
        label={t('exchangePolicy.allowDomains')}
        hint={t('exchangePolicy.allowDomainsHint')}
        rows={4}
        value={form.allowDomains}
        onChange={(e) => onChange({ allowDomains: e.target.value })}
        error={errors['exchange.allowDomains']}
        spellCheck={false}
        className="font-mono"
      />
      <TextareaField
        label={t('exchangePolicy.denyDomains')}
        hint={t('exchangePolicy.denyDomainsHint')}
        rows={4}
        value={form.denyDomains}
        onChange={(e) => onChange({ denyDomains: e.target.value })}
        error={errors['exchange.denyDomains']}
        spellCheck={false}
        className="font-mono"
      />
      <RadioGroup
        legend={t('exchangePolicy.required')}
        hint={t('exchangePolicy.requiredHint')}
        name="exchange.approval.required"
        value={form.required}
        options={(['always', 'rules', 'never'] as const).map((v) => ({
          value: v,
          label: t(`exchangePolicy.requiredOptions.${v}`),
        }))}
        onChange={(v) => onChange({ required: v })}
        data-testid="exchange-required"
      />
      {form.required === 'rules' && (
        <Fieldset legend={t('exchangePolicy.requiredOptions.rules')} size="group" className="rounded-8 bg-solid-gray-50 p-4">
          <LabelChoice
            legend={t('exchangePolicy.labels')}
            options={labels}
            value={form.labels}
            onChange={(v) => onChange({ labels: v })}
            testId="exchange-approval-labels"
          />
          <TextField
            label={t('exchangePolicy.minBytes')}
            hint={t('exchangePolicy.minBytesHint')}
            inputMode="decimal"
            value={form.minMb}
            onChange={(e) => onChange({ minMb: e.target.value })}
            error={errors['exchange.approval.minBytes']}
            className="max-w-40"
          />
          <TextareaField
            label={t('exchangePolicy.domains')}
            hint={t('exchangePolicy.domainsHint')}
            rows={3}
            value={form.domains}
            onChange={(e) => onChange({ domains: e.target.value })}
            error={errors['exchange.approval.domains']}
            spellCheck={false}
            className="font-mono"
          />
        </Fieldset>
      )}
      {form.required !== 'never' && (
        <RadioGroup
          legend={t('exchangePolicy.mode')}
          name="exchange.approval.mode"
          value={form.mode}
          options={(['any', 'all'] as const).map((v) => ({ value: v, label: t(`exchangePolicy.modeOptions.${v}`) }))}
          onChange={(v) => onChange({ mode: v })}
          data-testid="exchange-mode"
        />
      )}
      {numberField('exchange.approval.pendingHours', t('exchangePolicy.pendingHours'), t('exchangePolicy.pendingHoursHint'))}
      {numberField('exchange.deleteAfterDays', t('exchangePolicy.deleteAfterDays'), t('exchangePolicy.deleteAfterDaysHint'))}
      {numberField('exchange.maxDownloads', t('exchangePolicy.maxDownloads'), t('exchangePolicy.maxDownloadsHint'))}
    </Fieldset>
  );
}
