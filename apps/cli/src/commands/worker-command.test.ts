import { describe, expect, it } from 'vitest';
import { CliError, EXIT_USAGE } from '../cli-error.js';
import { workerCommand } from './worker-command.js';

describe('workerCommand flags', () => {
  // Refused before any connection is made: the queue address below is never dialled.
  const base = { queue: 'redis://127.0.0.1:1', concurrency: 1, logLevel: 'silent' };

  it('refuses a lock shorter than a second, which BullMQ’s renewal could not keep', async () => {
    const refused = workerCommand({ ...base, lockDurationMs: 500 });
    await expect(refused).rejects.toThrow(/--lock-duration must be at least 1000 ms/);
    await expect(refused).rejects.toMatchObject({ exitCode: EXIT_USAGE });
    await expect(refused).rejects.toBeInstanceOf(CliError);
  });

  it('refuses a stalled-job check more often than every 100 ms', async () => {
    await expect(workerCommand({ ...base, stalledIntervalMs: 10 })).rejects.toThrow(
      /--stalled-interval must be at least 100 ms/,
    );
  });
});
