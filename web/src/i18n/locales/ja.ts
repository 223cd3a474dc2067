/**
 * Japanese messages: the default and the reference shape for every other language. Wording follows
 * what municipalities use (職員, 管理者, 承認, 無害化, 有効期限).
 */
export const ja = {
  app: {
    serviceName: '蔵 Kura',
    serviceTagline: '自治体向けセキュアファイル保管・交換サービス',
    skipToMain: '本文へ移動',
    documentTitle: '{{page}} | 蔵 Kura',
    footerNote: 'このサービスは LGWAN 系・インターネット系の両方から利用できます。',
    language: {
      label: '表示言語',
      ja: '日本語',
      en: 'English',
    },
    notFound: {
      title: 'ページが見つかりません',
      body: 'お探しのページは存在しないか、移動した可能性があります。',
      backToStatus: 'サービス稼働状況へ戻る',
    },
  },
  status: {
    title: 'サービス稼働状況',
    lead: '蔵 Kura の各系統の稼働状況をお知らせします。',
    loading: '稼働状況を取得しています…',
    refresh: '最新の状態に更新',
    refreshing: '更新しています…',
    overall: {
      operational: 'すべてのサービスが正常に稼働しています',
      degraded: '一部の機能が低下しています',
      down: '停止している系統があります',
    },
    overallBody: {
      operational: '現在、障害は発生していません。',
      degraded: '一部の機能が利用しにくい状態です。復旧までしばらくお待ちください。',
      down: '一部またはすべての系統でサービスを利用できません。復旧までしばらくお待ちください。',
    },
    table: {
      caption: '系統別の稼働状況',
      zone: '系統',
      state: '状態',
    },
    zone: {
      lgwan: 'LGWAN 系',
      internet: 'インターネット系',
    },
    state: {
      operational: '正常稼働',
      degraded: '一部機能低下',
      down: '停止',
    },
    details: {
      checkedAt: '確認日時',
      connectedVia: '接続している系統',
    },
    checkedAtValue: '{{time}}（日本時間）',
    errorTitle: '稼働状況を取得できませんでした',
  },
  icon: {
    success: '正常',
    warning: '注意',
    error: 'エラー',
  },
  errors: {
    network: 'サーバーに接続できませんでした。ネットワークの接続を確認して、もう一度お試しください。',
    unknown: '予期しないエラーが発生しました。しばらくしてから、もう一度お試しください。',
    'request.invalid': 'リクエストの内容に誤りがあります。',
    'request.malformed_json': 'リクエストの形式に誤りがあります。',
    'request.unsupported_media_type': 'この形式のデータは受け付けていません。',
    'request.too_large': '送信したデータが大きすぎます。',
    'request.rate_limited': 'アクセスが集中しています。しばらく待ってから、もう一度お試しください。',
    'request.forbidden_address': 'ご利用の接続元からはこの機能を利用できません。',
    'route.not_found': 'お探しの情報は見つかりませんでした。',
    'tenant.not_found': '指定された団体は見つかりませんでした。',
    'tenant.slug_taken': 'この識別子はすでに使われています。',
    'tenant.slug_reserved': 'この識別子は使用できません。',
    'audit.chain_broken': 'システムで問題が発生しました。管理者にお問い合わせください。',
    'crypto.key_unavailable': 'システムで問題が発生しました。管理者にお問い合わせください。',
    'service.unavailable': 'サービスを一時的に利用できません。しばらくしてから、もう一度お試しください。',
    'internal.error': 'システムで問題が発生しました。しばらくしてから、もう一度お試しください。',
  },
};

/** The shape every language must provide, key for key. */
export type Messages = typeof ja;
