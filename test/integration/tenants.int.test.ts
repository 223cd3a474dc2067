import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openKura } from '../../src/app/bootstrap.js';
import { AppError } from '../../src/core/errors.js';
import { SYSTEM_TENANT_ID, systemActor } from '../../src/core/types.js';
import { LocalKeyFileProvider } from '../../src/crypto/key-provider.js';
import { randomBytes } from '../../src/crypto/primitives.js';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { createTestKura, type TestKura } from '../support/kura.js';

let k: TestKura;
beforeAll(async () => {
  k = await createTestKura();
});
afterAll(async () => {
  await k?.close();
});

describe(`tenants on ${process.env.KURA_TEST_DB ?? 'sqlite'}`, () => {
  it('creates a tenant with KEK version 1 and its own audit chain, recorded in the provider log too [ENC-01] [LOG-01]', async () => {
    const s = k.services;
    const t = await s.tenants.create(
      { ...systemActor(), id: 'operator-1', type: 'operator' },
      { slug: 'kita-city', displayName: '北市' },
    );
    const [own] = await s.auditRepository.latestEvents(t.id, 5);
    expect(own).toMatchObject({
      seq: 1,
      action: 'tenant.created',
      actor_type: 'operator',
      actor_id: 'operator-1',
      target_id: t.id,
    });
    const [provider] = await s.auditRepository.latestEvents(SYSTEM_TENANT_ID, 1);
    expect(provider).toMatchObject({ action: 'tenant.created', target_id: t.id });
    const dek = randomBytes(32);
    const wrapped = await s.keyring.wrapDek(t.id, dek, 'blob-x');
    expect(wrapped.kekVersion).toBe(1);
    expect((await s.keyring.unwrapDek(t.id, 1, wrapped.wrappedDek, 'blob-x')).equals(dek)).toBe(true);
    const row = await s.database.db.selectFrom('tenant_keys').selectAll().where('tenant_id', '=', t.id).executeTakeFirstOrThrow();
    expect(row.wrapped_key).not.toBeNull();
    expect(Buffer.from(row.wrapped_key!).includes(dek)).toBe(false);
  });

  it('refuses duplicate and reserved slugs without leaving partial rows', async () => {
    const s = k.services;
    await s.tenants.create(systemActor(), { slug: 'minami-town', displayName: '南町' });
    const before = (await s.tenants.list()).length;
    await expect(s.tenants.create(systemActor(), { slug: 'minami-town', displayName: '別の南町' })).rejects.toMatchObject({
      code: 'tenant.slug_taken',
    });
    await expect(s.tenants.create(systemActor(), { slug: 'system', displayName: 'x' })).rejects.toBeInstanceOf(AppError);
    await expect(s.tenants.create(systemActor(), { slug: 'UPPER', displayName: 'x' })).rejects.toThrow();
    expect((await s.tenants.list()).length).toBe(before);
    expect(await s.tenants.list()).not.toContainEqual(expect.objectContaining({ slug: 'system' }));
  });

  it('records every concurrent settings change against what it really replaced [LOG-01] [AC-10]', async () => {
    const s = k.services;
    const t = await s.tenants.create(systemActor(), { slug: `concurrent-${process.pid}`, displayName: '同時市' });
    const base = await s.tenantPolicy.get(t.id);
    // Five admins save at once, each from the same page load with one address rule of their own.
    const rules = ['10.1.0.0/16', '10.2.0.0/16', '10.3.0.0/16', '10.4.0.0/16', '10.5.0.0/16'];
    await Promise.all(
      rules.map((cidr) =>
        s.tenantPolicy.update(systemActor(t.id), { ...base, ipRules: [{ zone: 'lgwan', roles: [], cidrs: [cidr] }] }),
      ),
    );
    const changes = (await s.auditRepository.latestEvents(t.id, 20))
      .filter((e) => e.action === 'tenant.settings_changed')
      .sort((a, b) => Number(a.seq) - Number(b.seq))
      .map((e) => JSON.parse(e.details) as { before: { ipRules?: unknown }; after: { ipRules?: unknown } });
    expect(changes).toHaveLength(rules.length);
    // Each change's "before" is the previous change's "after": no change is recorded against a stale read.
    expect(changes[0]!.before.ipRules).toEqual([]);
    for (let i = 1; i < changes.length; i++) expect(changes[i]!.before.ipRules).toEqual(changes[i - 1]!.after.ipRules);
    expect(changes.at(-1)!.after.ipRules).toEqual((await s.tenantPolicy.get(t.id)).ipRules);
  });

  it('answers tenant.not_found for an unknown slug [AC-08]', async () => {
    await expect(k.services.tenants.requireBySlug('nowhere')).rejects.toMatchObject({ code: 'tenant.not_found' });
  });

  it('refuses to open existing data with a different master key [ENC-01]', async () => {
    const keyPath = k.config.paths.masterKey;
    const other = join(k.dir, 'other.key');
    LocalKeyFileProvider.create(other);
    await expect(
      openKura(
        { ...k.config, paths: { ...k.config.paths, masterKey: other } },
        { create: false, logger: pino({ level: 'silent' }) },
      ),
    ).rejects.toThrow(/is not the key this data was created with/);
    rmSync(other);
    expect(LocalKeyFileProvider.load(keyPath).keyId).toBeTruthy();
  });
});
