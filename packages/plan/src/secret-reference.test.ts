import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  resolveSecret,
  SECRET_REFERENCES_ENV,
  SecretReferenceError,
  SecretReferenceNotAllowedError,
} from './secret-reference.js';

describe('resolveSecret', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardbridge-secret-'));
    await writeFile(join(dir, 'pw'), 'from-file\n');
    process.env.SB_SECRET_TEST = 'from-env';
    process.env.OTHER_SECRET_TEST = 'other';
  });
  afterEach(() => {
    delete process.env[SECRET_REFERENCES_ENV];
  });
  afterAll(async () => {
    delete process.env.SB_SECRET_TEST;
    delete process.env.OTHER_SECRET_TEST;
    await rm(dir, { recursive: true, force: true });
  });

  it('resolves env: and file: references and keeps literals', () => {
    expect(resolveSecret('env:SB_SECRET_TEST', 'source.password')).toBe('from-env');
    expect(resolveSecret(`file:${join(dir, 'pw')}`, 'source.password')).toBe('from-file');
    expect(resolveSecret('literal', 'source.password')).toBe('literal');
    expect(resolveSecret(undefined, 'source.password')).toBeUndefined();
  });

  it('names the field and the variable or path of a reference that does not resolve, never a value', () => {
    expect(() => resolveSecret('env:SB_SECRET_MISSING', 'target.password')).toThrow(
      'target.password: environment variable SB_SECRET_MISSING is not set on this host',
    );
    expect(() => resolveSecret(`file:${join(dir, 'none')}`, 'target.password')).toThrow(SecretReferenceError);
  });

  it(`with ${SECRET_REFERENCES_ENV} set, resolves only the references it allows`, () => {
    process.env[SECRET_REFERENCES_ENV] = `env:SB_*, file:${dir}/*`;
    expect(resolveSecret('env:SB_SECRET_TEST', 'source.password')).toBe('from-env');
    expect(resolveSecret(`file:${join(dir, 'pw')}`, 'source.password')).toBe('from-file');
    expect(() => resolveSecret('env:OTHER_SECRET_TEST', 'source.password')).toThrow(
      SecretReferenceNotAllowedError,
    );
    let refused: unknown;
    try {
      resolveSecret(`file:${dir}/../../etc/passwd`, 'target.password');
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(SecretReferenceNotAllowedError);
    expect((refused as SecretReferenceNotAllowedError).code).toBe('PLAN_SECRET_NOT_ALLOWED');
    expect((refused as Error).message).toContain('target.password: file:/etc/passwd is not among');
    expect((refused as Error).message).not.toContain('root:');
    // Literals are not references: the API refuses them before, and a local run owns its own values.
    expect(resolveSecret('literal', 'source.password')).toBe('literal');
  });
});
