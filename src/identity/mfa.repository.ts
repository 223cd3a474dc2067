import type { Executor } from '../db/database.js';
import type { MfaTotpTable, WebauthnCredentialsTable } from '../db/schema.js';

/** The "blob id" that binds a wrapped TOTP secret to its user (AAD). */
export function totpKeyId(userId: string): string {
  return `totp:${userId}`;
}

/** TOTP secrets (wrapped with the tenant KEK, ENC-02) and hashed recovery codes. */
export class MfaRepository {
  constructor(private readonly db: Executor) {}

  async totp(tenantId: string, userId: string, exec: Executor = this.db): Promise<MfaTotpTable | undefined> {
    return exec
      .selectFrom('mfa_totp')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
  }

  /** TOTP secrets wrapped under a KEK older than `version` (for the re-wrap after a rotation). */
  totpWithKekBelow(tenantId: string, version: number, exec: Executor = this.db): Promise<MfaTotpTable[]> {
    return exec.selectFrom('mfa_totp').selectAll().where('tenant_id', '=', tenantId).where('kek_version', '<', version).execute();
  }

  /** Replaces a wrapped secret only while it is still under `fromVersion` (a concurrent re-enrolment wins). */
  async rewrapTotp(
    trx: Executor,
    tenantId: string,
    userId: string,
    fromVersion: number,
    wrapped: { kekVersion: number; wrappedDek: Buffer },
  ): Promise<void> {
    await trx
      .updateTable('mfa_totp')
      .set({ kek_version: wrapped.kekVersion, secret_wrapped: wrapped.wrappedDek })
      .where('tenant_id', '=', tenantId)
      .where('user_id', '=', userId)
      .where('kek_version', '=', fromVersion)
      .execute();
  }

  async putTotp(trx: Executor, row: MfaTotpTable): Promise<void> {
    await this.deleteTotp(trx, row.tenant_id, row.user_id);
    await trx.insertInto('mfa_totp').values(row).execute();
  }

  async confirmTotp(trx: Executor, tenantId: string, userId: string, at: string, step: number): Promise<void> {
    await trx
      .updateTable('mfa_totp')
      .set({ confirmed_at: at, last_used_step: step })
      .where('tenant_id', '=', tenantId)
      .where('user_id', '=', userId)
      .execute();
  }

  /** Records the used step only if it is newer than the stored one (a concurrent replay loses). */
  async useStep(trx: Executor, tenantId: string, userId: string, step: number): Promise<boolean> {
    const r = await trx
      .updateTable('mfa_totp')
      .set({ last_used_step: step })
      .where('tenant_id', '=', tenantId)
      .where('user_id', '=', userId)
      .where((eb) => eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', step)]))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async deleteTotp(trx: Executor, tenantId: string, userId: string): Promise<void> {
    await trx.deleteFrom('mfa_totp').where('tenant_id', '=', tenantId).where('user_id', '=', userId).execute();
  }

  async replaceRecoveryCodes(trx: Executor, tenantId: string, userId: string, hashes: string[], at: string): Promise<void> {
    await trx.deleteFrom('recovery_codes').where('tenant_id', '=', tenantId).where('user_id', '=', userId).execute();
    if (hashes.length) {
      await trx
        .insertInto('recovery_codes')
        .values(hashes.map((h) => ({ tenant_id: tenantId, user_id: userId, code_hash: h, used_at: null, created_at: at })))
        .execute();
    }
  }

  async useRecoveryCode(trx: Executor, tenantId: string, userId: string, hash: string, at: string): Promise<boolean> {
    const r = await trx
      .updateTable('recovery_codes')
      .set({ used_at: at })
      .where('tenant_id', '=', tenantId)
      .where('user_id', '=', userId)
      .where('code_hash', '=', hash)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async recoveryCodesLeft(tenantId: string, userId: string, exec: Executor = this.db): Promise<number> {
    const r = await exec
      .selectFrom('recovery_codes')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', tenantId)
      .where('user_id', '=', userId)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  async passkeyCount(tenantId: string, userId: string, exec: Executor = this.db): Promise<number> {
    const r = await exec
      .selectFrom('webauthn_credentials')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', tenantId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  async passkeys(tenantId: string, userId: string, exec: Executor = this.db): Promise<WebauthnCredentialsTable[]> {
    return exec
      .selectFrom('webauthn_credentials')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .execute();
  }

  async insertPasskey(trx: Executor, row: WebauthnCredentialsTable): Promise<void> {
    await trx.insertInto('webauthn_credentials').values(row).execute();
  }

  /** Stores the new signature counter only if it moved forward (a cloned authenticator lags behind). */
  async usePasskey(trx: Executor, tenantId: string, credentialId: string, counter: number, at: string): Promise<void> {
    await trx
      .updateTable('webauthn_credentials')
      .set({ counter, last_used_at: at })
      .where('tenant_id', '=', tenantId)
      .where('credential_id', '=', credentialId)
      .execute();
  }

  async deletePasskey(trx: Executor, tenantId: string, userId: string, credentialId: string): Promise<boolean> {
    const r = await trx
      .deleteFrom('webauthn_credentials')
      .where('tenant_id', '=', tenantId)
      .where('user_id', '=', userId)
      .where('credential_id', '=', credentialId)
      .executeTakeFirst();
    return Number(r.numDeletedRows) === 1;
  }

  async deleteAllPasskeys(trx: Executor, tenantId: string, userId: string): Promise<void> {
    await trx.deleteFrom('webauthn_credentials').where('tenant_id', '=', tenantId).where('user_id', '=', userId).execute();
  }
}
