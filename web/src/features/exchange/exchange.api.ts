/**
 * Client for the exchange capability (docs/exchange.md, src/exchange/): upload request links
 * (受け取り依頼) and the 受信箱 of what outside parties sent, share links to outside recipients
 * (送信) with the confirmation step (TLS-03) and 上長承認, the approver assignments per group, and the
 * API that outside parties use without a Kura account (`/api/v1/ext/…`, internet zone only; the
 * link token is the bearer and a per-link cookie proves the one-time code).
 *
 * Downloads are plain links (see the `*Url` helpers), so the browser streams them to disk.
 */
import { ApiError, getJson, postJson, putJson } from '../../api/api-client';

/** Block-list categories of the true-type check (src/malware/true-type.ts TYPE_CATEGORIES). */
export const TYPE_CATEGORIES = [
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
export type TypeCategory = (typeof TYPE_CATEGORIES)[number];
export const isTypeCategory = (c: unknown): c is TypeCategory => (TYPE_CATEGORIES as readonly unknown[]).includes(c);

export type RequestState = 'open' | 'expired' | 'closed' | 'revoked' | 'deleted';
export type InboxState = 'held' | 'available' | 'quarantined' | 'blocked' | 'damaged' | 'deleted';
export type ShareState = 'pending' | 'active' | 'rejected' | 'expired' | 'revoked' | 'deleted';
export type Verification = 'code' | 'password';
export type ExchangeLanguage = 'ja' | 'en';

/** A file an outside party sent through a request link. */
export interface InboxItem {
  requestId: string;
  requestTitle: string;
  fileId: string;
  name: string;
  size: number;
  sha256: string;
  uploadedAt: string;
  state: InboxState;
  /** 無害化 of the internet-origin file (pending, sanitised, sanitised_with_loss, failed, blocked); null when none. */
  sanitizeState: string | null;
  downloadedAt: string | null;
  /** When the exchanged copy is deleted (HR-05); null until the timer starts. */
  deleteAt: string | null;
}

export interface RequestDto {
  id: string;
  title: string;
  message: string;
  recipientEmail: string;
  state: RequestState;
  requireCode: boolean;
  allowedTypes: string[];
  maxBytes: number;
  createdAt: string;
  expiresAt: string;
  deleteAt: string | null;
  folderId: string;
  files: InboxItem[];
}

export interface CreateRequestInput {
  title: string;
  message?: string;
  recipientEmail: string;
  expiresInDays: number;
  /** Empty: any type the tenant accepts. */
  allowedTypes: TypeCategory[];
  maxBytes: number;
  requireCode: boolean;
  lang: ExchangeLanguage;
}

export interface ShareInput {
  fileIds: string[];
  recipients: string[];
  purpose: string;
  message?: string;
  expiresInDays: number;
  maxDownloads?: number;
  verification: Verification;
  password?: string;
  lang: ExchangeLanguage;
}

export interface SharePreview {
  recipients: Array<{ email: string; domain: string }>;
  domains: string[];
  files: Array<{ fileId: string; name: string; size: number; sha256: string; labels: string[] }>;
  approvalRequired: boolean;
  /** `policy`, `label:<label>`, `size`, `domain:<domain>`. */
  approvalReasons: string[];
  approvers: Array<{ id: string; name: string }>;
  expiresAt: string;
  maxDownloads: number | null;
  verification: Verification;
}

export interface ApprovalDecision {
  approverName: string;
  decision: 'approve' | 'reject';
  comment: string;
  decidedAt: string;
}

export interface ShareDto {
  id: string;
  senderId: string;
  senderName: string;
  purpose: string;
  message: string;
  state: ShareState;
  verification: Verification;
  maxDownloads: number | null;
  createdAt: string;
  activatedAt: string | null;
  expiresAt: string;
  deleteAt: string | null;
  approval: {
    required: boolean;
    mode: 'any' | 'all' | null;
    reasons: string[];
    expiresAt: string | null;
    decisions: ApprovalDecision[];
    canDecide: boolean;
  };
  files: Array<{ fileId: string; name: string; size: number; sha256: string }>;
  recipients: Array<{
    id: string;
    email: string;
    domain: string;
    downloads: number;
    lastDownloadAt: string | null;
    verifiedAt: string | null;
  }>;
}

export interface ApproverAssignment {
  groupId: string;
  groupName: string;
  userId: string;
  userName: string;
  deputy: boolean;
}

/** Limits the server checks (docs/exchange.md); checked here first for a clear message. */
export const SHARE_LIMITS = { files: 50, recipients: 20, purpose: 500 } as const;
/** Longest link validity when the session does not say the tenant's (tenant settings allow up to 365). */
export const FALLBACK_MAX_EXPIRY_DAYS = 365;
/** Link passwords: at least this many characters (share.password_weak). */
export const LINK_PASSWORD_MIN = 12;

const enc = encodeURIComponent;

function obj<T>(body: unknown, key?: string): T {
  if (typeof body !== 'object' || body === null || (key !== undefined && !(key in body))) throw new ApiError('unknown', 200);
  return body as T;
}

function items<T>(body: unknown): T[] {
  const list = obj<{ items: unknown }>(body, 'items').items;
  if (!Array.isArray(list)) throw new ApiError('unknown', 200);
  return list as T[];
}

// --- Upload requests (受け取り依頼) and the 受信箱 -------------------------------------------------

/** Creates a request link; the answer carries the link once (it is also mailed to the recipient). */
export async function createRequest(input: CreateRequestInput): Promise<RequestDto & { link: string }> {
  return obj<RequestDto & { link: string }>(await postJson('/api/v1/exchange/requests', input), 'link');
}

export async function fetchRequests(signal?: AbortSignal): Promise<RequestDto[]> {
  return items<RequestDto>(await getJson('/api/v1/exchange/requests', signal));
}

export async function fetchRequest(id: string): Promise<RequestDto> {
  return obj<RequestDto>(await getJson(`/api/v1/exchange/requests/${enc(id)}`), 'id');
}

export async function revokeRequest(id: string): Promise<void> {
  await postJson(`/api/v1/exchange/requests/${enc(id)}/revoke`);
}

export async function fetchInbox(signal?: AbortSignal): Promise<InboxItem[]> {
  return items<InboxItem>(await getJson('/api/v1/exchange/inbox', signal));
}

/** A received file (on LGWAN its 無害化 version); the download starts the deletion timer. */
export function inboxContentUrl(fileId: string): string {
  return `/api/v1/exchange/inbox/${enc(fileId)}/content`;
}

// --- Shares (送信) and 上長承認 ----------------------------------------------------------------------

/** What a share would be: every recipient and domain, the files' labels, whether approval is needed. */
export async function previewShare(input: ShareInput): Promise<SharePreview> {
  return obj<SharePreview>(await postJson('/api/v1/exchange/shares/preview', input), 'domains');
}

/** Sends; `confirmedDomains` must be the preview's domains (share.confirmation_required otherwise). */
export async function createShare(input: ShareInput & { confirmedDomains: string[] }): Promise<ShareDto> {
  return obj<ShareDto>(await postJson('/api/v1/exchange/shares', input), 'id');
}

export async function fetchShares(signal?: AbortSignal): Promise<ShareDto[]> {
  return items<ShareDto>(await getJson('/api/v1/exchange/shares', signal));
}

export async function fetchShare(id: string): Promise<ShareDto> {
  return obj<ShareDto>(await getJson(`/api/v1/exchange/shares/${enc(id)}`), 'id');
}

export async function revokeShare(id: string): Promise<void> {
  await postJson(`/api/v1/exchange/shares/${enc(id)}/revoke`);
}

export async function fetchApprovals(signal?: AbortSignal): Promise<ShareDto[]> {
  return items<ShareDto>(await getJson('/api/v1/exchange/approvals', signal));
}

export async function decideShare(shareId: string, decision: 'approve' | 'reject', comment: string): Promise<ShareDto> {
  return obj<ShareDto>(await postJson(`/api/v1/exchange/approvals/${enc(shareId)}`, { decision, comment }), 'id');
}

/** The version of a shared file the approver looks at before deciding (the 無害化 view when there is one). */
export function approvalFileUrl(shareId: string, fileId: string): string {
  return `/api/v1/exchange/approvals/${enc(shareId)}/files/${enc(fileId)}/content`;
}

export async function fetchApprovers(signal?: AbortSignal): Promise<ApproverAssignment[]> {
  return items<ApproverAssignment>(await getJson('/api/v1/exchange/approvers', signal));
}

export async function saveApprovers(groupId: string, approvers: Array<{ userId: string; deputy: boolean }>): Promise<void> {
  await putJson(`/api/v1/exchange/approvers/${enc(groupId)}`, { approvers });
}

// --- Outside parties (no Kura account; internet zone) --------------------------------------------

export interface ExtFile {
  name: string;
  size: number;
  sha256: string;
  uploadedAt: string;
}

export type ExtRequest =
  | { verified: false; emailHint: string }
  | {
      verified: true;
      title: string;
      message: string;
      senderName: string;
      organization: string;
      allowedTypes: string[];
      maxBytes: number;
      expiresAt: string;
      files: ExtFile[];
    };

export type ExtShare =
  | { verified: false; verification: Verification; emailHint: string }
  | {
      verified: true;
      senderName: string;
      organization: string;
      purpose: string;
      message: string;
      expiresAt: string;
      files: Array<{ fileId: string; name: string; size: number; sha256: string; downloadsLeft: number | null }>;
    };

function verifiedFlag<T extends { verified: boolean }>(body: unknown): T {
  const b = obj<{ verified: unknown }>(body, 'verified');
  if (typeof b.verified !== 'boolean') throw new ApiError('unknown', 200);
  return b as unknown as T;
}

const extRequestPath = (token: string) => `/api/v1/ext/requests/${enc(token)}`;
const extSharePath = (token: string) => `/api/v1/ext/shares/${enc(token)}`;

export async function fetchExtRequest(token: string, signal?: AbortSignal): Promise<ExtRequest> {
  return verifiedFlag<ExtRequest>(await getJson(extRequestPath(token), signal));
}

/** Mails a new one-time code to the request's address (at most once a minute). */
export async function sendExtRequestCode(token: string): Promise<void> {
  await postJson(`${extRequestPath(token)}/code`);
}

export async function verifyExtRequest(token: string, code: string): Promise<void> {
  await postJson(`${extRequestPath(token)}/verify`, { code });
}

/** The tus 1.0 endpoint for an outside party's uploads. */
export function extUploadEndpoint(token: string): string {
  return `${extRequestPath(token)}/uploads`;
}

export async function fetchExtShare(token: string, signal?: AbortSignal): Promise<ExtShare> {
  return verifiedFlag<ExtShare>(await getJson(extSharePath(token), signal));
}

export async function sendExtShareCode(token: string): Promise<void> {
  await postJson(`${extSharePath(token)}/code`);
}

export async function verifyExtShare(token: string, proof: { code: string } | { password: string }): Promise<void> {
  await postJson(`${extSharePath(token)}/verify`, proof);
}

/** A shared file for the recipient; a request from byte 0 counts as a download. */
export function extShareFileUrl(token: string, fileId: string): string {
  return `${extSharePath(token)}/files/${enc(fileId)}/content`;
}
