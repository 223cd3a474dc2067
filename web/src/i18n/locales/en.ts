import type { Messages } from './ja.js';

export const en: Messages = {
  app: {
    serviceName: '蔵 Kura',
    serviceTagline: 'Secure file storage and exchange for local governments',
    skipToMain: 'Skip to main content',
    documentTitle: '{{page}} | Kura',
    footerNote: 'This service is available from both the LGWAN zone and the internet zone.',
    language: {
      label: 'Language',
      ja: '日本語',
      en: 'English',
    },
    notFound: {
      title: 'Page not found',
      body: 'The page you are looking for does not exist or has moved.',
      backToStatus: 'Back to service status',
    },
  },
  status: {
    title: 'Service status',
    lead: 'The current status of each Kura zone.',
    loading: 'Checking the service status…',
    refresh: 'Refresh',
    refreshing: 'Refreshing…',
    overall: {
      operational: 'All services are operating normally',
      degraded: 'Some functions are degraded',
      down: 'A zone is down',
    },
    overallBody: {
      operational: 'There are no known problems at the moment.',
      degraded: 'Some functions may be slow or unavailable. We are working to restore them.',
      down: 'The service is unavailable in one or more zones. We are working to restore it.',
    },
    table: {
      caption: 'Status by zone',
      zone: 'Zone',
      state: 'Status',
    },
    zone: {
      lgwan: 'LGWAN zone',
      internet: 'Internet zone',
    },
    state: {
      operational: 'Operational',
      degraded: 'Degraded',
      down: 'Down',
    },
    details: {
      checkedAt: 'Checked at',
      connectedVia: 'Connected through',
    },
    checkedAtValue: '{{time}} (Japan Standard Time)',
    errorTitle: 'The service status could not be retrieved',
  },
  icon: {
    success: 'OK',
    warning: 'Warning',
    error: 'Error',
  },
  errors: {
    network: 'Could not reach the server. Check your network connection and try again.',
    unknown: 'An unexpected error occurred. Please try again later.',
    'request.invalid': 'The request contains invalid values.',
    'request.malformed_json': 'The request is not in the expected format.',
    'request.unsupported_media_type': 'This type of data is not accepted.',
    'request.too_large': 'The data sent is too large.',
    'request.rate_limited': 'Too many requests. Please wait a moment and try again.',
    'request.forbidden_address': 'This function is not available from your network.',
    'route.not_found': 'The requested information was not found.',
    'tenant.not_found': 'The organisation was not found.',
    'tenant.slug_taken': 'This identifier is already in use.',
    'tenant.slug_reserved': 'This identifier cannot be used.',
    'audit.chain_broken': 'A system problem occurred. Please contact your administrator.',
    'crypto.key_unavailable': 'A system problem occurred. Please contact your administrator.',
    'service.unavailable': 'The service is temporarily unavailable. Please try again later.',
    'internal.error': 'A system problem occurred. Please try again later.',
  },
};
