/** Clients for access reviews (AC-04) and support access requests (lockbox, AC-07). */
import { ApiError, getJson, postJson } from '../../api/api-client';

export interface ReviewDiff {
  added: string[];
  removed: string[];
  changed: Array<{ loginId: string; from: string; to: string }>;
}

export interface ReviewSummary {
  id: string;
  state: 'open' | 'signed_off';
  startedBy: string;
  startedAt: string;
  dueAt: string;
  signedOffBy: string | null;
  signedOffAt: string | null;
  findings: string | null;
  diff: ReviewDiff;
}

export type Decision = 'pending' | 'confirmed' | 'revoked';

export interface ReviewItem {
  userId: string;
  loginId: string;
  displayName: string;
  role: string;
  state: string;
  lastLoginAt: string | null;
  decision: Decision;
  decidedBy: string | null;
  decidedAt: string | null;
  note: string | null;
}

export interface Review extends ReviewSummary {
  items: ReviewItem[];
}

function obj(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null) throw new ApiError('unknown', 200);
  return body as Record<string, unknown>;
}

function review(body: unknown): Review {
  const b = obj(body);
  if (typeof b.id !== 'string' || !Array.isArray(b.items)) throw new ApiError('unknown', 200);
  return b as unknown as Review;
}

export async function fetchReviews(): Promise<ReviewSummary[]> {
  const reviews = obj(await getJson('/api/v1/admin/access-reviews')).reviews;
  if (!Array.isArray(reviews)) throw new ApiError('unknown', 200);
  return reviews as ReviewSummary[];
}

export async function startReview(): Promise<Review> {
  return review(await postJson('/api/v1/admin/access-reviews'));
}

export async function fetchReview(id: string): Promise<Review> {
  return review(await getJson(`/api/v1/admin/access-reviews/${encodeURIComponent(id)}`));
}

export async function decideItem(id: string, userId: string, decision: 'confirmed' | 'revoked'): Promise<void> {
  await postJson(`/api/v1/admin/access-reviews/${encodeURIComponent(id)}/items/${encodeURIComponent(userId)}`, { decision });
}

export async function signOffReview(id: string, findings: string): Promise<Review> {
  return review(await postJson(`/api/v1/admin/access-reviews/${encodeURIComponent(id)}/sign-off`, { findings }));
}

export type GrantState = 'requested' | 'approved' | 'denied' | 'revoked' | 'expired';

export interface SupportGrant {
  id: string;
  tenant: { id: string; slug: string };
  operatorId: string;
  reason: string;
  durationMinutes: number;
  state: GrantState;
  requestedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  expiresAt: string | null;
}

export async function fetchGrants(): Promise<SupportGrant[]> {
  const grants = obj(await getJson('/api/v1/admin/support-grants')).grants;
  if (!Array.isArray(grants)) throw new ApiError('unknown', 200);
  return grants as SupportGrant[];
}

export async function decideGrant(id: string, decision: 'approve' | 'deny' | 'revoke'): Promise<SupportGrant> {
  return obj(await postJson(`/api/v1/admin/support-grants/${encodeURIComponent(id)}/${decision}`)) as unknown as SupportGrant;
}

/** The signed-in operator's own requests (AC-07). */
export async function fetchOperatorGrants(): Promise<SupportGrant[]> {
  const grants = obj(await getJson('/api/v1/operator/support-grants')).grants;
  if (!Array.isArray(grants)) throw new ApiError('unknown', 200);
  return grants as SupportGrant[];
}

export async function requestGrant(input: { tenant: string; reason: string; durationMinutes: number }): Promise<SupportGrant> {
  return obj(await postJson('/api/v1/operator/support-grants', input)) as unknown as SupportGrant;
}
