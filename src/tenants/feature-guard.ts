import { AppError } from '../core/errors.js';
import type { Zone } from '../core/types.js';
import type { Feature, TenantSettings } from './tenant-settings.js';

/** The guard capabilities call before offering a switchable function (AC-06). */
export function isFeatureEnabled(settings: TenantSettings, zone: Zone, feature: Feature): boolean {
  return settings.features[zone][feature];
}

export function requireFeature(settings: TenantSettings, zone: Zone, feature: Feature): void {
  if (!isFeatureEnabled(settings, zone, feature)) throw new AppError('tenant.feature_disabled', feature);
}
