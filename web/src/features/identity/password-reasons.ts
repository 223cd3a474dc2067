import { ja } from '../../i18n/locales/ja';

type ReasonKey = keyof typeof ja.password.reasons;

/** The i18n key for a password rejection reason from the server (AC-16); unknown reasons get a generic line. */
export function passwordReasonKey(reason: string): `password.reasons.${ReasonKey}` | 'password.notOk' {
  return Object.hasOwn(ja.password.reasons, reason) ? `password.reasons.${reason as ReasonKey}` : 'password.notOk';
}
