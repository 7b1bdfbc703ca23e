import { describe, expect, it } from 'vitest';
import { InvalidKeyInputError } from '../../src/auth/key-input.js';
import { KeyRevokedError } from '../../src/auth/key-store.js';
import { ConfigError } from '../../src/config/load.js';
import { isOperatorFacing, OperatorError } from '../../src/errors/operator-error.js';
import { ModelLoadError } from '../../src/main.js';
import { DatabaseConfigError } from '../../src/storage/database-url.js';
import { RedisConfigError } from '../../src/storage/redis.js';

describe('operator errors: one base class, the CLI prints their message alone', () => {
  const errors = [
    new ConfigError('bad config'),
    new DatabaseConfigError('bad database'),
    new RedisConfigError('no redis'),
    new ModelLoadError('no model', { cause: new Error('io') }),
    new InvalidKeyInputError('name', 'bad name'),
    new KeyRevokedError('key_x'),
  ];

  it.each(errors.map((error) => [error.constructor.name, error] as const))(
    '%s is an OperatorError named after its class',
    (name, error) => {
      expect(error).toBeInstanceOf(OperatorError);
      expect(isOperatorFacing(error)).toBe(true);
      expect(error.name).toBe(name);
      expect(error.operatorFacing).toBe(true);
    },
  );

  it('other errors are not operator-facing (they keep their stack)', () => {
    expect(isOperatorFacing(new Error('bug'))).toBe(false);
    expect(isOperatorFacing({ operatorFacing: true, message: 'duck' })).toBe(false);
    expect(isOperatorFacing('text')).toBe(false);
  });
});
