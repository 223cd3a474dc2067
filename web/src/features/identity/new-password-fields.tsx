/**
 * New password + confirmation with live feedback (AC-16): while the user types, the candidate is
 * checked against the tenant's policy by the server (debounced) and the failing rules are listed,
 * with an advisory strength meter. The server's reasons are codes translated here; the final
 * decision is made again when the form is sent.
 */
import { useEffect, useId, useState, type Ref } from 'react';
import { useTranslation } from 'react-i18next';
import { errorCode } from '../../api/api-client';
import { errorMessageKey } from '../../i18n/error-message';
import { StatusIcon } from '../../ui/status-icon';
import { PasswordField } from '../../ui/password-field';
import { checkPassword } from './identity.api';
import { passwordReasonKey } from './password-reasons';
import { usePasswordStrength, type StrengthScore } from './password-strength';

const CHECK_DELAY_MS = 300;

type CheckState =
  { phase: 'idle' } | { phase: 'checking' } | { phase: 'done'; reasons: string[] } | { phase: 'error'; code: string };

/** Debounced server-side policy check of `password`; also learns the length limits. */
function usePolicyCheck(password: string, setupToken: string | undefined, needLimits: boolean) {
  const [state, setState] = useState<CheckState>({ phase: 'idle' });
  const [limits, setLimits] = useState<{ min: number; max: number } | null>(null);
  // The limits depend on the user's policy; an empty candidate tells them before the first keystroke.
  useEffect(() => {
    if (!needLimits) return;
    const controller = new AbortController();
    checkPassword('', setupToken, controller.signal)
      .then((result) => setLimits((l) => l ?? { min: result.minLength, max: result.maxLength }))
      .catch(() => undefined);
    return () => controller.abort();
  }, [needLimits, setupToken]);
  useEffect(() => {
    if (!password) {
      setState({ phase: 'idle' });
      return;
    }
    setState({ phase: 'checking' });
    const controller = new AbortController();
    const timer = window.setTimeout(() => {
      checkPassword(password, setupToken, controller.signal)
        .then((result) => {
          setLimits({ min: result.minLength, max: result.maxLength });
          setState({ phase: 'done', reasons: result.reasons });
        })
        .catch((err: unknown) => {
          if (!controller.signal.aborted) setState({ phase: 'error', code: errorCode(err) });
        });
    }, CHECK_DELAY_MS);
    return () => {
      window.clearTimeout(timer);
      controller.abort();
    };
  }, [password, setupToken]);
  return { state, limits };
}

const METER_CLASSES: Record<StrengthScore, string> = {
  0: 'w-1/5 bg-red-800',
  1: 'w-2/5 bg-orange-700',
  2: 'w-3/5 bg-yellow-700',
  3: 'w-4/5 bg-green-700',
  4: 'w-full bg-green-900',
};

function StrengthMeter({ score }: { score: StrengthScore | null }) {
  const { t } = useTranslation();
  if (score === null) return null;
  return (
    <div className="flex flex-col gap-1" data-testid="password-strength" data-score={score}>
      <p className="text-std-16N-170">
        {t('password.strength.label')}：<strong>{t(`password.strength.score${score}`)}</strong>
      </p>
      <div className="h-2 w-full max-w-md overflow-hidden rounded-full bg-solid-gray-100" aria-hidden="true">
        <div className={`h-full ${METER_CLASSES[score]}`} />
      </div>
    </div>
  );
}

export interface NewPasswordFieldsProps {
  password: string;
  onPasswordChange: (value: string) => void;
  confirm: string;
  onConfirmChange: (value: string) => void;
  labels: { password: string; confirm: string };
  /** The setup link's token: the check then runs before any session exists. */
  setupToken?: string | undefined;
  /** Words that make a guess easier (tenant, login ID, name), for the strength estimate. */
  userInputs: readonly string[];
  /** Length limits known beforehand (setup link); otherwise learned from the first check. */
  limits?: { min: number; max: number } | undefined;
  passwordError?: string | undefined;
  confirmError?: string | undefined;
  passwordRef?: Ref<HTMLInputElement>;
  confirmRef?: Ref<HTMLInputElement>;
}

export function NewPasswordFields(props: NewPasswordFieldsProps) {
  const { t } = useTranslation();
  const feedbackId = useId();
  const { state, limits: learned } = usePolicyCheck(props.password, props.setupToken, !props.limits);
  const score = usePasswordStrength(props.password, props.userInputs);
  const [confirmTouched, setConfirmTouched] = useState(false);
  const limits = props.limits ?? learned;

  const mismatch =
    confirmTouched && props.confirm.length > 0 && props.confirm !== props.password ? t('password.reasons.mismatch') : undefined;

  const hint = (
    <>
      {limits && <p>{t('password.rules', { min: limits.min, max: limits.max })}</p>}
      <p>{t('password.rulesGeneric')}</p>
    </>
  );

  const feedback = (
    <div
      id={feedbackId}
      aria-live="polite"
      className="flex flex-col gap-2"
      data-testid="password-feedback"
      data-phase={state.phase}
    >
      {state.phase === 'checking' && <p className="text-std-16N-170 text-solid-gray-700">{t('password.checking')}</p>}
      {state.phase === 'done' && state.reasons.length === 0 && (
        <p className="flex items-center gap-2 text-std-16N-170 text-success-2" data-testid="password-ok">
          <StatusIcon tone="success" className="size-5 shrink-0" />
          <span className="text-solid-gray-900">{t('password.ok')}</span>
        </p>
      )}
      {state.phase === 'done' && state.reasons.length > 0 && (
        <div className="flex flex-col gap-1 text-std-16N-170">
          <p className="flex items-center gap-2 text-error-2">
            <StatusIcon tone="error" className="size-5 shrink-0" />
            <span className="text-solid-gray-900">{t('password.notOk')}</span>
          </p>
          <ul className="ml-8 list-disc text-solid-gray-900">
            {state.reasons.map((reason) => (
              <li key={reason} data-reason={reason}>
                {t(passwordReasonKey(reason))}
              </li>
            ))}
          </ul>
        </div>
      )}
      {state.phase === 'error' && <p className="text-std-16N-170 text-solid-gray-700">{t(errorMessageKey(state.code))}</p>}
      <StrengthMeter score={score} />
    </div>
  );

  return (
    <>
      <PasswordField
        label={props.labels.password}
        autoComplete="new-password"
        required
        value={props.password}
        onChange={(e) => props.onPasswordChange(e.target.value)}
        hint={hint}
        error={props.passwordError}
        feedbackId={feedbackId}
        feedback={feedback}
        inputRef={props.passwordRef}
        maxLength={4096}
      />
      <PasswordField
        label={props.labels.confirm}
        autoComplete="new-password"
        required
        value={props.confirm}
        onChange={(e) => props.onConfirmChange(e.target.value)}
        onBlur={() => setConfirmTouched(true)}
        hint={t('auth.passwordChange.confirmHint')}
        error={props.confirmError ?? mismatch}
        inputRef={props.confirmRef}
        maxLength={4096}
      />
    </>
  );
}
