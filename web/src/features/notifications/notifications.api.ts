/**
 * Client for in-app notices (`GET /api/v1/notifications`, `POST /api/v1/notifications/read`; served
 * by src/malware/malware.routes.ts): quarantines, holds, 無害化 results, releases and decisions on
 * requests. `params` hold ids, names and codes only; the UI words each kind itself.
 */
import { ApiError, getJson, postJson } from '../../api/api-client';

export interface Notice {
  id: string;
  kind: string;
  params: Record<string, unknown>;
  createdAt: string;
  readAt: string | null;
}

export async function fetchNotices(signal?: AbortSignal): Promise<{ items: Notice[]; unread: number }> {
  const body = (await getJson('/api/v1/notifications', signal)) as { items?: unknown; unread?: unknown } | null;
  if (!body || !Array.isArray(body.items)) throw new ApiError('unknown', 200);
  return { items: body.items as Notice[], unread: typeof body.unread === 'number' ? body.unread : 0 };
}

/** Marks notices read: some, or every one. */
export async function markNoticesRead(ids: string[] | 'all'): Promise<void> {
  await postJson('/api/v1/notifications/read', { ids });
}
