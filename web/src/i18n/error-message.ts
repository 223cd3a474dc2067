import { ja } from './locales/ja';

type ErrorKey = keyof typeof ja.errors;

function isErrorKey(code: string): code is ErrorKey {
  return Object.hasOwn(ja.errors, code);
}

/** The i18n key for an error code; codes without a translation fall back to a generic message. */
export function errorMessageKey(code: string): `errors.${ErrorKey}` {
  return `errors.${isErrorKey(code) ? code : 'unknown'}`;
}
