/**
 * The closed table of error codes. Every expected failure throws `AppError(code)`; the HTTP error
 * handler maps the code to its fixed status and the body `{ error: { code, message, requestId } }`.
 * The UI translates codes, never server strings, so the message here is English and for operators.
 */
export const ERROR_CODES = {
  // raised by the HTTP layer for malformed requests
  'request.invalid': { status: 400, message: 'The request does not match the schema.' },
  'request.malformed_json': { status: 400, message: 'The request body is not valid JSON.' },
  'request.unsupported_media_type': { status: 415, message: 'The content type is not supported.' },
  'request.too_large': { status: 413, message: 'The request body is too large.' },
  'request.rate_limited': { status: 429, message: 'Too many requests; try again later.' },
  'request.forbidden_address': { status: 403, message: 'This endpoint is not available from your address.' },
  // raised by the router for unknown paths and methods
  'route.not_found': { status: 404, message: 'No such resource.' },
  // raised by tenant lookups; another tenant's object is also this code (AC-08)
  'tenant.not_found': { status: 404, message: 'No such tenant.' },
  'tenant.slug_taken': { status: 409, message: 'A tenant with this slug already exists.' },
  'tenant.slug_reserved': { status: 409, message: 'This slug is reserved.' },
  // raised by authentication (login, MFA, sessions); login answers never reveal whether an account exists
  'auth.invalid_credentials': { status: 401, message: 'The tenant, login ID or password is wrong.' },
  'auth.locked': { status: 423, message: 'The account is locked after repeated failures.' },
  'auth.unauthenticated': { status: 401, message: 'Sign-in is required.' },
  'auth.mfa_required': { status: 401, message: 'The second factor has not been verified yet.' },
  'auth.mfa_enrollment_required': { status: 401, message: 'A second factor must be enrolled first.' },
  'auth.password_change_required': { status: 403, message: 'The password must be changed first.' },
  'auth.mfa_invalid': { status: 401, message: 'The verification code is wrong or was already used.' },
  'auth.totp_format': { status: 400, message: 'A verification code is six digits.' },
  'auth.recovery_code_format': { status: 400, message: 'A recovery code is twelve letters and digits (xxxx-xxxx-xxxx).' },
  'auth.mfa_not_enrolled': { status: 409, message: 'No second factor is enrolled.' },
  'auth.csrf_invalid': { status: 403, message: 'The request lacks a valid CSRF token.' },
  'auth.step_up_required': { status: 403, message: 'Confirm your identity again to continue.' },
  'auth.forbidden': { status: 403, message: 'Your role does not allow this.' },
  'auth.token_not_allowed': { status: 403, message: 'This API token may not be used for this request.' },
  'auth.terms_required': { status: 403, message: 'The acceptable-use notice must be accepted first.' },
  'auth.terms_outdated': { status: 409, message: 'The acceptable-use notice has changed; read the current version.' },
  'auth.setup_link_invalid': { status: 410, message: 'This setup link has expired or was already used.' },
  // raised by the password policy engine; `reasons` lists why (AC-16)
  'password.rejected': { status: 400, message: 'The new password does not meet the policy.' },
  'password.current_invalid': { status: 400, message: 'The current password is wrong.' },
  // raised by tenant policy enforcement (AC-10)
  'tenant.ip_denied': { status: 403, message: 'Access from this address is not allowed.' },
  'tenant.settings_invalid': { status: 400, message: 'The settings are invalid.' },
  'tenant.settings_conflict': { status: 409, message: 'The settings were changed since they were read.' },
  'keys.version_not_found': { status: 404, message: 'No such key version.' },
  'keys.version_active': { status: 409, message: 'The active key version cannot be destroyed; rotate first.' },
  'keys.version_destroyed': { status: 409, message: 'This key version is already destroyed.' },
  'keys.version_in_use': {
    status: 409,
    message: 'Keys are still wrapped under an older version, or writes begun before the last rotation are unfinished.',
  },
  'audit.review_not_found': { status: 404, message: 'No such audit review.' },
  'audit.review_signed_off': { status: 409, message: 'This review has already been signed off.' },
  'device.crl_invalid': { status: 400, message: 'The file is not a certificate revocation list.' },
  'device.crl_untrusted': { status: 400, message: "The revocation list is not signed by the tenant's device CA." },
  'tenant.device_denied': { status: 403, message: 'This device is not registered for access (client certificate required).' },
  'tenant.feature_disabled': { status: 403, message: 'This function is switched off for your organisation on this network.' },
  // raised by user administration
  'user.not_found': { status: 404, message: 'No such user.' },
  'user.login_taken': { status: 409, message: 'This login ID is in use or was used before.' },
  'user.invalid_state': { status: 409, message: 'The user is not in a state that allows this.' },
  'user.self_approval': { status: 409, message: 'Another administrator must approve this (two-person rule).' },
  'user.invalid_role': { status: 400, message: 'This role cannot be given in this tenant.' },
  'user.owns_folders': {
    status: 409,
    message: 'The user owns folders; name who takes them over (reassignTo) or re-assign them first.',
  },
  'user.last_admin': { status: 409, message: 'The last active administrator cannot be removed.' },
  // raised by the customer lockbox (AC-07)
  'support.grant_not_found': { status: 404, message: 'No such support access request.' },
  'support.invalid_state': { status: 409, message: 'The support access request is not in a state that allows this.' },
  // raised by access reviews (AC-04)
  'review.not_found': { status: 404, message: 'No such access review.' },
  'review.already_open': { status: 409, message: 'An access review is already open.' },
  'review.closed': { status: 409, message: 'This access review is already signed off.' },
  'review.incomplete': { status: 409, message: 'Every user must be confirmed or revoked before sign-off.' },
  // raised by exports that need a Japanese font on the machine (fonts-noto-cjk)
  // raised by the files capability (folders, files, uploads, downloads, groups)
  'name.invalid': { status: 400, message: 'The name is not allowed (empty, too long, control characters, / or \\, . or ..).' },
  'name.taken': { status: 409, message: 'An item with this name (ignoring case) already exists in the folder.' },
  'folder.not_found': { status: 404, message: 'No such folder.' },
  'folder.forbidden': { status: 403, message: 'Your permission on this folder does not allow this.' },
  'folder.parent_in_trash': {
    status: 409,
    message: 'The folder this was in is in the trash too; restore that folder first.',
  },
  'folder.cycle': { status: 409, message: 'A folder cannot be moved into itself or one of its subfolders.' },
  'folder.owner_invalid': { status: 400, message: 'The new owner must be an active user of the organisation.' },
  'file.not_found': { status: 404, message: 'No such file.' },
  'file.not_available': {
    status: 409,
    message: 'The file is not available: it is waiting for the malware scan or has been quarantined.',
  },
  'file.sanitising': {
    status: 409,
    message: 'This file came from the internet zone and is still being sanitised (無害化) for delivery on LGWAN.',
  },
  'file.sanitise_failed': {
    status: 403,
    message: 'This file came from the internet zone and could not be sanitised (無害化); it is held for review.',
  },
  'file.original_needs_approval': {
    status: 403,
    message: 'The original of a file from the internet zone is available on LGWAN only with an approval.',
  },
  'file.type_blocked': { status: 415, message: 'Files of this type are not accepted by your organisation.' },
  'quarantine.not_held': { status: 409, message: 'This version is not held, quarantined or blocked.' },
  'quarantine.release_pending': {
    status: 409,
    message: 'A release of this version is already waiting for a second administrator.',
  },
  'approval.not_found': { status: 404, message: 'No such request.' },
  'approval.decided': { status: 409, message: 'This request has already been decided.' },
  'approval.facts_changed': {
    status: 409,
    message: "The file's state or scan verdict changed after the request was filed; the request was cancelled.",
  },
  'approval.same_person': { status: 403, message: 'A request must be approved by someone other than its requester.' },
  'approval.not_needed': { status: 409, message: 'This version needs no approval: it is not a file from the internet zone.' },
  'file.integrity_failed': {
    status: 500,
    message: 'The stored file failed its integrity check; the incident has been recorded.',
  },
  'quota.exceeded': { status: 413, message: 'The upload would exceed the storage quota.' },
  'upload.too_large': { status: 413, message: 'The file is larger than the largest accepted upload.' },
  'upload.not_found': { status: 404, message: 'No such upload.' },
  'upload.offset_mismatch': { status: 409, message: 'Upload-Offset does not match the stored offset.' },
  'upload.checksum_mismatch': { status: 460, message: 'The chunk checksum does not match; the chunk was discarded.' },
  'upload.checksum_unsupported': { status: 400, message: 'Only the sha256 checksum algorithm is supported.' },
  'upload.invalid': { status: 400, message: 'The upload request is missing or has invalid tus headers or metadata.' },
  'download.range_invalid': { status: 416, message: 'The requested range is not satisfiable.' },
  // raised by file exchange with outside parties (LG-03, TLS-03); every unusable link is the same 404
  'exchange.not_found': { status: 404, message: 'This link does not exist or is no longer valid.' },
  'exchange.verification_required': { status: 401, message: 'Verify the one-time code first.' },
  'exchange.code_invalid': { status: 400, message: 'The one-time code is wrong or has expired.' },
  'exchange.code_locked': { status: 429, message: 'Too many wrong codes; the link is locked for 30 minutes.' },
  'exchange.code_too_soon': { status: 429, message: 'A code was sent less than a minute ago.' },
  'exchange.too_large': { status: 413, message: 'The file is larger than this request accepts.' },
  'exchange.type_not_allowed': { status: 415, message: 'This request does not accept files of this type.' },
  'exchange.request_full': {
    status: 409,
    message: 'This request takes no more files (at most 100 files and 5 uploads at a time).',
  },
  'exchange.expiry_too_long': { status: 400, message: "The expiry is longer than the organisation's maximum." },
  'exchange.request_not_found': { status: 404, message: 'No such upload request.' },
  'share.not_found': { status: 404, message: 'No such share.' },
  'share.label_forbids_external': {
    status: 403,
    message: 'A file carries a label that forbids sharing with outside parties.',
  },
  'share.domain_denied': { status: 403, message: "A recipient's domain is not allowed by the organisation." },
  'share.confirmation_required': {
    status: 400,
    message: 'Confirm the list of external recipients and domains before sending.',
  },
  'share.pii_check_pending': { status: 409, message: 'A file is still being checked for personal data; try again shortly.' },
  'share.file_not_available': { status: 409, message: 'A file is not available (scan pending, held, quarantined or deleted).' },
  'share.password_not_allowed': { status: 403, message: 'The organisation does not allow password-only links.' },
  'share.password_weak': { status: 400, message: 'A link password needs at least 12 characters.' },
  'share.no_approver': { status: 409, message: 'This share needs approval but no approver is set for your groups.' },
  'share.not_pending': { status: 409, message: 'This share is no longer waiting for a decision.' },
  'share.self_approval': { status: 403, message: 'You cannot approve your own share.' },
  'approvers.invalid_user': { status: 400, message: 'Approvers must be active users with the approver or administrator role.' },
  'label.invalid': { status: 400, message: "The labels are not among the organisation's labels (one level at most)." },
  'group.not_found': { status: 404, message: 'No such group.' },
  'group.name_taken': { status: 409, message: 'A group with this name already exists.' },

  'export.font_unavailable': { status: 503, message: 'PDF export is unavailable: no Japanese font is installed.' },
  // raised by the audit log when an append is attempted outside a transaction or the chain is broken
  'audit.chain_broken': { status: 500, message: 'The audit chain is inconsistent.' },
  // raised by the keyring when a tenant key is missing or destroyed
  'crypto.key_unavailable': { status: 500, message: 'A required key is unavailable.' },
  // raised when the database or another dependency is down (never a crash)
  'service.unavailable': { status: 503, message: 'The service is temporarily unavailable.' },
  // raised by the error handler for anything unexpected; no detail leaves the server
  'internal.error': { status: 500, message: 'An internal error occurred.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An expected failure with a stable code. `detail` is for logs and tests, never sent to clients. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: string | undefined;
  /** Machine-readable reasons the client may show (e.g. password rejections); never secrets. */
  readonly reasons: string[] | undefined;

  constructor(code: ErrorCode, detail?: string, reasons?: string[]) {
    super(detail ? `${code}: ${detail}` : code);
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.detail = detail;
    this.reasons = reasons;
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
