/**
 * The tenant (団体ID) last signed in to on this browser, so the sign-in form can fill it in and show
 * its login banner at once. Not a secret: the slug is printed on every setup link and manual.
 */
const TENANT_KEY = 'kura.tenant';

export function rememberedTenant(): string {
  try {
    return window.localStorage.getItem(TENANT_KEY) ?? '';
  } catch {
    return '';
  }
}

export function rememberTenant(tenant: string): void {
  try {
    window.localStorage.setItem(TENANT_KEY, tenant);
  } catch {
    // Storage disabled by policy (common on managed 庁内 PCs): the field is simply empty next time.
  }
}
