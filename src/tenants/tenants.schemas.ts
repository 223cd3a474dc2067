import { z } from 'zod';

/** Slugs name a tenant in URLs and the CLI: lowercase ASCII, digits and hyphens, 2–63 characters. */
export const TenantSlug = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'lowercase letters, digits and hyphens, 2–63 characters, starting with a letter or digit');

export const CreateTenantInput = z.object({
  slug: TenantSlug,
  displayName: z.string().trim().min(1).max(200),
});
export type CreateTenantInput = z.infer<typeof CreateTenantInput>;

export const RESERVED_SLUGS = new Set(['system', 'api', 'admin', 'www', 'status', 'static', 'assets', 'kura']);
