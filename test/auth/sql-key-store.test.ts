import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../src/auth/api-key.js';
import { InvalidKeyInputError } from '../../src/auth/key-input.js';
import { KeyRevokedError } from '../../src/auth/key-store.js';
import { SqlKeyStore } from '../../src/auth/sql-key-store.js';
import type { Database } from '../../src/storage/database.js';
import { DIALECTS, openTestDatabase } from '../storage/test-databases.js';

describe.each(DIALECTS)('SqlKeyStore on %s', (dialect) => {
  let database: Database;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ database, dispose } = await openTestDatabase(dialect));
  });
  afterAll(() => dispose?.());

  const storeAt = (time: number) => new SqlKeyStore(database.db, { now: () => new Date(time) });

  it('creates a key and stores only its hash', async () => {
    const { record, key } = await new SqlKeyStore(database.db).create({ name: 'hash-only' });
    expect(key).toMatch(/^oruel_[0-9A-Za-z]{32,}$/);
    expect(record.id).toMatch(/^key_[0-9A-Za-z]{16}$/);
    expect(record.prefix).toBe(key.slice(0, 10));
    expect(record).not.toHaveProperty('keyHash');

    const row = await database.db
      .selectFrom('api_keys')
      .selectAll()
      .where('id', '=', record.id)
      .executeTakeFirstOrThrow();
    expect(row.key_hash).toBe(hashApiKey(key));
    const allStoredText = JSON.stringify(await database.db.selectFrom('api_keys').selectAll().execute());
    expect(allStoredText).not.toContain(key);
    expect(allStoredText).not.toContain(key.slice('oruel_'.length));
  });

  it('keeps names, models, limits and dates', async () => {
    const expiresAt = new Date('2099-05-01T10:00:00.000Z');
    const budget = { tokens: 5_000_000_000, period: 'month' as const };
    const { record } = await new SqlKeyStore(database.db).create({
      name: '  full  ',
      models: ['a', 'b', 'a'],
      rpm: 60,
      tpm: 10_000,
      maxConcurrent: 2,
      budget,
      expiresAt,
    });
    expect(record).toMatchObject({
      name: 'full',
      models: ['a', 'b'],
      rpm: 60,
      tpm: 10_000,
      maxConcurrent: 2,
      budget,
      expiresAt,
      revokedAt: null,
      updatedAt: null,
    });
    const listed = (await new SqlKeyStore(database.db).list()).find((candidate) => candidate.id === record.id);
    expect(listed).toEqual(record);
  });

  it('verifies the right key and nothing else', async () => {
    const store = new SqlKeyStore(database.db);
    const { record, key } = await store.create({ name: 'verify' });
    expect(await store.verify(key)).toEqual(record);
    const lastCharacter = key.at(-1) === 'a' ? 'b' : 'a';
    expect(await store.verify(key.slice(0, -1) + lastCharacter)).toBeNull();
    expect(await store.verify(`${key}x`)).toBeNull();
    expect(await store.verify('')).toBeNull();
    expect(await store.verify('not a key at all')).toBeNull();
    expect(await store.verify(hashApiKey(key))).toBeNull();
  });

  it('refuses a revoked key; revoking again keeps the first time; unknown ids are false', async () => {
    const { record, key } = await storeAt(1_000).create({ name: 'revoke' });
    expect(await storeAt(2_000).revoke(record.id)).toBe(true);
    expect(await storeAt(3_000).revoke(record.id)).toBe(true);
    expect(await storeAt(4_000).verify(key)).toBeNull();
    const listed = (await storeAt(4_000).list()).find((candidate) => candidate.id === record.id);
    expect(listed?.revokedAt).toEqual(new Date(2_000));
    expect(await storeAt(4_000).revoke('key_doesnotexist00')).toBe(false);
  });

  it('refuses a key from its expiry on', async () => {
    const expiresAt = Date.parse('2030-01-01T00:00:00Z');
    const { key } = await storeAt(expiresAt - 60_000).create({ name: 'expiring', expiresAt: new Date(expiresAt) });
    expect(await storeAt(expiresAt - 1).verify(key)).not.toBeNull();
    expect(await storeAt(expiresAt).verify(key)).toBeNull();
  });

  it('counts active keys and lists every key in creation order', async () => {
    const clean = await openTestDatabase(dialect);
    try {
      const store = (time: number) => new SqlKeyStore(clean.database.db, { now: () => new Date(time) });
      const first = await store(1_000).create({ name: 'first' });
      const second = await store(2_000).create({ name: 'second', expiresAt: new Date(5_000) });
      const third = await store(3_000).create({ name: 'third' });
      await store(3_500).revoke(third.record.id);
      expect(await store(4_000).countActive()).toBe(2);
      expect(await store(6_000).countActive()).toBe(1);
      expect((await store(6_000).list()).map((record) => record.id)).toEqual([
        first.record.id,
        second.record.id,
        third.record.id,
      ]);
    } finally {
      await clean.dispose();
    }
  });

  it('refuses out-of-range input with a message naming the field', async () => {
    const store = new SqlKeyStore(database.db);
    await expect(store.create({ name: '   ' })).rejects.toThrow(InvalidKeyInputError);
    await expect(store.create({ name: 'x', rpm: 0 })).rejects.toThrow(/rpm/);
    await expect(store.create({ name: 'x', tpm: 1.5 })).rejects.toThrow(/tpm/);
    await expect(store.create({ name: 'x', maxConcurrent: 2 ** 31 })).rejects.toThrow(/maxConcurrent/);
    await expect(store.create({ name: 'x', models: [] })).rejects.toThrow(/model list is empty/);
    await expect(store.create({ name: 'x', expiresAt: new Date('nope') })).rejects.toThrow(/expiry/);
    await expect(store.create({ name: 'x', budget: { tokens: 0, period: 'day' } })).rejects.toThrow(/budget.tokens/);
    await expect(store.create({ name: 'x', budget: { tokens: 1, period: 'year' as 'day' } })).rejects.toThrow(
      /budget.period/,
    );
  });

  it('gets any key by id, revoked ones included', async () => {
    const store = new SqlKeyStore(database.db);
    const { record } = await store.create({ name: 'get' });
    expect(await store.get(record.id)).toEqual(record);
    await store.revoke(record.id);
    expect((await store.get(record.id))?.revokedAt).toBeInstanceOf(Date);
    expect(await store.get('key_missing')).toBeNull();
  });

  it('updates the fields a patch names, clears those set to null, and validates them', async () => {
    const { record } = await storeAt(1_000).create({
      name: 'patch',
      models: ['a'],
      rpm: 5,
      budget: { tokens: 100, period: 'day' },
    });
    const updated = await storeAt(2_000).update(record.id, { name: 'patched', models: null, tpm: 99, budget: null });
    expect(updated).toEqual({
      ...record,
      name: 'patched',
      models: null,
      tpm: 99,
      budget: null,
      updatedAt: new Date(2_000),
    });
    expect(await storeAt(3_000).update(record.id, {})).toEqual(updated);
    expect(await storeAt(3_000).update('key_missing', { rpm: 1 })).toBeNull();
    await expect(storeAt(3_000).update(record.id, { rpm: 0 })).rejects.toThrow(InvalidKeyInputError);
    await expect(storeAt(3_000).update(record.id, { name: ' ' })).rejects.toThrow(/needs a name/);
  });

  it('rotates: a new secret under the same id; the old one stops verifying; revoked keys stay revoked', async () => {
    const { record, key } = await storeAt(1_000).create({ name: 'rotate', rpm: 3 });
    const rotated = await storeAt(2_000).rotate(record.id);
    expect(rotated?.record).toEqual({ ...record, prefix: rotated!.key.slice(0, 10), updatedAt: new Date(2_000) });
    expect(await storeAt(2_000).verify(key)).toBeNull();
    expect((await storeAt(2_000).verify(rotated!.key))?.id).toBe(record.id);
    await storeAt(3_000).revoke(record.id);
    await expect(storeAt(4_000).rotate(record.id)).rejects.toThrow(KeyRevokedError);
    expect(await storeAt(4_000).verify(rotated!.key)).toBeNull();
    expect(await storeAt(4_000).rotate('key_missing')).toBeNull();
  });
});
