/**
 * One set of migrations for both engines (design §2). Column types that differ are chosen by the
 * helpers below; audit tables are append-only on both engines (LOG-02): triggers raise on UPDATE
 * and DELETE, and on PostgreSQL the application role is granted SELECT and INSERT only.
 */
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { Database, Dialect } from './database.js';

type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Types {
  blob: 'blob' | 'bytea';
  bigint: 'integer' | 'bigint';
}

function typesFor(dialect: Dialect): Types {
  return dialect === 'sqlite' ? { blob: 'blob', bigint: 'integer' } : { blob: 'bytea', bigint: 'bigint' };
}

const APPEND_ONLY_TABLES = ['audit_events', 'audit_checkpoints'] as const;

async function appendOnly(db: AnyDb, dialect: Dialect, table: string): Promise<void> {
  if (dialect === 'sqlite') {
    for (const op of ['update', 'delete'] as const) {
      await sql
        .raw(
          `create trigger ${table}_no_${op} before ${op} on ${table} begin select raise(abort, '${table} is append-only'); end`,
        )
        .execute(db);
    }
    return;
  }
  await sql
    .raw(
      `create or replace function kura_append_only() returns trigger language plpgsql as $$
       begin raise exception '% is append-only', tg_table_name using errcode = '42501'; end $$`,
    )
    .execute(db);
  await sql
    .raw(
      `create trigger ${table}_append_only before update or delete on ${table} for each row execute function kura_append_only()`,
    )
    .execute(db);
  await sql
    .raw(`create trigger ${table}_no_truncate before truncate on ${table} for each statement execute function kura_append_only()`)
    .execute(db);
}

function migrations(dialect: Dialect): Record<string, Migration> {
  const t = typesFor(dialect);
  return {
    '0001_foundation': {
      async up(db: AnyDb) {
        await db.schema
          .createTable('kura_meta')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('value', 'text', (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('tenants')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('slug', 'text', (c) => c.notNull().unique())
          .addColumn('display_name', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('settings', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('tenant_keys')
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('version', 'integer', (c) => c.notNull())
          .addColumn('wrapped_key', t.blob)
          .addColumn('master_key_id', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('destroyed_at', 'text')
          .addPrimaryKeyConstraint('tenant_keys_pk', ['tenant_id', 'version'])
          .execute();

        await db.schema
          .createTable('service_keys')
          .addColumn('purpose', 'text', (c) => c.primaryKey())
          .addColumn('key_id', 'text', (c) => c.notNull())
          .addColumn('wrapped_key', t.blob, (c) => c.notNull())
          .addColumn('public_key', 'text')
          .addColumn('master_key_id', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('audit_events')
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('seq', t.bigint, (c) => c.notNull())
          .addColumn('occurred_at', 'text', (c) => c.notNull())
          .addColumn('actor_type', 'text', (c) => c.notNull())
          .addColumn('actor_id', 'text')
          .addColumn('ip', 'text')
          .addColumn('zone', 'text')
          .addColumn('user_agent', 'text')
          .addColumn('request_id', 'text')
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('target_type', 'text')
          .addColumn('target_id', 'text')
          .addColumn('outcome', 'text', (c) => c.notNull())
          .addColumn('reason', 'text')
          .addColumn('details', 'text', (c) => c.notNull())
          .addColumn('prev_hash', 'text', (c) => c.notNull())
          .addColumn('entry_hash', 'text', (c) => c.notNull())
          .addColumn('entry_mac', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('audit_events_pk', ['tenant_id', 'seq'])
          .execute();
        await db.schema.createIndex('audit_events_time').on('audit_events').columns(['tenant_id', 'occurred_at']).execute();
        await db.schema.createIndex('audit_events_action').on('audit_events').columns(['tenant_id', 'action']).execute();

        await db.schema
          .createTable('audit_heads')
          .addColumn('tenant_id', 'text', (c) => c.primaryKey().references('tenants.id'))
          .addColumn('seq', t.bigint, (c) => c.notNull())
          .addColumn('entry_hash', 'text', (c) => c.notNull())
          .addColumn('frontier', 'text', (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('audit_checkpoints')
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('no', t.bigint, (c) => c.notNull())
          .addColumn('size', t.bigint, (c) => c.notNull())
          .addColumn('root_hash', 'text', (c) => c.notNull())
          .addColumn('checkpointed_at', 'text', (c) => c.notNull())
          .addColumn('key_id', 'text', (c) => c.notNull())
          .addColumn('signature', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('audit_checkpoints_pk', ['tenant_id', 'no'])
          .execute();

        for (const table of APPEND_ONLY_TABLES) await appendOnly(db, dialect, table);

        await db.schema
          .createTable('jobs')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('tenant_id', 'text', (c) => c.references('tenants.id'))
          .addColumn('payload', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('run_at', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull())
          .addColumn('max_attempts', 'integer', (c) => c.notNull())
          .addColumn('last_error', 'text')
          .addColumn('locked_by', 'text')
          .addColumn('locked_until', 'text')
          .addColumn('dedupe_key', 'text', (c) => c.unique())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('finished_at', 'text')
          .execute();
        await db.schema.createIndex('jobs_due').on('jobs').columns(['state', 'run_at']).execute();

        await db.schema
          .createTable('job_schedules')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('payload', 'text', (c) => c.notNull())
          .addColumn('interval_ms', t.bigint, (c) => c.notNull())
          .addColumn('next_run_at', 'text', (c) => c.notNull())
          .execute();
      },
    },
    '0002_identity': {
      async up(db: AnyDb) {
        await db.schema
          .createTable('users')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('login_id', 'text', (c) => c.notNull())
          .addColumn('display_name', 'text', (c) => c.notNull())
          .addColumn('email', 'text')
          .addColumn('role', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('password_hash', 'text')
          .addColumn('password_changed_at', 'text')
          .addColumn('must_change_password', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('failed_attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('locked_until', 'text')
          .addColumn('last_login_at', 'text')
          .addColumn('last_login_ip', 'text')
          .addColumn('last_login_zone', 'text')
          .addColumn('failures_since_login', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('mfa_reset_at', 'text')
          .addColumn('terms_version', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('terms_accepted_at', 'text')
          .addColumn('created_by', 'text')
          .addColumn('approved_by', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addColumn('deleted_at', 'text')
          // AC-02: deleted users keep their row (tombstone), so a login ID is never reused.
          .addUniqueConstraint('users_login_unique', ['tenant_id', 'login_id'])
          .execute();

        await db.schema
          .createTable('password_history')
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
          .addColumn('password_hash', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('password_history_user')
          .on('password_history')
          .columns(['tenant_id', 'user_id', 'created_at'])
          .execute();

        await db.schema
          .createTable('mfa_totp')
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id'))
          .addColumn('secret_wrapped', t.blob, (c) => c.notNull())
          .addColumn('kek_version', 'integer', (c) => c.notNull())
          .addColumn('algorithm', 'text', (c) => c.notNull())
          .addColumn('confirmed_at', 'text')
          .addColumn('last_used_step', t.bigint)
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('recovery_codes')
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
          .addColumn('code_hash', 'text', (c) => c.notNull())
          .addColumn('used_at', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('recovery_codes_pk', ['tenant_id', 'user_id', 'code_hash'])
          .execute();

        await db.schema
          .createTable('sessions')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
          .addColumn('stage', 'text', (c) => c.notNull())
          .addColumn('zone', 'text', (c) => c.notNull())
          .addColumn('ip', 'text')
          .addColumn('user_agent', 'text')
          .addColumn('csrf_token', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('last_seen_at', 'text', (c) => c.notNull())
          .addColumn('idle_expires_at', 'text', (c) => c.notNull())
          .addColumn('absolute_expires_at', 'text', (c) => c.notNull())
          .addColumn('mfa_at', 'text')
          .addColumn('revoked_at', 'text')
          .addColumn('revoked_reason', 'text')
          .addColumn('webauthn_challenge', 'text')
          // the login before this one, shown after sign-in (AC-12)
          .addColumn('prev_login_at', 'text')
          .addColumn('prev_login_ip', 'text')
          .addColumn('prev_login_zone', 'text')
          .addColumn('prev_failures', 'integer')
          .execute();
        await db.schema.createIndex('sessions_user').on('sessions').columns(['tenant_id', 'user_id']).execute();

        await db.schema
          .createTable('api_tokens')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('token_hash', 'text', (c) => c.notNull().unique())
          .addColumn('scopes', 'text', (c) => c.notNull())
          .addColumn('expires_at', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('last_used_at', 'text')
          .addColumn('last_used_ip', 'text')
          .addColumn('revoked_at', 'text')
          .execute();
        await db.schema.createIndex('api_tokens_user').on('api_tokens').columns(['tenant_id', 'user_id']).execute();

        await db.schema
          .createTable('webauthn_credentials')
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
          .addColumn('credential_id', 'text', (c) => c.notNull())
          .addColumn('public_key', t.blob, (c) => c.notNull())
          .addColumn('counter', t.bigint, (c) => c.notNull())
          .addColumn('transports', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('last_used_at', 'text')
          .addPrimaryKeyConstraint('webauthn_credentials_pk', ['tenant_id', 'credential_id'])
          .execute();

        await db.schema
          .createTable('setup_tokens')
          .addColumn('token_hash', 'text', (c) => c.primaryKey())
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
          .addColumn('purpose', 'text', (c) => c.notNull())
          .addColumn('expires_at', 'text', (c) => c.notNull())
          .addColumn('used_at', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();
      },
    },
    '0003_access_reviews': {
      async up(db: AnyDb) {
        await db.schema
          .createTable('access_reviews')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('started_by', 'text', (c) => c.notNull())
          .addColumn('started_at', 'text', (c) => c.notNull())
          .addColumn('due_at', 'text', (c) => c.notNull())
          .addColumn('diff', 'text', (c) => c.notNull())
          .addColumn('signed_off_by', 'text')
          .addColumn('signed_off_at', 'text')
          .addColumn('findings', 'text')
          .execute();
        await db.schema.createIndex('access_reviews_tenant').on('access_reviews').columns(['tenant_id', 'started_at']).execute();
        await db.schema
          .createTable('access_review_items')
          .addColumn('review_id', 'text', (c) => c.notNull().references('access_reviews.id'))
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
          .addColumn('login_id', 'text', (c) => c.notNull())
          .addColumn('display_name', 'text', (c) => c.notNull())
          .addColumn('role', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('last_login_at', 'text')
          .addColumn('decision', 'text', (c) => c.notNull())
          .addColumn('decided_by', 'text')
          .addColumn('decided_at', 'text')
          .addColumn('note', 'text')
          .addPrimaryKeyConstraint('access_review_items_pk', ['review_id', 'user_id'])
          .execute();
      },
    },
    '0004_support_grants': {
      async up(db: AnyDb) {
        await db.schema
          .createTable('support_grants')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('operator_id', 'text', (c) => c.notNull().references('users.id'))
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('duration_minutes', 'integer', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('requested_at', 'text', (c) => c.notNull())
          .addColumn('decided_by', 'text')
          .addColumn('decided_at', 'text')
          .addColumn('expires_at', 'text')
          .execute();
        await db.schema
          .createIndex('support_grants_tenant')
          .on('support_grants')
          .columns(['tenant_id', 'requested_at'])
          .execute();
      },
    },
    '0005_files': {
      async up(db: AnyDb) {
        await db.schema
          .createTable('groups')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('groups_tenant_name').on('groups').columns(['tenant_id', 'name']).unique().execute();
        await db.schema
          .createTable('group_members')
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id'))
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
          .addPrimaryKeyConstraint('group_members_pk', ['group_id', 'user_id'])
          .execute();
        await db.schema.createIndex('group_members_user').on('group_members').columns(['tenant_id', 'user_id']).execute();

        await db.schema
          .createTable('folders')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('parent_id', 'text', (c) => c.references('folders.id'))
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('name_key', 'text', (c) => c.notNull())
          .addColumn('owner_id', 'text', (c) => c.notNull().references('users.id'))
          .addColumn('created_by', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addColumn('deleted_at', 'text')
          .addColumn('deleted_by', 'text')
          .execute();
        await db.schema.createIndex('folders_parent').on('folders').columns(['tenant_id', 'parent_id']).execute();
        await db.schema.createIndex('folders_owner').on('folders').columns(['tenant_id', 'owner_id']).execute();
        // One live entry per name (case-insensitive) in a folder; trashed entries keep their names.
        await db.schema
          .createIndex('folders_live_name')
          .on('folders')
          .columns(['tenant_id', 'parent_id', 'name_key'])
          .unique()
          .where(sql.ref('deleted_at'), 'is', null)
          .execute();

        await db.schema
          .createTable('folder_grants')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('folder_id', 'text', (c) => c.notNull().references('folders.id'))
          .addColumn('subject_type', 'text', (c) => c.notNull())
          .addColumn('subject_id', 'text', (c) => c.notNull())
          .addColumn('role', 'text', (c) => c.notNull())
          .addColumn('granted_by', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('folder_grants_subject')
          .on('folder_grants')
          .columns(['tenant_id', 'folder_id', 'subject_type', 'subject_id'])
          .unique()
          .execute();
        await db.schema
          .createIndex('folder_grants_by_subject')
          .on('folder_grants')
          .columns(['tenant_id', 'subject_type', 'subject_id'])
          .execute();

        await db.schema
          .createTable('blobs')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('kek_version', 'integer', (c) => c.notNull())
          .addColumn('wrapped_dek', t.blob, (c) => c.notNull())
          .addColumn('plain_size', t.bigint, (c) => c.notNull())
          .addColumn('cipher_size', t.bigint, (c) => c.notNull())
          .addColumn('sha256', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('verified_at', 'text')
          .addColumn('damaged_at', 'text')
          .addColumn('damage', 'text')
          .execute();
        await db.schema.createIndex('blobs_tenant_kek').on('blobs').columns(['tenant_id', 'kek_version']).execute();
        await db.schema.createIndex('blobs_verified').on('blobs').columns(['verified_at']).execute();

        await db.schema
          .createTable('files')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('folder_id', 'text', (c) => c.notNull().references('folders.id'))
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('name_key', 'text', (c) => c.notNull())
          .addColumn('created_by', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addColumn('deleted_at', 'text')
          .addColumn('deleted_by', 'text')
          .execute();
        await db.schema.createIndex('files_folder').on('files').columns(['tenant_id', 'folder_id']).execute();
        await db.schema
          .createIndex('files_live_name')
          .on('files')
          .columns(['tenant_id', 'folder_id', 'name_key'])
          .unique()
          .where(sql.ref('deleted_at'), 'is', null)
          .execute();

        await db.schema
          .createTable('file_versions')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('file_id', 'text', (c) => c.notNull().references('files.id'))
          .addColumn('version', 'integer', (c) => c.notNull())
          .addColumn('blob_id', 'text', (c) => c.notNull().references('blobs.id'))
          .addColumn('size', t.bigint, (c) => c.notNull())
          .addColumn('sha256', 'text', (c) => c.notNull())
          .addColumn('content_type', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('scan_engine', 'text')
          .addColumn('scan_engine_version', 'text')
          .addColumn('scan_result', 'text')
          .addColumn('scan_signature', 'text')
          .addColumn('scan_attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('scanned_at', 'text')
          .addColumn('origin_zone', 'text', (c) => c.notNull())
          .addColumn('uploaded_by', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('file_versions_file')
          .on('file_versions')
          .columns(['tenant_id', 'file_id', 'version'])
          .unique()
          .execute();
        await db.schema.createIndex('file_versions_state').on('file_versions').columns(['tenant_id', 'state']).execute();
        await db.schema.createIndex('file_versions_blob').on('file_versions').columns(['tenant_id', 'blob_id']).execute();
        await db.schema.createIndex('file_versions_uploader').on('file_versions').columns(['tenant_id', 'uploaded_by']).execute();

        await db.schema
          .createTable('upload_sessions')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
          .addColumn('folder_id', 'text', (c) => c.notNull().references('folders.id'))
          .addColumn('file_id', 'text')
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('content_type', 'text', (c) => c.notNull())
          .addColumn('on_conflict', 'text', (c) => c.notNull())
          .addColumn('length', t.bigint, (c) => c.notNull())
          .addColumn('offset', t.bigint, (c) => c.notNull())
          .addColumn('blob_id', 'text', (c) => c.notNull())
          .addColumn('kek_version', 'integer', (c) => c.notNull())
          .addColumn('wrapped_dek', t.blob, (c) => c.notNull())
          .addColumn('zone', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('result_file_id', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addColumn('expires_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('upload_sessions_user')
          .on('upload_sessions')
          .columns(['tenant_id', 'user_id', 'state'])
          .execute();
        await db.schema.createIndex('upload_sessions_expiry').on('upload_sessions').columns(['state', 'expires_at']).execute();
      },
    },
    '0006_blob_intents': {
      async up(db: AnyDb) {
        // A blob about to be written by a one-request upload: if the process dies before the row
        // commits, the cleanup job finds the intent and removes the unreferenced ciphertext.
        await db.schema
          .createTable('blob_intents')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('blob_intents_created').on('blob_intents').columns(['created_at']).execute();
      },
    },
    '0007_malware': {
      async up(db: AnyDb) {
        // True type, hold reasons, 無害化 results and the sanitised blob, releases (MAL-03 … MAL-08).
        for (const [name, type] of [
          ['detected_type', 'text'],
          ['hold_reason', 'text'],
          ['sanitize_state', 'text'],
          ['sanitized_blob_id', 'text'],
          ['sanitized_size', 'bigint'],
          ['sanitized_sha256', 'text'],
          ['sanitized_content_type', 'text'],
          ['sanitized_name', 'text'],
          ['sanitize_report', 'text'],
          ['sanitized_at', 'text'],
          ['released_by', 'text'],
          ['released_at', 'text'],
          ['release_reason', 'text'],
        ] as const) {
          await db.schema.alterTable('file_versions').addColumn(name, type).execute();
        }
        await db.schema.createIndex('file_versions_scanned').on('file_versions').columns(['scanned_at']).execute();
        // Requests that need a (second) administrator or an approver: releases from quarantine under
        // the two-person rule, and access to the original of a sanitised file on the LGWAN zone.
        await db.schema
          .createTable('malware_approvals')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('version_id', 'text', (c) => c.notNull().references('file_versions.id'))
          .addColumn('requested_by', 'text', (c) => c.notNull())
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('decided_by', 'text')
          .addColumn('decided_at', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('malware_approvals_version')
          .on('malware_approvals')
          .columns(['tenant_id', 'version_id', 'kind'])
          .execute();
        // In-app notices (MAL-03: uploader and admins told about infected files).
        await db.schema
          .createTable('notifications')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('params', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('read_at', 'text')
          .execute();
        await db.schema
          .createIndex('notifications_user')
          .on('notifications')
          .columns(['tenant_id', 'user_id', 'created_at'])
          .execute();
      },
    },
    '0008_mail': {
      async up(db: AnyDb) {
        // Outgoing mail (TLS-04): rendered when queued, sent by a job with retries; visible to admins.
        await db.schema
          .createTable('mail_outbox')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('to_address', 'text', (c) => c.notNull())
          .addColumn('template', 'text', (c) => c.notNull())
          .addColumn('lang', 'text', (c) => c.notNull())
          .addColumn('subject', 'text', (c) => c.notNull())
          .addColumn('body', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull())
          .addColumn('last_error', 'text')
          .addColumn('message_id', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('sent_at', 'text')
          .execute();
        await db.schema.createIndex('mail_outbox_tenant').on('mail_outbox').columns(['tenant_id', 'created_at']).execute();
      },
    },
    '0009_exchange': {
      async up(db: AnyDb) {
        // Classification labels (PII-01) on files and folders, and the personal-data check of each version (PII-02).
        await db.schema
          .alterTable('files')
          .addColumn('labels', 'text', (c) => c.notNull().defaultTo('[]'))
          .execute();
        await db.schema
          .alterTable('folders')
          .addColumn('labels', 'text', (c) => c.notNull().defaultTo('[]'))
          .execute();
        for (const [name, type] of [
          ['pii_state', 'text'],
          ['pii_hits', 'text'],
          ['pii_checked_at', 'text'],
        ] as const) {
          await db.schema.alterTable('file_versions').addColumn(name, type).execute();
        }
        await db.schema.alterTable('upload_sessions').addColumn('exchange_request_id', 'text').execute();
        // Upload request links (受け取り, LG-03): one per outside party; tokens and codes stored hashed.
        await db.schema
          .createTable('exchange_requests')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('created_by', 'text', (c) => c.notNull().references('users.id'))
          .addColumn('folder_id', 'text', (c) => c.notNull().references('folders.id'))
          .addColumn('title', 'text', (c) => c.notNull())
          .addColumn('message', 'text', (c) => c.notNull())
          .addColumn('recipient_email', 'text', (c) => c.notNull())
          .addColumn('lang', 'text', (c) => c.notNull())
          .addColumn('token_hash', 'text', (c) => c.notNull().unique())
          .addColumn('require_code', 'integer', (c) => c.notNull())
          .addColumn('allowed_types', 'text', (c) => c.notNull())
          .addColumn('max_bytes', 'bigint', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('expires_at', 'text', (c) => c.notNull())
          .addColumn('closed_at', 'text')
          .addColumn('code_hash', 'text')
          .addColumn('code_expires_at', 'text')
          .addColumn('code_attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('locked_until', 'text')
          .addColumn('session_hash', 'text')
          .addColumn('session_expires_at', 'text')
          .addColumn('last_download_at', 'text')
          .addColumn('delete_at', 'text')
          .addColumn('deletion_notified_at', 'text')
          .execute();
        await db.schema
          .createIndex('exchange_requests_owner')
          .on('exchange_requests')
          .columns(['tenant_id', 'created_by', 'created_at'])
          .execute();
        await db.schema
          .createTable('exchange_request_files')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('request_id', 'text', (c) => c.notNull().references('exchange_requests.id'))
          .addColumn('file_id', 'text', (c) => c.notNull().references('files.id'))
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('size', 'bigint', (c) => c.notNull())
          .addColumn('sha256', 'text', (c) => c.notNull())
          .addColumn('uploaded_at', 'text', (c) => c.notNull())
          .addColumn('ip', 'text')
          .addColumn('downloaded_at', 'text')
          .execute();
        await db.schema
          .createIndex('exchange_request_files_request')
          .on('exchange_request_files')
          .columns(['tenant_id', 'request_id'])
          .execute();
        // Share links to outside parties (送信, TLS-03, HR-05): purpose, expiry, limits, approval, recipients.
        await db.schema
          .createTable('exchange_shares')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('created_by', 'text', (c) => c.notNull().references('users.id'))
          .addColumn('purpose', 'text', (c) => c.notNull())
          .addColumn('message', 'text', (c) => c.notNull())
          .addColumn('lang', 'text', (c) => c.notNull())
          .addColumn('verification', 'text', (c) => c.notNull())
          .addColumn('password_hash', 'text')
          .addColumn('max_downloads', 'integer', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('approval_mode', 'text')
          .addColumn('approval_groups', 'text', (c) => c.notNull())
          .addColumn('approval_reasons', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('approval_expires_at', 'text')
          .addColumn('activated_at', 'text')
          .addColumn('expires_at', 'text', (c) => c.notNull())
          .addColumn('expiry_days', 'integer', (c) => c.notNull())
          .addColumn('closed_at', 'text')
          .addColumn('last_download_at', 'text')
          .addColumn('delete_at', 'text')
          .addColumn('deletion_notified_at', 'text')
          .execute();
        await db.schema
          .createIndex('exchange_shares_owner')
          .on('exchange_shares')
          .columns(['tenant_id', 'created_by', 'created_at'])
          .execute();
        await db.schema.createIndex('exchange_shares_state').on('exchange_shares').columns(['state', 'expires_at']).execute();
        await db.schema
          .createTable('exchange_share_files')
          .addColumn('share_id', 'text', (c) => c.notNull().references('exchange_shares.id'))
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('file_id', 'text', (c) => c.notNull().references('files.id'))
          .addColumn('version_id', 'text', (c) => c.notNull().references('file_versions.id'))
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('size', 'bigint', (c) => c.notNull())
          .addColumn('sha256', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('exchange_share_files_pk', ['share_id', 'file_id'])
          .execute();
        await db.schema
          .createTable('exchange_recipients')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('share_id', 'text', (c) => c.notNull().references('exchange_shares.id'))
          .addColumn('email', 'text', (c) => c.notNull())
          .addColumn('domain', 'text', (c) => c.notNull())
          .addColumn('token_hash', 'text', (c) => c.unique())
          .addColumn('downloads', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('last_download_at', 'text')
          .addColumn('verified_at', 'text')
          .addColumn('code_hash', 'text')
          .addColumn('code_expires_at', 'text')
          .addColumn('code_attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('locked_until', 'text')
          .addColumn('session_hash', 'text')
          .addColumn('session_expires_at', 'text')
          .execute();
        await db.schema
          .createIndex('exchange_recipients_share')
          .on('exchange_recipients')
          .columns(['tenant_id', 'share_id'])
          .execute();
        await db.schema
          .createTable('exchange_downloads')
          .addColumn('recipient_id', 'text', (c) => c.notNull().references('exchange_recipients.id'))
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('file_id', 'text', (c) => c.notNull())
          .addColumn('count', 'integer', (c) => c.notNull())
          .addColumn('bytes', 'bigint', (c) => c.notNull())
          .addColumn('last_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('exchange_downloads_pk', ['recipient_id', 'file_id'])
          .execute();
        // 上長承認: approvers per group (with deputies) and each decision.
        await db.schema
          .createTable('exchange_approvers')
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id'))
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
          .addColumn('deputy', 'integer', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('exchange_approvers_pk', ['tenant_id', 'group_id', 'user_id'])
          .execute();
        await db.schema
          .createTable('exchange_decisions')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('share_id', 'text', (c) => c.notNull().references('exchange_shares.id'))
          .addColumn('approver_id', 'text', (c) => c.notNull().references('users.id'))
          .addColumn('group_id', 'text')
          .addColumn('decision', 'text', (c) => c.notNull())
          .addColumn('comment', 'text', (c) => c.notNull())
          .addColumn('decided_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('exchange_decisions_share')
          .on('exchange_decisions')
          .columns(['tenant_id', 'share_id'])
          .execute();
      },
    },
    '0010_release_request_facts': {
      async up(db: AnyDb) {
        // MAL-03: what a release request was filed on (the version's state, hold reason, verdict and
        // signature then), so a second administrator never approves it for different facts. Requests
        // filed before this migration have none and can no longer be approved: they are filed anew.
        for (const name of ['version_state', 'hold_reason', 'scan_result', 'scan_signature'] as const) {
          await db.schema.alterTable('malware_approvals').addColumn(name, 'text').execute();
        }
      },
    },
    '0011_file_versions_created': {
      async up(db: AnyDb) {
        // MAL-04: the rescan walks every tenant's available versions newest first in keyset pages
        // (created_at, id); without this index each page sorts the whole table.
        await db.schema.createIndex('file_versions_created').on('file_versions').columns(['created_at', 'id']).execute();
      },
    },
    '0012_audit_search': {
      async up(db: AnyDb) {
        // LOG-04: the 監査ログ search by who and by what (a user's actions, a file's history).
        await db.schema.createIndex('audit_events_actor').on('audit_events').columns(['tenant_id', 'actor_id', 'seq']).execute();
        await db.schema
          .createIndex('audit_events_target')
          .on('audit_events')
          .columns(['tenant_id', 'target_id', 'seq'])
          .execute();
      },
    },
    '0013_audit_reviews': {
      async up(db: AnyDb) {
        // LOG-05: the periodic review of each tenant's audit log, its summary and the reviewer's sign-off.
        await db.schema
          .createTable('audit_reviews')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('period_from', 'text', (c) => c.notNull())
          .addColumn('period_to', 'text', (c) => c.notNull())
          .addColumn('due_at', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('summary', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('signed_off_by', 'text')
          .addColumn('signed_off_at', 'text')
          .addColumn('findings', 'text')
          .execute();
        await db.schema.createIndex('audit_reviews_tenant').on('audit_reviews').columns(['tenant_id', 'period_to']).execute();
      },
    },
  };
}

class CodeMigrationProvider implements MigrationProvider {
  constructor(private readonly dialect: Dialect) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations(this.dialect);
  }
}

export interface MigrateOptions {
  /** PostgreSQL: the application's login role, granted DML on ordinary tables and SELECT/INSERT on audit tables. */
  appRole?: string | undefined;
  schema?: string | undefined;
}

/** Applies pending migrations; returns the names applied. Throws with the failing migration's error. */
export async function migrateToLatest(database: Database, opts: MigrateOptions = {}): Promise<string[]> {
  const { db, dialect } = database;
  if (dialect === 'postgres' && opts.schema) {
    await sql.raw(`create schema if not exists ${opts.schema}`).execute(db);
  }
  const migrator = new Migrator({ db, provider: new CodeMigrationProvider(dialect) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  if (dialect === 'postgres' && opts.appRole) await grantAppRole(db, opts.appRole, opts.schema ?? 'public');
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * PostgreSQL privileges (LOG-02): the app role may read and append audit rows but never change
 * or remove them; a superuser or the owner can, which is why checkpoints also live outside the DB.
 */
async function grantAppRole(db: AnyDb, role: string, schema: string): Promise<void> {
  if (!ROLE_NAME.test(role) || !ROLE_NAME.test(schema)) throw new Error('invalid role or schema name');
  await sql.raw(`grant usage on schema ${schema} to ${role}`).execute(db);
  await sql.raw(`grant select, insert, update, delete on all tables in schema ${schema} to ${role}`).execute(db);
  for (const table of APPEND_ONLY_TABLES) {
    await sql.raw(`revoke update, delete, truncate on ${schema}.${table} from ${role}`).execute(db);
  }
  await sql.raw(`revoke all on ${schema}.kysely_migration, ${schema}.kysely_migration_lock from ${role}`).execute(db);
  await sql.raw(`grant select on ${schema}.kysely_migration, ${schema}.kysely_migration_lock to ${role}`).execute(db);
}
