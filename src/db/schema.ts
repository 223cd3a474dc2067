/**
 * Table types, kept by hand in one place for both dialects. Times are ISO-8601 UTC strings with
 * milliseconds (`Date#toISOString`, sortable as text on both engines); JSON is stored as text;
 * binary as BLOB/bytea (Buffer); 64-bit integers are parsed to numbers (below 2^53).
 */
export interface TenantsTable {
  id: string;
  slug: string;
  display_name: string;
  status: 'active' | 'read_only' | 'terminated';
  settings: string;
  created_at: string;
  updated_at: string;
}

export interface TenantKeysTable {
  tenant_id: string;
  version: number;
  wrapped_key: Buffer | null;
  master_key_id: string;
  state: 'active' | 'retired' | 'destroyed';
  created_at: string;
  destroyed_at: string | null;
}

export interface ServiceKeysTable {
  purpose: string;
  key_id: string;
  wrapped_key: Buffer;
  public_key: string | null;
  master_key_id: string;
  created_at: string;
}

export interface AuditEventsTable {
  tenant_id: string;
  seq: number;
  occurred_at: string;
  actor_type: string;
  actor_id: string | null;
  ip: string | null;
  zone: string | null;
  user_agent: string | null;
  request_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  outcome: 'success' | 'failure' | 'denied' | 'error';
  reason: string | null;
  details: string;
  prev_hash: string;
  entry_hash: string;
  entry_mac: string;
}

export interface AuditReviewsTable {
  id: string;
  tenant_id: string;
  period_from: string;
  period_to: string;
  due_at: string;
  created_at: string;
  /** JSON: AuditReviewSummary. */
  summary: string;
  state: 'open' | 'signed_off';
  signed_off_by: string | null;
  signed_off_at: string | null;
  findings: string | null;
}

export interface AuditHeadsTable {
  tenant_id: string;
  seq: number;
  entry_hash: string;
  /** JSON `[[size, hex], …]`: the Merkle frontier after `seq`, so checkpoints need no full scan. */
  frontier: string;
}

export interface AuditCheckpointsTable {
  tenant_id: string;
  no: number;
  size: number;
  root_hash: string;
  checkpointed_at: string;
  key_id: string;
  signature: string;
}

export interface JobsTable {
  id: string;
  kind: string;
  tenant_id: string | null;
  payload: string;
  state: 'queued' | 'running' | 'done' | 'failed';
  run_at: string;
  attempts: number;
  max_attempts: number;
  last_error: string | null;
  locked_by: string | null;
  locked_until: string | null;
  dedupe_key: string | null;
  created_at: string;
  finished_at: string | null;
}

export interface JobSchedulesTable {
  name: string;
  kind: string;
  payload: string;
  interval_ms: number;
  next_run_at: string;
}

export interface KuraMetaTable {
  key: string;
  value: string;
}

export type UserState = 'requested' | 'active' | 'suspended' | 'deleted';
export type SessionStage = 'password_change' | 'mfa' | 'mfa_enroll' | 'terms' | 'full';

export interface UsersTable {
  id: string;
  tenant_id: string;
  login_id: string;
  display_name: string;
  email: string | null;
  role: string;
  state: UserState;
  password_hash: string | null;
  password_changed_at: string | null;
  must_change_password: number;
  failed_attempts: number;
  locked_until: string | null;
  last_login_at: string | null;
  last_login_ip: string | null;
  last_login_zone: string | null;
  failures_since_login: number;
  /** When an admin last reset the user's MFA; the user is told at the next sign-in. */
  mfa_reset_at: string | null;
  terms_version: number;
  terms_accepted_at: string | null;
  created_by: string | null;
  approved_by: string | null;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

export interface PasswordHistoryTable {
  tenant_id: string;
  user_id: string;
  password_hash: string;
  created_at: string;
}

export interface MfaTotpTable {
  tenant_id: string;
  user_id: string;
  secret_wrapped: Buffer;
  kek_version: number;
  algorithm: string;
  confirmed_at: string | null;
  last_used_step: number | null;
  created_at: string;
}

export interface RecoveryCodesTable {
  tenant_id: string;
  user_id: string;
  code_hash: string;
  used_at: string | null;
  created_at: string;
}

export interface SessionsTable {
  /** SHA-256 of the cookie token; the token itself is never stored. */
  id: string;
  tenant_id: string;
  user_id: string;
  stage: SessionStage;
  zone: string;
  ip: string | null;
  user_agent: string | null;
  csrf_token: string;
  created_at: string;
  last_seen_at: string;
  idle_expires_at: string;
  absolute_expires_at: string;
  mfa_at: string | null;
  revoked_at: string | null;
  revoked_reason: string | null;
  /** `challenge|expiresAt` of a pending WebAuthn ceremony. */
  webauthn_challenge: string | null;
  prev_login_at: string | null;
  prev_login_ip: string | null;
  prev_login_zone: string | null;
  prev_failures: number | null;
}

export interface SetupTokensTable {
  token_hash: string;
  tenant_id: string;
  user_id: string;
  purpose: 'setup' | 'reset';
  expires_at: string;
  used_at: string | null;
  created_at: string;
}

export interface ApiTokensTable {
  id: string;
  tenant_id: string;
  user_id: string;
  name: string;
  /** SHA-256 of the token; the token is shown once and never stored. */
  token_hash: string;
  /** JSON array of scopes. */
  scopes: string;
  expires_at: string;
  created_at: string;
  last_used_at: string | null;
  last_used_ip: string | null;
  revoked_at: string | null;
}

export interface AccessReviewsTable {
  id: string;
  tenant_id: string;
  state: 'open' | 'signed_off';
  started_by: string;
  started_at: string;
  due_at: string;
  /** JSON: changes since the last signed-off review (added, removed, role or state changed). */
  diff: string;
  signed_off_by: string | null;
  signed_off_at: string | null;
  findings: string | null;
}

export interface AccessReviewItemsTable {
  review_id: string;
  tenant_id: string;
  user_id: string;
  login_id: string;
  display_name: string;
  role: string;
  state: string;
  last_login_at: string | null;
  decision: 'pending' | 'confirmed' | 'revoked';
  decided_by: string | null;
  decided_at: string | null;
  note: string | null;
}

export interface SupportGrantsTable {
  id: string;
  tenant_id: string;
  operator_id: string;
  reason: string;
  duration_minutes: number;
  state: 'requested' | 'approved' | 'denied' | 'revoked';
  requested_at: string;
  decided_by: string | null;
  decided_at: string | null;
  expires_at: string | null;
}

export interface WebauthnCredentialsTable {
  tenant_id: string;
  user_id: string;
  credential_id: string;
  public_key: Buffer;
  counter: number;
  transports: string;
  name: string;
  created_at: string;
  last_used_at: string | null;
}

export interface GroupsTable {
  id: string;
  tenant_id: string;
  name: string;
  created_at: string;
}

export interface GroupMembersTable {
  tenant_id: string;
  group_id: string;
  user_id: string;
}

export interface FoldersTable {
  id: string;
  tenant_id: string;
  /** Null for a top-level folder. */
  parent_id: string | null;
  name: string;
  /** The name folded for case-insensitive uniqueness within the parent. */
  name_key: string;
  /** The accountable owner (HR-04); always an active user, re-assigned when the owner leaves. */
  owner_id: string;
  created_by: string;
  created_at: string;
  updated_at: string;
  /** Set when the folder itself was moved to the trash (its contents go with it). */
  deleted_at: string | null;
  deleted_by: string | null;
  /** JSON array of classification labels set on the folder itself (PII-01); files and subfolders inherit them. */
  labels: string;
}

export type FolderRole = 'viewer' | 'editor' | 'manager';

export interface FolderGrantsTable {
  id: string;
  tenant_id: string;
  folder_id: string;
  subject_type: 'user' | 'group';
  subject_id: string;
  role: FolderRole;
  granted_by: string;
  created_at: string;
}

export interface BlobsTable {
  /** Random id; also the object key (with the tenant id) in the blob store. */
  id: string;
  tenant_id: string;
  kek_version: number;
  wrapped_dek: Buffer;
  plain_size: number;
  cipher_size: number;
  sha256: string;
  created_at: string;
  /** Last time the scrubber decrypted and hashed the blob successfully. */
  verified_at: string | null;
  damaged_at: string | null;
  damage: string | null;
}

export interface FilesTable {
  id: string;
  tenant_id: string;
  folder_id: string;
  name: string;
  name_key: string;
  created_by: string;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
  deleted_by: string | null;
  /** JSON array of classification labels set on the file itself (PII-01). */
  labels: string;
}

/** held → available (clean) | quarantined (infected); damaged when the scrubber or a download finds the blob broken. */
/** held: waiting for scan or review · available · quarantined: infected · blocked: tenant policy (type, encryption) · damaged. */
export type VersionState = 'held' | 'available' | 'quarantined' | 'blocked' | 'damaged';
/** 無害化 of an internet-origin version (MAL-07): null = not needed (LGWAN origin or rule off). */
export type SanitizeState = 'pending' | 'sanitised' | 'sanitised_with_loss' | 'failed' | 'blocked';

export interface FileVersionsTable {
  id: string;
  tenant_id: string;
  file_id: string;
  version: number;
  blob_id: string;
  size: number;
  sha256: string;
  content_type: string;
  state: VersionState;
  scan_engine: string | null;
  scan_engine_version: string | null;
  scan_result: string | null;
  scan_signature: string | null;
  scan_attempts: number;
  scanned_at: string | null;
  origin_zone: string;
  uploaded_by: string;
  created_at: string;
  detected_type: string | null;
  /** Why a version is held or blocked beyond "not scanned yet": type_mismatch, encrypted, unscannable, sanitise_failed, … */
  hold_reason: string | null;
  sanitize_state: SanitizeState | null;
  sanitized_blob_id: string | null;
  sanitized_size: number | null;
  sanitized_sha256: string | null;
  sanitized_content_type: string | null;
  sanitized_name: string | null;
  /** JSON: { engine, removed: [{ kind, count, detail }], loss, reason } */
  sanitize_report: string | null;
  /** When the 無害化 result was recorded (the original's retention counts from here). */
  sanitized_at: string | null;
  released_by: string | null;
  released_at: string | null;
  release_reason: string | null;
  /** Personal-data check (PII-02): null = not yet queued · pending · clear · hit · unsupported (no text to extract). */
  pii_state: PiiState | null;
  /** JSON: [{ kind: 'my_number' | pattern name, count }] (never the matched text). */
  pii_hits: string | null;
  pii_checked_at: string | null;
}

/**
 * `unsupported`: a format the check does not read (images, archives…); `unreadable`: a format it
 * reads that it could not read (too large, malformed, the extractor failed), so nobody knows.
 */
export type PiiState = 'pending' | 'clear' | 'hit' | 'unsupported' | 'unreadable';

/** An upload request link (受け取り): an outside party uploads into `folder_id` for `created_by`. */
export interface ExchangeRequestsTable {
  id: string;
  tenant_id: string;
  created_by: string;
  folder_id: string;
  title: string;
  message: string;
  recipient_email: string;
  lang: string;
  token_hash: string;
  require_code: number;
  /** JSON array of type categories (empty = every type the tenant allows). */
  allowed_types: string;
  max_bytes: number;
  state: 'open' | 'closed' | 'revoked' | 'deleted';
  created_at: string;
  expires_at: string;
  closed_at: string | null;
  code_hash: string | null;
  code_expires_at: string | null;
  code_attempts: number;
  locked_until: string | null;
  session_hash: string | null;
  session_expires_at: string | null;
  last_download_at: string | null;
  /** HR-05: when the received files are deleted (N days after the last download or the expiry). */
  delete_at: string | null;
  deletion_notified_at: string | null;
}

export interface ExchangeRequestFilesTable {
  id: string;
  tenant_id: string;
  request_id: string;
  file_id: string;
  name: string;
  size: number;
  sha256: string;
  uploaded_at: string;
  ip: string | null;
  downloaded_at: string | null;
}

export type ShareState = 'pending' | 'active' | 'rejected' | 'expired' | 'revoked' | 'deleted';

/** A share to outside parties (送信): purpose, limits and approval; one row per recipient below. */
export interface ExchangeSharesTable {
  id: string;
  tenant_id: string;
  created_by: string;
  purpose: string;
  message: string;
  lang: string;
  /** code: one-time code by mail (default) · password: a password the sender passes on by another channel. */
  verification: 'code' | 'password';
  password_hash: string | null;
  max_downloads: number;
  state: ShareState;
  /** any | all, or null when no approval was needed. */
  approval_mode: string | null;
  /** JSON array of group ids whose approvers decide. */
  approval_groups: string;
  /** JSON array of why approval is needed (policy, label:…, size, domain:…). */
  approval_reasons: string;
  created_at: string;
  approval_expires_at: string | null;
  activated_at: string | null;
  expires_at: string;
  expiry_days: number;
  closed_at: string | null;
  last_download_at: string | null;
  delete_at: string | null;
  deletion_notified_at: string | null;
}

export interface ExchangeShareFilesTable {
  share_id: string;
  tenant_id: string;
  file_id: string;
  version_id: string;
  name: string;
  size: number;
  sha256: string;
}

export interface ExchangeRecipientsTable {
  id: string;
  tenant_id: string;
  share_id: string;
  email: string;
  domain: string;
  /** Null until the share is sent (after approval) and after deletion. */
  token_hash: string | null;
  downloads: number;
  last_download_at: string | null;
  verified_at: string | null;
  code_hash: string | null;
  code_expires_at: string | null;
  code_attempts: number;
  locked_until: string | null;
  session_hash: string | null;
  session_expires_at: string | null;
}

/**
 * Downloads per recipient and file. `count`: requests from byte 0 (shown to the sender); `bytes`:
 * bytes served, reserved when a request starts and the unsent rest given back when it ends — the
 * limit is `max_downloads × size` bytes, so ranges can resume a download but never exceed it.
 */
export interface ExchangeDownloadsTable {
  recipient_id: string;
  tenant_id: string;
  file_id: string;
  count: number;
  bytes: number;
  last_at: string;
}

export interface ExchangeApproversTable {
  tenant_id: string;
  group_id: string;
  user_id: string;
  deputy: number;
  created_at: string;
}

export interface ExchangeDecisionsTable {
  id: string;
  tenant_id: string;
  share_id: string;
  approver_id: string;
  group_id: string | null;
  decision: 'approved' | 'rejected';
  comment: string;
  decided_at: string;
}

export interface MalwareApprovalsTable {
  id: string;
  tenant_id: string;
  /** release: out of quarantine / held (two-person rule) · original: the unsanitised original on LGWAN (MAL-08). */
  kind: 'release' | 'original';
  version_id: string;
  requested_by: string;
  reason: string;
  /** cancelled: closed without a decision because the version's state or verdict changed (MAL-03). */
  state: 'pending' | 'approved' | 'rejected' | 'cancelled';
  decided_by: string | null;
  decided_at: string | null;
  created_at: string;
  /** The version's state, hold reason, verdict and signature when the request was filed; null before migration 0010. */
  version_state: string | null;
  hold_reason: string | null;
  scan_result: string | null;
  scan_signature: string | null;
}

export interface MailOutboxTable {
  id: string;
  tenant_id: string;
  to_address: string;
  template: string;
  lang: string;
  subject: string;
  body: string;
  /** queued → sent | failed (after the retries) | unsent (no SMTP configured: the admin forwards it). */
  state: 'queued' | 'sent' | 'failed' | 'unsent';
  attempts: number;
  last_error: string | null;
  message_id: string | null;
  created_at: string;
  sent_at: string | null;
}

export interface NotificationsTable {
  id: string;
  tenant_id: string;
  user_id: string;
  kind: string;
  /** JSON parameters for the UI's text (file name, signature, …). */
  params: string;
  created_at: string;
  read_at: string | null;
}

export interface UploadSessionsTable {
  id: string;
  tenant_id: string;
  user_id: string;
  folder_id: string;
  /** Set when the upload is a new version of this file. */
  file_id: string | null;
  name: string;
  content_type: string;
  on_conflict: 'error' | 'keep_both';
  /** Upload-Length: reserved against the quotas while the session is open. */
  length: number;
  /** Durable offset: staged ciphertext covers plaintext [0, offset). */
  offset: number;
  blob_id: string;
  kek_version: number;
  wrapped_dek: Buffer;
  zone: string;
  state: 'open' | 'completed';
  result_file_id: string | null;
  /** Set for a session opened by an outside party through this upload request (only they may continue it). */
  exchange_request_id: string | null;
  created_at: string;
  updated_at: string;
  expires_at: string;
}

/** A blob being written by a one-request upload (removed when its row commits). */
export interface BlobIntentsTable {
  id: string;
  tenant_id: string;
  created_at: string;
}

export interface DB {
  exchange_requests: ExchangeRequestsTable;
  exchange_request_files: ExchangeRequestFilesTable;
  exchange_shares: ExchangeSharesTable;
  exchange_share_files: ExchangeShareFilesTable;
  exchange_recipients: ExchangeRecipientsTable;
  exchange_approvers: ExchangeApproversTable;
  exchange_downloads: ExchangeDownloadsTable;
  exchange_decisions: ExchangeDecisionsTable;
  blob_intents: BlobIntentsTable;
  groups: GroupsTable;
  group_members: GroupMembersTable;
  folders: FoldersTable;
  folder_grants: FolderGrantsTable;
  blobs: BlobsTable;
  files: FilesTable;
  file_versions: FileVersionsTable;
  upload_sessions: UploadSessionsTable;
  malware_approvals: MalwareApprovalsTable;
  notifications: NotificationsTable;
  mail_outbox: MailOutboxTable;
  tenants: TenantsTable;
  tenant_keys: TenantKeysTable;
  service_keys: ServiceKeysTable;
  audit_events: AuditEventsTable;
  audit_heads: AuditHeadsTable;
  audit_reviews: AuditReviewsTable;
  audit_checkpoints: AuditCheckpointsTable;
  jobs: JobsTable;
  job_schedules: JobSchedulesTable;
  kura_meta: KuraMetaTable;
  users: UsersTable;
  password_history: PasswordHistoryTable;
  mfa_totp: MfaTotpTable;
  recovery_codes: RecoveryCodesTable;
  sessions: SessionsTable;
  setup_tokens: SetupTokensTable;
  api_tokens: ApiTokensTable;
  access_reviews: AccessReviewsTable;
  access_review_items: AccessReviewItemsTable;
  support_grants: SupportGrantsTable;
  webauthn_credentials: WebauthnCredentialsTable;
}
