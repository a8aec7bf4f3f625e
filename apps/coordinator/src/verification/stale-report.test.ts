import { describe, expect, it } from 'vitest';
import { STALE_AFTER_MS, withStaleness } from './stale-report.js';

describe('withStaleness', () => {
  const now = Date.parse('2026-01-01T03:00:00Z');
  const at = (ms: number) => new Date(now - ms).toISOString();

  it('answers an in-progress report without a recent heartbeat as failed, naming the step', () => {
    const stale = withStaleness(
      { status: 'verifying', heartbeatAt: at(STALE_AFTER_MS + 1) },
      ['cut-over', 'failed'],
      now,
    );
    expect(stale.status).toBe('failed');
    expect(stale.reason).toMatch(
      /^interrupted at step verifying: the coordinator running it stopped updating it/,
    );
  });

  it('mentions a source pause only for a cutover that set one, never for a verification', () => {
    const heartbeatAt = at(STALE_AFTER_MS + 1);
    const verification = withStaleness({ status: 'running', heartbeatAt }, ['clean'], now);
    expect(verification.reason).not.toMatch(/pause/);
    const confirmed = withStaleness(
      { status: 'verifying', heartbeatAt, writesStoppedBy: 'operator' },
      ['cut-over', 'failed'],
      now,
    );
    expect(confirmed.reason).not.toMatch(/pause/);
    const paused = withStaleness(
      { status: 'verifying', heartbeatAt, writesStoppedBy: 'client-pause' },
      ['cut-over', 'failed'],
      now,
    );
    expect(paused.reason).toMatch(/the pause it had set on the source expires by itself/);
  });

  it('leaves fresh, final and heartbeat-less reports alone', () => {
    const fresh = { status: 'running', heartbeatAt: at(1000) };
    expect(withStaleness(fresh, ['clean'], now)).toBe(fresh);
    const final = { status: 'clean', heartbeatAt: at(STALE_AFTER_MS * 10) };
    expect(withStaleness(final, ['clean'], now)).toBe(final);
    const old = { status: 'running' };
    expect(withStaleness(old, ['clean'], now)).toBe(old);
  });
});
