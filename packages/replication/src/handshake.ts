import {
  ReplAuthFailedError,
  ReplNoAuthError,
  ReplProtocolError,
  ReplPsyncRefusedError,
  type ReplicationError,
} from './errors.js';

/**
 * One request/reply exchange of the replica handshake. Steps run strictly one after another: each reply is
 * read before the next command is written, as a Redis replica does, so an error names the step that failed.
 */
export interface HandshakeStep {
  /** for messages; never contains secrets */
  name: string;
  command: Array<string | number>;
}

export interface HandshakeInput {
  username?: string;
  password?: string;
  listeningPort: number;
}

/** AUTH (when a password is set), PING, REPLCONF listening-port, REPLCONF capa. PSYNC is {@link psyncCommand}. */
export function handshakeSteps(input: HandshakeInput): HandshakeStep[] {
  const steps: HandshakeStep[] = [];
  if (input.password !== undefined) {
    steps.push({
      name: 'AUTH',
      command:
        input.username !== undefined ? ['AUTH', input.username, input.password] : ['AUTH', input.password],
    });
  }
  steps.push({ name: 'PING', command: ['PING'] });
  steps.push({
    name: 'REPLCONF listening-port',
    command: ['REPLCONF', 'listening-port', input.listeningPort],
  });
  steps.push({ name: 'REPLCONF capa', command: ['REPLCONF', 'capa', 'eof', 'capa', 'psync2'] });
  return steps;
}

/** `PSYNC <replid> <offset+1>` to resume after the last processed byte, else `PSYNC ? -1` (full resync). */
export function psyncCommand(resume: { replid: string; offset: number } | undefined): Array<string | number> {
  return resume ? ['PSYNC', resume.replid, resume.offset + 1] : ['PSYNC', '?', -1];
}

/**
 * Accepts a step's reply or throws the error that explains it. Success is any `+` reply (`+OK`, `+PONG`).
 * `label` names the master in messages.
 */
export function checkStepReply(
  step: HandshakeStep,
  reply: string,
  label: string,
  hasUsername: boolean,
): void {
  if (reply.startsWith('+')) return;
  if (!reply.startsWith('-')) {
    throw new ReplProtocolError(`${label} answered ${step.name} with an unexpected reply "${clip(reply)}"`);
  }
  throw errorForReply(step.name, reply.slice(1), label, hasUsername);
}

function errorForReply(
  stepName: string,
  error: string,
  label: string,
  hasUsername: boolean,
): ReplicationError {
  const code = error.split(' ', 1)[0].toUpperCase();
  const quoted = `"${clip(error)}"`;
  if (code === 'NOAUTH') {
    return new ReplNoAuthError(
      `${label} requires a password (NOAUTH on ${stepName}): configure the source's password` +
        ' (and ACL username, if the master uses ACL users)',
    );
  }
  if (stepName === 'AUTH') {
    if (/without any password configured/i.test(error)) {
      return new ReplAuthFailedError(
        `${label} has no password configured but AUTH was sent (${quoted}): remove the password from the source`,
      );
    }
    return new ReplAuthFailedError(
      `wrong password or user for ${label}: the master replied ${quoted} — check the source's password` +
        (hasUsername ? ' and ACL username' : ' (set a username if the master uses ACL users)'),
    );
  }
  if (code === 'LOADING' || code === 'NOMASTERLINK' || code === 'MASTERDOWN' || code === 'BUSY') {
    return new ReplPsyncRefusedError(
      `${label} cannot serve a replica right now (${quoted} on ${stepName}): retry later`,
      true,
      error,
    );
  }
  if (code === 'NOPERM') {
    return new ReplPsyncRefusedError(
      `${label} does not allow this user to run ${stepName} (${quoted}): grant the user +psync +replconf +ping` +
        ' (or use a user with replication rights); if the service forbids PSYNC/REPLCONF, use scan mode',
      false,
      error,
    );
  }
  return new ReplPsyncRefusedError(
    `${label} refused ${stepName} (${quoted}): the server forbids PSYNC/REPLCONF (managed services often do, or` +
      ' the commands are renamed): use scan mode',
    false,
    error,
  );
}

export type PsyncReply =
  { kind: 'fullresync'; replid: string; offset: number } | { kind: 'continue'; replid: string | null };

const REPLID = /^[0-9a-zA-Z]{1,64}$/;

/** `+FULLRESYNC <replid> <offset>`, `+CONTINUE`, `+CONTINUE <replid>`, or the error explaining the refusal. */
export function parsePsyncReply(reply: string, label: string, hasUsername: boolean): PsyncReply {
  if (reply.startsWith('-')) throw errorForReply('PSYNC', reply.slice(1), label, hasUsername);
  const parts = reply.split(' ');
  if (parts[0] === '+FULLRESYNC' && parts.length === 3 && REPLID.test(parts[1]) && /^\d+$/.test(parts[2])) {
    return { kind: 'fullresync', replid: parts[1], offset: Number(parts[2]) };
  }
  if (parts[0] === '+CONTINUE' && parts.length === 1) return { kind: 'continue', replid: null };
  if (parts[0] === '+CONTINUE' && parts.length === 2 && REPLID.test(parts[1])) {
    return { kind: 'continue', replid: parts[1] };
  }
  throw new ReplProtocolError(`${label} answered PSYNC with an unexpected reply "${clip(reply)}"`);
}

function clip(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
