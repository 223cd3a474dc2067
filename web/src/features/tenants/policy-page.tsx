/**
 * The tenant's security policy for tenant admins (AC-09, AC-10, AC-13, AC-16, AC-17, AC-01):
 * password rules, session limits, MFA, IP allow-lists per zone and role, the two-person rule for
 * registrations, the login banner, and the malware and 無害化 rules (MAL-03 … MAL-10: types refused
 * by their content, mismatched, encrypted and unsupported files, internet → LGWAN 無害化, how long
 * originals are kept, the two-person rule for releases, guidance for staff), classification labels and
 * personal-data detection (PII-01/02) and file exchange with outside parties (label-policy.tsx). Every number shows its allowed range; the form is checked
 * here first and then by the server, whose failing paths are shown on the fields. Saving is a
 * sensitive change and may ask for step-up. Auditors see only the export of the authentication
 * policy (the server lets them export it but not read or change the settings).
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, downloadFile, errorCode, postJson } from '../../api/api-client';
import { useDocumentTitle } from '../../app/use-document-title';
import { Button } from '../../ui/button';
import { Checkbox, Fieldset, RadioGroup, SelectField, TextareaField, TextField } from '../../ui/form';
import { ErrorBanner, SuccessBanner } from '../../ui/messages';
import { formatDateTime } from '../../i18n/format';
import { currentLanguage } from '../../i18n/i18n';
import { NotificationBanner } from '../../ui/notification-banner';
import { PageHeading } from '../../ui/page-heading';
import { ROLES, type Zone } from '../identity/identity.api';
import { useMe } from '../identity/session';

type TenantRole = (typeof ROLES)[number];
import { StepUpCancelled, useStepUp } from '../identity/step-up';
import {
  fetchPolicy,
  parseTotpAlgorithm,
  savePolicy,
  TOTP_ALGORITHMS,
  type TenantPolicy,
  type TotpAlgorithm,
} from './policy.api';
import { forgetLabelConfig } from '../labels/labels.api';
import {
  ExchangePolicySection,
  exchangePolicyForm,
  exchangePolicyValue,
  labelExchangeServerError,
  labelNames,
  LabelPolicySection,
  labelPolicyForm,
  labelPolicyValue,
  type ExchangePolicyForm,
  type LabelPolicyForm,
} from './label-policy';

/** Ranges and defaults as in src/tenants/tenant-settings.ts (the server checks them again). */
const NUMBER_FIELDS = {
  'password.minLengthWithMfa': { min: 8, max: 64, def: 8 },
  'password.minLengthPasswordOnly': { min: 12, max: 64, def: 15 },
  'password.maxLength': { min: 64, max: 1024, def: 128 },
  'password.characterClasses': { min: 0, max: 4, def: 0 },
  'password.history': { min: 0, max: 24, def: 5 },
  'password.validityDays': { min: 0, max: 730, def: 0 },
  'password.expiryWarningDays': { min: 0, max: 60, def: 14 },
  'password.lockoutThreshold': { min: 3, max: 100, def: 10 },
  'session.idleMinutes': { min: 5, max: 480, def: 30 },
  'session.absoluteHours': { min: 1, max: 24, def: 12 },
  'session.stepUpMinutes': { min: 1, max: 60, def: 10 },
} as const;
type NumberPath = keyof typeof NUMBER_FIELDS;
const NUMBER_PATHS = Object.keys(NUMBER_FIELDS) as NumberPath[];
const LOGIN_BANNER_MAX = 2000;
const ZONES: readonly Zone[] = ['lgwan', 'internet'];

interface RuleForm {
  key: number;
  zone: Zone;
  roles: TenantRole[];
  cidrs: string;
}

const FEATURES = [
  'external_sharing',
  'public_links',
  'upload_requests',
  'password_only_links',
  'api_tokens',
  'downloads',
] as const;
type Feature = (typeof FEATURES)[number];
const FEATURE_DEFAULTS: Record<Feature, boolean> = {
  external_sharing: true,
  public_links: false,
  upload_requests: true,
  password_only_links: false,
  api_tokens: false,
  downloads: true,
};
/** Extra numbers (features, inactivity), ranges as in src/tenants/tenant-settings.ts. */
const EXTRA_NUMBERS = {
  'features.maxLinkExpiryDays': { min: 1, max: 365, def: 30 },
  'features.maxApiTokenDays': { min: 1, max: 365, def: 90 },
  'inactivity.days': { min: 7, max: 730, def: 90 },
} as const;
type ExtraPath = keyof typeof EXTRA_NUMBERS;
const EXTRA_PATHS = Object.keys(EXTRA_NUMBERS) as ExtraPath[];
const ACCEPTABLE_USE_MAX = 20_000;

/** Block-list categories and the malware defaults, as in src/malware/true-type.ts and src/tenants/tenant-settings.ts. */
const TYPE_CATEGORIES = [
  'executable',
  'script',
  'shortcut',
  'disk_image',
  'html',
  'archive',
  'office_macro',
  'office',
  'pdf',
  'image',
  'text',
  'media',
  'other',
] as const;
type TypeCategory = (typeof TYPE_CATEGORIES)[number];
const isTypeCategory = (c: unknown): c is TypeCategory => (TYPE_CATEGORIES as readonly unknown[]).includes(c);
const DEFAULT_BLOCKED: TypeCategory[] = ['executable', 'script', 'shortcut', 'disk_image', 'html'];
const RETENTION = { min: 1, max: 365, def: 14 } as const;
const GUIDANCE_MAX = 4000;
type HoldOrBlock = 'hold' | 'block';

interface MalwareForm {
  blockedTypes: TypeCategory[];
  typeMismatch: HoldOrBlock;
  encrypted: HoldOrBlock;
  sanitiseInternetToLgwan: boolean;
  unsupported: HoldOrBlock;
  pdfMode: 'standard' | 'strict';
  originalRetentionDays: string;
  twoPersonRelease: boolean;
  guidance: string;
}

function malwareForm(policy: TenantPolicy): MalwareForm {
  const m = (policy.malware ?? {}) as Partial<Record<keyof MalwareForm, unknown>>;
  const choice = (v: unknown, def: HoldOrBlock): HoldOrBlock => (v === 'hold' || v === 'block' ? v : def);
  return {
    blockedTypes: Array.isArray(m.blockedTypes) ? m.blockedTypes.filter(isTypeCategory) : [...DEFAULT_BLOCKED],
    typeMismatch: choice(m.typeMismatch, 'hold'),
    encrypted: choice(m.encrypted, 'block'),
    sanitiseInternetToLgwan: typeof m.sanitiseInternetToLgwan === 'boolean' ? m.sanitiseInternetToLgwan : true,
    unsupported: choice(m.unsupported, 'block'),
    pdfMode: m.pdfMode === 'strict' ? 'strict' : 'standard',
    originalRetentionDays: String(typeof m.originalRetentionDays === 'number' ? m.originalRetentionDays : RETENTION.def),
    twoPersonRelease: m.twoPersonRelease === true,
    guidance: typeof m.guidance === 'string' ? m.guidance : '',
  };
}

interface DeviceRuleForm {
  on: boolean;
  roles: TenantRole[];
}

interface Features {
  lgwan: Record<Feature, boolean>;
  internet: Record<Feature, boolean>;
  maxLinkExpiryDays: number;
  maxApiTokenDays: number;
}

interface PolicyForm {
  features: Record<Zone, Record<Feature, boolean>>;
  extra: Record<ExtraPath, string>;
  autoSuspend: boolean;
  acceptableUse: string;
  caPem: string;
  /** Revoked device certificates' serial numbers, one per line. */
  revokedSerials: string;
  deviceRules: Record<Zone, DeviceRuleForm>;
  /** The policy as loaded; sections this page does not edit are saved back unchanged. */
  loaded: TenantPolicy;
  numbers: Record<NumberPath, string>;
  requiredForAll: boolean;
  totpAlgorithm: TotpAlgorithm;
  ipRules: RuleForm[];
  twoPersonRule: boolean;
  loginBanner: string;
  malware: MalwareForm;
  labels: LabelPolicyForm;
  exchange: ExchangePolicyForm;
}

let ruleKeys = 0;

function numberAt(policy: TenantPolicy, path: NumberPath): number {
  const [section, field] = path.split('.') as ['password' | 'session', string];
  return (policy[section] as unknown as Record<string, number>)[field] ?? NUMBER_FIELDS[path].def;
}

function toForm(policy: TenantPolicy): PolicyForm {
  const features = (policy.features ?? {}) as Partial<Features>;
  const inactivity = (policy.inactivity ?? {}) as { days?: number; autoSuspend?: boolean };
  const acceptableUse = (policy.acceptableUse ?? {}) as { text?: string };
  const deviceCerts = (policy.deviceCerts ?? {}) as {
    caPem?: string;
    requiredFor?: Array<{ zone: Zone; roles: TenantRole[] }>;
    revokedSerials?: string[];
  };
  const rules = deviceCerts.requiredFor ?? [];
  const deviceRule = (zone: Zone): DeviceRuleForm => {
    const mine = rules.filter((r) => r.zone === zone);
    const roles = mine.some((r) => r.roles.length === 0) ? [] : [...new Set(mine.flatMap((r) => r.roles))];
    return { on: mine.length > 0, roles };
  };
  return {
    features: {
      lgwan: { ...FEATURE_DEFAULTS, ...features.lgwan },
      internet: { ...FEATURE_DEFAULTS, ...features.internet },
    },
    extra: {
      'features.maxLinkExpiryDays': String(features.maxLinkExpiryDays ?? 30),
      'features.maxApiTokenDays': String(features.maxApiTokenDays ?? 90),
      'inactivity.days': String(inactivity.days ?? 90),
    },
    autoSuspend: inactivity.autoSuspend ?? false,
    acceptableUse: acceptableUse.text ?? '',
    caPem: deviceCerts.caPem ?? '',
    revokedSerials: (deviceCerts.revokedSerials ?? []).join('\n'),
    deviceRules: { lgwan: deviceRule('lgwan'), internet: deviceRule('internet') },
    loaded: policy,
    numbers: Object.fromEntries(NUMBER_PATHS.map((p) => [p, String(numberAt(policy, p))])) as Record<NumberPath, string>,
    requiredForAll: policy.mfa.requiredForAll,
    totpAlgorithm: policy.mfa.totpAlgorithm,
    ipRules: policy.ipRules.map((r) => ({ key: ++ruleKeys, zone: r.zone, roles: [...r.roles], cidrs: r.cidrs.join('\n') })),
    twoPersonRule: policy.twoPersonRule,
    loginBanner: policy.loginBanner,
    malware: malwareForm(policy),
    labels: labelPolicyForm(policy),
    exchange: exchangePolicyForm(policy),
  };
}

function isCidr(value: string): boolean {
  const [addr = '', bits, ...rest] = value.split('/');
  if (rest.length) return false;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(addr);
  const v6 = !v4 && /^[0-9a-f:.]+$/i.test(addr) && addr.includes(':');
  if (v4 && v4.slice(1).some((o) => Number(o) > 255)) return false;
  if (!v4 && !v6) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (v4 ? 32 : 128);
}

function cidrLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
}

type Errors = Partial<Record<string, string>>;

/** A pending request to turn the two-person rule off, as the server records it. */
function isOffRequest(v: unknown): v is { by: string; at: string } {
  return typeof v === 'object' && v !== null && typeof (v as { at?: unknown }).at === 'string';
}

export function PolicyPage() {
  const { t } = useTranslation();
  useDocumentTitle(t('admin.policy.title'));
  return useMe().user.role === 'tenant_admin' ? <PolicyEditor /> : <PolicyExportOnly />;
}

/** What an auditor sees: the export alone (the server refuses them the settings themselves). */
function PolicyExportOnly() {
  const { t } = useTranslation();
  const { run, dialog } = useStepUp();
  return (
    <div className="flex flex-col gap-8">
      <div className="flex flex-col gap-4">
        <PageHeading>{t('admin.policy.title')}</PageHeading>
        <p className="text-std-16N-170" data-testid="policy-read-only">
          {t('admin.policy.readOnly')}
        </p>
      </div>
      <PolicyExport run={run} />
      {dialog}
    </div>
  );
}

/** 認証ポリシーの出力 (PDF or JSON), for admins and auditors; the server asks for step-up (through `run`). */
function PolicyExport({ run }: { run: <T>(action: () => Promise<T>) => Promise<T> }) {
  const { t } = useTranslation();
  const [exporting, setExporting] = useState<'pdf' | 'json' | null>(null);
  const [exportError, setExportError] = useState<{ code: string; n: number } | null>(null);

  async function exportPolicy(format: 'pdf' | 'json') {
    if (exporting) return;
    setExporting(format);
    try {
      await run(() => downloadFile(`/api/v1/admin/auth-policy/export?format=${format}`, `auth-policy.${format}`));
      setExportError(null);
    } catch (err) {
      if (!(err instanceof StepUpCancelled)) setExportError((e) => ({ code: errorCode(err), n: (e?.n ?? 0) + 1 }));
    } finally {
      setExporting(null);
    }
  }

  return (
    <section aria-labelledby="policy-export" className="flex flex-col gap-4" data-testid="policy-export">
      <h2 id="policy-export" className="text-std-20B-150 text-solid-gray-900">
        {t('admin.policy.exportTitle')}
      </h2>
      <p className="text-std-16N-170">{t('admin.policy.exportLead')}</p>
      {exportError && <ErrorBanner key={exportError.n} title={t('admin.policy.exportErrorTitle')} code={exportError.code} />}
      <div className="flex flex-wrap gap-4">
        <Button variant="outline" size="md" busy={exporting === 'pdf'} onClick={() => void exportPolicy('pdf')}>
          {t('admin.policy.exportPdf')}
        </Button>
        <Button variant="outline" size="md" busy={exporting === 'json'} onClick={() => void exportPolicy('json')}>
          {t('admin.policy.exportJson')}
        </Button>
      </div>
    </section>
  );
}

function PolicyEditor() {
  const { t } = useTranslation();
  const { run, dialog } = useStepUp();
  const [form, setForm] = useState<PolicyForm | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [errors, setErrors] = useState<Errors>({});
  const [outcome, setOutcome] = useState<{
    kind: 'saved' | 'offRequested' | 'error';
    code?: string;
    paths?: readonly string[];
    n: number;
  } | null>(null);
  const [busy, setBusy] = useState(false);
  const counter = useRef(0);

  useEffect(() => {
    fetchPolicy()
      .then((policy) => setForm(toForm(policy)))
      .catch((err: unknown) => setLoadError(errorCode(err)));
  }, []);

  if (!form) {
    return (
      <div className="flex flex-col gap-6">
        <PageHeading>{t('admin.policy.title')}</PageHeading>
        {loadError ? <ErrorBanner title={t('app.loadErrorTitle')} code={loadError} focus={false} /> : <p>{t('app.loading')}</p>}
      </div>
    );
  }

  const update = (patch: Partial<PolicyForm>) => setForm((f) => (f ? { ...f, ...patch } : f));
  const setNumber = (path: NumberPath, value: string) => update({ numbers: { ...form.numbers, [path]: value } });
  const setRule = (key: number, patch: Partial<RuleForm>) =>
    update({ ipRules: form.ipRules.map((r) => (r.key === key ? { ...r, ...patch } : r)) });

  function validate(f: PolicyForm): { policy: TenantPolicy | null; errors: Errors } {
    const found: Errors = {};
    const numbers = {} as Record<NumberPath, number>;
    for (const path of NUMBER_PATHS) {
      const raw = f.numbers[path].normalize('NFKC').trim();
      const { min, max } = NUMBER_FIELDS[path];
      const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
      const ok =
        path === 'password.validityDays' ? n === 0 || (n >= 30 && n <= 730) : Number.isInteger(n) && n >= min && n <= max;
      if (!ok)
        found[path] =
          path === 'password.validityDays' ? t('admin.policy.validityError') : t('admin.policy.rangeError', { min, max });
      numbers[path] = n;
    }
    f.ipRules.forEach((rule, i) => {
      const lines = cidrLines(rule.cidrs);
      const bad = lines.find((l) => !isCidr(l));
      if (lines.length === 0) found[`ipRules.${i}.cidrs`] = t('admin.policy.ipCidrsRequired');
      else if (bad) found[`ipRules.${i}.cidrs`] = t('admin.policy.ipCidrsError', { value: bad });
    });
    if ([...f.loginBanner].length > LOGIN_BANNER_MAX) found.loginBanner = t('admin.policy.loginBannerError');
    const extra = {} as Record<ExtraPath, number>;
    for (const path of EXTRA_PATHS) {
      const raw = f.extra[path].normalize('NFKC').trim();
      const { min, max } = EXTRA_NUMBERS[path];
      const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
      if (!(n >= min && n <= max)) found[path] = t('admin.policy.rangeError', { min, max });
      extra[path] = n;
    }
    if ([...f.acceptableUse].length > ACCEPTABLE_USE_MAX) found.acceptableUse = t('admin.policy.acceptableUseError');
    const pem = f.caPem.trim();
    if (pem && !/^-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----$/.test(pem))
      found.caPem = t('admin.policy.caPemError');
    if (!pem && ZONES.some((z) => f.deviceRules[z].on)) found.caPem = t('admin.policy.caPemRequired');
    const serials = f.revokedSerials
      .normalize('NFKC')
      .split(/\n/)
      .map((l) => l.trim())
      .filter(Boolean);
    const badSerial = serials.find((l) => !/^[0-9a-f]{1,40}$/i.test(l.replace(/[\s:]/g, '')));
    if (badSerial !== undefined) found.revokedSerials = t('admin.policy.revokedSerialsError', { value: badSerial });
    const retentionRaw = f.malware.originalRetentionDays.normalize('NFKC').trim();
    const retention = /^\d+$/.test(retentionRaw) ? Number(retentionRaw) : NaN;
    if (!(retention >= RETENTION.min && retention <= RETENTION.max))
      found['malware.originalRetentionDays'] = t('admin.policy.rangeError', RETENTION);
    if ([...f.malware.guidance].length > GUIDANCE_MAX) found['malware.guidance'] = t('admin.policy.malware.guidanceError');
    const labels = labelPolicyValue(f.labels, f.loaded, t);
    const exchange = exchangePolicyValue(f.exchange, f.loaded, labelNames(f.labels), t);
    Object.assign(found, labels.errors, exchange.errors);
    if (Object.keys(found).length || !labels.value || !exchange.value) return { policy: null, errors: found };
    return {
      errors: {},
      policy: {
        ...f.loaded,
        password: {
          ...f.loaded.password,
          minLengthWithMfa: numbers['password.minLengthWithMfa'],
          minLengthPasswordOnly: numbers['password.minLengthPasswordOnly'],
          maxLength: numbers['password.maxLength'],
          characterClasses: numbers['password.characterClasses'],
          history: numbers['password.history'],
          validityDays: numbers['password.validityDays'],
          expiryWarningDays: numbers['password.expiryWarningDays'],
          lockoutThreshold: numbers['password.lockoutThreshold'],
        },
        session: {
          ...f.loaded.session,
          idleMinutes: numbers['session.idleMinutes'],
          absoluteHours: numbers['session.absoluteHours'],
          stepUpMinutes: numbers['session.stepUpMinutes'],
        },
        mfa: { ...f.loaded.mfa, requiredForAll: f.requiredForAll, totpAlgorithm: f.totpAlgorithm },
        ipRules: f.ipRules.map((r) => ({ zone: r.zone, roles: r.roles, cidrs: cidrLines(r.cidrs) })),
        twoPersonRule: f.twoPersonRule,
        loginBanner: f.loginBanner,
        features: {
          ...(f.loaded.features as object),
          lgwan: f.features.lgwan,
          internet: f.features.internet,
          maxLinkExpiryDays: extra['features.maxLinkExpiryDays'],
          maxApiTokenDays: extra['features.maxApiTokenDays'],
        },
        inactivity: { days: extra['inactivity.days'], autoSuspend: f.autoSuspend },
        // The server bumps the version when the text changes.
        acceptableUse: { ...(f.loaded.acceptableUse as object), text: f.acceptableUse },
        deviceCerts: {
          caPem: pem ? `${pem}\n` : '',
          requiredFor: ZONES.filter((z) => f.deviceRules[z].on).map((z) => ({ zone: z, roles: f.deviceRules[z].roles })),
          revokedSerials: serials,
        },
        malware: {
          ...(f.loaded.malware as object),
          blockedTypes: TYPE_CATEGORIES.filter((c) => f.malware.blockedTypes.includes(c)),
          typeMismatch: f.malware.typeMismatch,
          encrypted: f.malware.encrypted,
          sanitiseInternetToLgwan: f.malware.sanitiseInternetToLgwan,
          unsupported: f.malware.unsupported,
          pdfMode: f.malware.pdfMode,
          originalRetentionDays: retention,
          twoPersonRelease: f.malware.twoPersonRelease,
          guidance: f.malware.guidance,
        },
        labels: labels.value,
        exchange: exchange.value,
      },
    };
  }

  /** Server paths (`password.maxLength`, `ipRules.0.cidrs.2`) → the field showing them. */
  function serverErrors(paths: readonly string[]): Errors {
    const found: Errors = {};
    for (const path of paths) {
      const numberPath = NUMBER_PATHS.find((p) => path === p);
      if (numberPath) {
        const { min, max } = NUMBER_FIELDS[numberPath];
        found[numberPath] =
          numberPath === 'password.validityDays' ? t('admin.policy.validityError') : t('admin.policy.rangeError', { min, max });
        continue;
      }
      const rule = /^ipRules\.(\d+)\.cidrs/.exec(path);
      if (rule) found[`ipRules.${rule[1]}.cidrs`] = t('admin.policy.ipCidrsRequired');
      if (path === 'loginBanner') found.loginBanner = t('admin.policy.loginBannerError');
      const extraPath = EXTRA_PATHS.find((p) => path === p);
      if (extraPath) found[extraPath] = t('admin.policy.rangeError', EXTRA_NUMBERS[extraPath]);
      if (path.startsWith('deviceCerts.caPem')) found.caPem = t('admin.policy.caPemError');
      if (path.startsWith('deviceCerts.revokedSerials'))
        found.revokedSerials = t('admin.policy.revokedSerialsError', { value: '' });
      if (path.startsWith('acceptableUse')) found.acceptableUse = t('admin.policy.acceptableUseError');
      if (path.startsWith('malware.originalRetentionDays'))
        found['malware.originalRetentionDays'] = t('admin.policy.rangeError', RETENTION);
      if (path.startsWith('malware.guidance')) found['malware.guidance'] = t('admin.policy.malware.guidanceError');
      const labelOrExchange = labelExchangeServerError(path, t);
      if (labelOrExchange) found[labelOrExchange[0]] = labelOrExchange[1];
    }
    return found;
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy || !form) return;
    const { policy, errors: found } = validate(form);
    setErrors(found);
    if (!policy) {
      setOutcome({ kind: 'error', code: 'tenant.settings_invalid', n: ++counter.current });
      return;
    }
    setBusy(true);
    try {
      const saved = await run(() => savePolicy(policy));
      forgetLabelConfig();
      setForm(toForm(saved));
      // AC-01: the first administrator to switch the rule off only records a request; the rule stays on.
      const offRequested = !policy.twoPersonRule && saved.twoPersonRule && isOffRequest(saved.twoPersonRuleOffRequest);
      setOutcome({ kind: offRequested ? 'offRequested' : 'saved', n: ++counter.current });
    } catch (err) {
      if (err instanceof StepUpCancelled) return;
      const code = errorCode(err);
      const paths = err instanceof ApiError ? err.reasons : [];
      setErrors(serverErrors(paths));
      setOutcome({ kind: 'error', code, paths, n: ++counter.current });
    } finally {
      setBusy(false);
    }
  }

  const numberField = (path: NumberPath, label: string, hint?: string) => {
    const { min, max, def } = NUMBER_FIELDS[path];
    return (
      <TextField
        key={path}
        label={label}
        hint={hint ?? t('admin.policy.range', { min, max, def })}
        required
        inputMode="numeric"
        value={form.numbers[path]}
        onChange={(e) => setNumber(path, e.target.value)}
        error={errors[path]}
        className="max-w-40"
        name={path}
        data-testid={`policy-${path}`}
      />
    );
  };

  const extraField = (path: ExtraPath, label: string) => {
    const { min, max, def } = EXTRA_NUMBERS[path];
    return (
      <TextField
        label={label}
        hint={t('admin.policy.range', { min, max, def })}
        required
        inputMode="numeric"
        value={form.extra[path]}
        onChange={(e) => update({ extra: { ...form.extra, [path]: e.target.value } })}
        error={errors[path]}
        className="max-w-40"
        name={path}
      />
    );
  };

  const setMalware = (patch: Partial<MalwareForm>) => update({ malware: { ...form.malware, ...patch } });
  const holdOrBlock = (kind: 'typeMismatch' | 'encrypted' | 'unsupported') =>
    (['hold', 'block'] as const).map((v) => ({
      value: v,
      label: t(`admin.policy.malware.${kind}Options.${v}`),
    }));
  const validity = Number(form.numbers['password.validityDays'].normalize('NFKC').trim());
  const sectionBox = 'rounded-8 border border-solid-gray-420 p-4 sm:p-6';

  return (
    <div className="flex flex-col gap-8">
      <div className="flex flex-col gap-4">
        <PageHeading>{t('admin.policy.title')}</PageHeading>
        <p className="text-std-16N-170">{t('admin.policy.lead')}</p>
      </div>
      <PolicyExport run={run} />
      {outcome?.kind === 'saved' && <SavedBanner key={outcome.n} title={t('admin.policy.saved')} />}
      {outcome?.kind === 'offRequested' && <SavedBanner key={outcome.n} title={t('admin.policy.twoPersonRuleOffRequested')} />}
      {outcome?.kind === 'error' && (
        <ErrorBanner key={outcome.n} title={t('admin.policy.errorTitle')} code={outcome.code} data-testid="policy-error" />
      )}

      <form noValidate onSubmit={(e) => void submit(e)} className="flex flex-col gap-10" data-testid="policy-form">
        <Fieldset legend={t('admin.policy.passwordTitle')} className={sectionBox}>
          {numberField('password.minLengthWithMfa', t('admin.policy.minLengthWithMfa'))}
          {numberField('password.minLengthPasswordOnly', t('admin.policy.minLengthPasswordOnly'))}
          {numberField('password.maxLength', t('admin.policy.maxLength'))}
          {numberField('password.characterClasses', t('admin.policy.characterClasses'), t('admin.policy.characterClassesHint'))}
          {numberField('password.history', t('admin.policy.history'))}
          {numberField('password.validityDays', t('admin.policy.validityDays'), t('admin.policy.validityHint'))}
          {validity > 0 && (
            <NotificationBanner
              tone="warning"
              iconLabel={t('icon.warning')}
              title={t('admin.policy.validityWarningTitle')}
              headingLevel="h3"
              data-testid="validity-warning"
            >
              <p>{t('admin.policy.validityWarning')}</p>
            </NotificationBanner>
          )}
          {numberField('password.expiryWarningDays', t('admin.policy.expiryWarningDays'))}
          {numberField('password.lockoutThreshold', t('admin.policy.lockoutThreshold'))}
        </Fieldset>

        <Fieldset legend={t('admin.policy.sessionTitle')} className={sectionBox}>
          {numberField('session.idleMinutes', t('admin.policy.idleMinutes'))}
          {numberField('session.absoluteHours', t('admin.policy.absoluteHours'))}
          {numberField(
            'session.stepUpMinutes',
            t('admin.policy.stepUpMinutes'),
            `${t('admin.policy.stepUpHint')} ${t('admin.policy.range', { ...NUMBER_FIELDS['session.stepUpMinutes'] })}`,
          )}
        </Fieldset>

        <Fieldset legend={t('admin.policy.mfaTitle')} className={sectionBox}>
          <Checkbox
            checked={form.requiredForAll}
            onChange={(e) => update({ requiredForAll: e.target.checked })}
            hint={t('admin.policy.requiredForAllHint')}
          >
            {t('admin.policy.requiredForAll')}
          </Checkbox>
          <SelectField
            label={t('admin.policy.totpAlgorithm')}
            hint={t('admin.policy.totpAlgorithmHint')}
            value={form.totpAlgorithm}
            onChange={(e) => update({ totpAlgorithm: parseTotpAlgorithm(e.target.value) })}
            options={TOTP_ALGORITHMS.map((a) => ({
              value: a,
              label: a === 'SHA256' ? t('admin.policy.algorithmSha256') : t('admin.policy.algorithmSha1'),
            }))}
          />
        </Fieldset>

        <Fieldset legend={t('admin.policy.ipTitle')} className={sectionBox}>
          <p className="text-std-16N-170">{t('admin.policy.ipLead')}</p>
          {form.ipRules.length === 0 && <p className="text-std-16N-170 text-solid-gray-700">{t('admin.policy.ipNone')}</p>}
          {form.ipRules.map((rule, i) => (
            <Fieldset
              key={rule.key}
              legend={t('admin.policy.ipRule', { n: i + 1 })}
              size="group"
              className="rounded-8 border border-solid-gray-420 bg-solid-gray-50 p-4"
              data-testid="ip-rule"
            >
              <SelectField
                label={t('admin.policy.ipZone')}
                required
                value={rule.zone}
                onChange={(e) => setRule(rule.key, { zone: e.target.value === 'internet' ? 'internet' : 'lgwan' })}
                options={ZONES.map((z) => ({ value: z, label: t(`status.zone.${z}`) }))}
                data-testid="ip-rule-zone"
              />
              <fieldset className="flex flex-col gap-1">
                <legend className="mb-1 text-std-17B-170 text-solid-gray-900">{t('admin.policy.ipRoles')}</legend>
                <p className="text-std-16N-170 text-solid-gray-700">{t('admin.policy.ipRolesHint')}</p>
                <div className="flex flex-wrap gap-x-6">
                  {ROLES.map((role) => (
                    <Checkbox
                      key={role}
                      checked={rule.roles.includes(role)}
                      onChange={(e) =>
                        setRule(rule.key, {
                          roles: e.target.checked ? [...rule.roles, role] : rule.roles.filter((r) => r !== role),
                        })
                      }
                    >
                      {t(`roles.${role}`)}
                    </Checkbox>
                  ))}
                </div>
              </fieldset>
              <TextareaField
                label={t('admin.policy.ipCidrs')}
                hint={t('admin.policy.ipCidrsHint')}
                required
                rows={4}
                value={rule.cidrs}
                onChange={(e) => setRule(rule.key, { cidrs: e.target.value })}
                error={errors[`ipRules.${i}.cidrs`]}
                spellCheck={false}
                className="font-mono"
                data-testid="ip-rule-cidrs"
              />
              <div>
                <Button
                  variant="outline"
                  size="md"
                  onClick={() => update({ ipRules: form.ipRules.filter((r) => r.key !== rule.key) })}
                >
                  {t('admin.policy.ipRemove', { n: i + 1 })}
                </Button>
              </div>
            </Fieldset>
          ))}
          <div>
            <Button
              variant="outline"
              size="md"
              onClick={() => update({ ipRules: [...form.ipRules, { key: ++ruleKeys, zone: 'lgwan', roles: [], cidrs: '' }] })}
              data-testid="ip-rule-add"
            >
              {t('admin.policy.ipAdd')}
            </Button>
          </div>
        </Fieldset>

        <Fieldset legend={t('admin.policy.registrationTitle')} className={sectionBox}>
          <Checkbox
            checked={form.twoPersonRule}
            onChange={(e) => update({ twoPersonRule: e.target.checked })}
            hint={t('admin.policy.twoPersonRuleHint')}
            data-testid="two-person-rule"
          >
            {t('admin.policy.twoPersonRule')}
          </Checkbox>
          {/* AC-01: turning the rule off waits for a second administrator (the server keeps it on until then). */}
          {isOffRequest(form.loaded.twoPersonRuleOffRequest) && (
            <NotificationBanner
              tone="warning"
              iconLabel={t('icon.warning')}
              title={t('admin.policy.twoPersonRuleOffPending', {
                at: formatDateTime(new Date(form.loaded.twoPersonRuleOffRequest.at), currentLanguage()),
              })}
              headingLevel="h3"
              data-testid="two-person-off-pending"
            >
              <p>{t('admin.policy.twoPersonRuleOffPendingBody')}</p>
            </NotificationBanner>
          )}
        </Fieldset>

        <Fieldset legend={t('admin.policy.malware.title')} className={sectionBox} data-testid="policy-malware">
          <p className="text-std-16N-170">{t('admin.policy.malware.lead')}</p>
          <Fieldset legend={t('admin.policy.malware.blockedTypes')} size="group" data-testid="malware-blocked-types">
            <p className="text-std-16N-170 text-solid-gray-700">{t('admin.policy.malware.blockedTypesHint')}</p>
            <div className="grid grid-cols-1 gap-x-6 sm:grid-cols-2">
              {TYPE_CATEGORIES.map((c) => (
                <Checkbox
                  key={c}
                  checked={form.malware.blockedTypes.includes(c)}
                  onChange={(e) =>
                    setMalware({
                      blockedTypes: e.target.checked
                        ? [...form.malware.blockedTypes, c]
                        : form.malware.blockedTypes.filter((x) => x !== c),
                    })
                  }
                  data-category={c}
                >
                  {t(`admin.policy.malware.types.${c}`)}
                </Checkbox>
              ))}
            </div>
          </Fieldset>
          <RadioGroup
            legend={t('admin.policy.malware.typeMismatch')}
            hint={t('admin.policy.malware.typeMismatchHint')}
            name="malware.typeMismatch"
            value={form.malware.typeMismatch}
            options={holdOrBlock('typeMismatch')}
            onChange={(v) => setMalware({ typeMismatch: v })}
            data-testid="malware-type-mismatch"
          />
          <RadioGroup
            legend={t('admin.policy.malware.encrypted')}
            hint={t('admin.policy.malware.encryptedHint')}
            name="malware.encrypted"
            value={form.malware.encrypted}
            options={holdOrBlock('encrypted')}
            onChange={(v) => setMalware({ encrypted: v })}
            data-testid="malware-encrypted"
          />
          <Checkbox
            checked={form.malware.sanitiseInternetToLgwan}
            onChange={(e) => setMalware({ sanitiseInternetToLgwan: e.target.checked })}
            hint={t('admin.policy.malware.sanitiseHint')}
            data-testid="malware-sanitise"
          >
            {t('admin.policy.malware.sanitise')}
          </Checkbox>
          {!form.malware.sanitiseInternetToLgwan && (
            <NotificationBanner
              tone="warning"
              iconLabel={t('icon.warning')}
              title={t('admin.policy.malware.sanitiseOffTitle')}
              headingLevel="h3"
              data-testid="sanitise-off-warning"
            >
              <p>{t('admin.policy.malware.sanitiseOff')}</p>
            </NotificationBanner>
          )}
          <RadioGroup
            legend={t('admin.policy.malware.unsupported')}
            hint={t('admin.policy.malware.unsupportedHint')}
            name="malware.unsupported"
            value={form.malware.unsupported}
            options={holdOrBlock('unsupported')}
            onChange={(v) => setMalware({ unsupported: v })}
            data-testid="malware-unsupported"
          />
          <RadioGroup
            legend={t('admin.policy.malware.pdfMode')}
            hint={t('admin.policy.malware.pdfModeHint')}
            name="malware.pdfMode"
            value={form.malware.pdfMode}
            options={(['standard', 'strict'] as const).map((v) => ({
              value: v,
              label: t(`admin.policy.malware.pdfModeOptions.${v}`),
            }))}
            onChange={(v) => setMalware({ pdfMode: v })}
            data-testid="malware-pdf-mode"
          />
          <TextField
            label={t('admin.policy.malware.retention')}
            hint={`${t('admin.policy.malware.retentionHint')} ${t('admin.policy.range', RETENTION)}`}
            required
            inputMode="numeric"
            value={form.malware.originalRetentionDays}
            onChange={(e) => setMalware({ originalRetentionDays: e.target.value })}
            error={errors['malware.originalRetentionDays']}
            className="max-w-40"
            name="malware.originalRetentionDays"
          />
          <Checkbox
            checked={form.malware.twoPersonRelease}
            onChange={(e) => setMalware({ twoPersonRelease: e.target.checked })}
            hint={t('admin.policy.malware.twoPersonReleaseHint')}
            data-testid="malware-two-person"
          >
            {t('admin.policy.malware.twoPersonRelease')}
          </Checkbox>
          <TextareaField
            label={t('admin.policy.malware.guidance')}
            hint={t('admin.policy.malware.guidanceHint')}
            rows={5}
            value={form.malware.guidance}
            onChange={(e) => setMalware({ guidance: e.target.value })}
            error={errors['malware.guidance']}
            maxLength={GUIDANCE_MAX}
          />
        </Fieldset>

        <LabelPolicySection
          form={form.labels}
          errors={errors}
          onChange={(patch) => update({ labels: { ...form.labels, ...patch } })}
          className={sectionBox}
        />

        <ExchangePolicySection
          form={form.exchange}
          labels={labelNames(form.labels)}
          errors={errors}
          onChange={(patch) => update({ exchange: { ...form.exchange, ...patch } })}
          className={sectionBox}
        />

        <Fieldset legend={t('admin.policy.bannerTitle')} className={sectionBox}>
          <TextareaField
            label={t('admin.policy.loginBanner')}
            hint={t('admin.policy.loginBannerHint')}
            rows={4}
            value={form.loginBanner}
            onChange={(e) => update({ loginBanner: e.target.value })}
            error={errors.loginBanner}
            maxLength={LOGIN_BANNER_MAX}
          />
        </Fieldset>

        <Fieldset legend={t('admin.policy.featuresTitle')} className={sectionBox} data-testid="policy-features">
          <p className="text-std-16N-170">{t('admin.policy.featuresLead')}</p>
          {ZONES.map((zone) => (
            <Fieldset key={zone} legend={t(`status.zone.${zone}`)} size="group" data-testid={`features-${zone}`}>
              <div className="flex flex-col">
                {FEATURES.map((feature) => (
                  <Checkbox
                    key={feature}
                    checked={form.features[zone][feature]}
                    onChange={(e) =>
                      update({
                        features: { ...form.features, [zone]: { ...form.features[zone], [feature]: e.target.checked } },
                      })
                    }
                  >
                    {t(`admin.policy.feature.${feature}`)}
                  </Checkbox>
                ))}
              </div>
            </Fieldset>
          ))}
          {extraField('features.maxLinkExpiryDays', t('admin.policy.maxLinkExpiryDays'))}
          {extraField('features.maxApiTokenDays', t('admin.policy.maxApiTokenDays'))}
        </Fieldset>

        <Fieldset legend={t('admin.policy.inactivityTitle')} className={sectionBox}>
          {extraField('inactivity.days', t('admin.policy.inactivityDays'))}
          <Checkbox
            checked={form.autoSuspend}
            onChange={(e) => update({ autoSuspend: e.target.checked })}
            hint={t('admin.policy.autoSuspendHint')}
          >
            {t('admin.policy.autoSuspend')}
          </Checkbox>
        </Fieldset>

        <Fieldset legend={t('admin.policy.deviceTitle')} className={sectionBox}>
          <p className="text-std-16N-170">{t('admin.policy.deviceLead')}</p>
          <TextareaField
            label={t('admin.policy.caPem')}
            hint={t('admin.policy.caPemHint')}
            rows={6}
            value={form.caPem}
            onChange={(e) => update({ caPem: e.target.value })}
            error={errors.caPem}
            spellCheck={false}
            className="font-mono"
          />
          {ZONES.map((zone) => {
            const rule = form.deviceRules[zone];
            const setDevice = (patch: Partial<DeviceRuleForm>) =>
              update({ deviceRules: { ...form.deviceRules, [zone]: { ...rule, ...patch } } });
            return (
              <Fieldset key={zone} legend={t(`status.zone.${zone}`)} size="group" data-testid={`device-${zone}`}>
                <Checkbox checked={rule.on} onChange={(e) => setDevice({ on: e.target.checked })}>
                  {t('admin.policy.deviceRequired')}
                </Checkbox>
                {rule.on && (
                  <Fieldset legend={t('admin.policy.deviceRoles')} size="group">
                    <div className="flex flex-col">
                      {ROLES.map((role) => (
                        <Checkbox
                          key={role}
                          checked={rule.roles.includes(role)}
                          onChange={(e) =>
                            setDevice({
                              roles: e.target.checked ? [...rule.roles, role] : rule.roles.filter((r) => r !== role),
                            })
                          }
                        >
                          {t(`roles.${role}`)}
                        </Checkbox>
                      ))}
                    </div>
                  </Fieldset>
                )}
              </Fieldset>
            );
          })}
          <TextareaField
            label={t('admin.policy.revokedSerials')}
            hint={t('admin.policy.revokedSerialsHint')}
            rows={3}
            value={form.revokedSerials}
            onChange={(e) => update({ revokedSerials: e.target.value })}
            error={errors.revokedSerials}
            spellCheck={false}
            className="font-mono"
            data-testid="revoked-serials"
          />
          <CrlImport
            caPem={form.caPem}
            onSerials={(serials) => {
              // Compared as the server keeps them; merged into the list as it is now (typing may have gone on).
              const merge = (list: string) => {
                const have = list
                  .split('\n')
                  .map((x) => x.trim())
                  .filter(Boolean);
                const known = new Set(have.map(canonicalSerial));
                return { have, fresh: serials.filter((x) => !known.has(canonicalSerial(x))) };
              };
              setForm((f) => {
                if (!f) return f;
                const { have, fresh } = merge(f.revokedSerials);
                return { ...f, revokedSerials: [...have, ...fresh].join('\n') };
              });
              return merge(form.revokedSerials).fresh.length;
            }}
          />
        </Fieldset>

        <Fieldset legend={t('admin.policy.acceptableUseTitle')} className={sectionBox}>
          <TextareaField
            label={t('admin.policy.acceptableUse')}
            hint={t('admin.policy.acceptableUseHint', {
              version: (form.loaded.acceptableUse as { version?: number } | undefined)?.version ?? 0,
            })}
            rows={8}
            value={form.acceptableUse}
            onChange={(e) => update({ acceptableUse: e.target.value })}
            error={errors.acceptableUse}
            maxLength={ACCEPTABLE_USE_MAX}
          />
        </Fieldset>

        <div>
          <Button type="submit" variant="solid-fill" size="lg" busy={busy} data-testid="policy-save">
            {t('admin.policy.save')}
          </Button>
        </div>
      </form>
      {dialog}
    </div>
  );
}

function SavedBanner({ title }: { title: string }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <div ref={ref} tabIndex={-1} className="focus:outline-none">
      <SuccessBanner title={title} data-testid="policy-saved" />
    </div>
  );
}

/**
 * Adds the serials a revocation list (CRL) from the tenant's CA revokes to the list above (AC-11).
 * The server reads the file and checks it is signed by the CA certificate entered above; nothing is
 * saved until the policy is saved (audited as any change).
 */
/** A serial as the server keeps it: hex without separators, upper case, no leading zeros. */
function canonicalSerial(written: string): string {
  const hex = written.replace(/[\s:]/g, '').toUpperCase();
  return /^[0-9A-F]+$/.test(hex) ? hex.replace(/^0+(?=.)/, '') : written;
}

/** Larger files are not revocation lists a municipal CA publishes (the request would be refused anyway). */
const CRL_MAX_BYTES = 600_000;

function CrlImport({ caPem, onSerials }: { caPem: string; onSerials: (serials: string[]) => number }) {
  const { t } = useTranslation();
  const [result, setResult] = useState<{ kind: 'ok' | 'error'; text: string; code?: string; n: number } | null>(null);
  const [busy, setBusy] = useState(false);
  async function read(file: File) {
    if (file.size > CRL_MAX_BYTES) {
      setResult((p) => ({
        kind: 'error',
        text: t('admin.policy.crlErrorTitle'),
        code: 'device.crl_invalid',
        n: (p?.n ?? 0) + 1,
      }));
      return;
    }
    setBusy(true);
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      const text = new TextDecoder('utf-8').decode(bytes);
      // PEM as it is; DER (a .crl file as most CAs publish it) as base64.
      const crl = text.includes('-----BEGIN') ? text : btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(''));
      const r = (await postJson('/api/v1/admin/policy/device-crl', { crl, ...(caPem.trim() ? { caPem } : {}) })) as {
        issuer: string;
        serials: string[];
      };
      const added = onSerials(r.serials);
      setResult((p) => ({
        kind: 'ok',
        text: t('admin.policy.crlAdded', { issuer: r.issuer, count: r.serials.length, added }),
        n: (p?.n ?? 0) + 1,
      }));
    } catch (err) {
      setResult((p) => ({ kind: 'error', text: t('admin.policy.crlErrorTitle'), code: errorCode(err), n: (p?.n ?? 0) + 1 }));
    } finally {
      setBusy(false);
    }
  }
  return (
    <div className="flex flex-col gap-2" data-testid="crl-import">
      <label htmlFor="crl-file" className="text-std-17B-170 text-solid-gray-900">
        {t('admin.policy.crlLabel')}
      </label>
      <p id="crl-hint" className="text-std-16N-170 text-solid-gray-700">
        {t('admin.policy.crlHint')}
      </p>
      <input
        id="crl-file"
        type="file"
        accept=".crl,.pem,application/pkix-crl"
        aria-describedby="crl-hint"
        disabled={busy}
        onChange={(e) => {
          const file = e.target.files?.[0];
          e.target.value = '';
          if (file) void read(file);
        }}
        className="text-std-16N-170"
      />
      {result?.kind === 'ok' && <SuccessBanner key={result.n} title={result.text} data-testid="crl-added" />}
      {result?.kind === 'error' && <ErrorBanner key={result.n} title={result.text} code={result.code ?? 'unknown'} />}
    </div>
  );
}
