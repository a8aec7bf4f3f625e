import { describe, expect, it } from 'vitest';
import { ReplAuthFailedError, ReplNoAuthError, ReplProtocolError, ReplPsyncRefusedError } from './errors.js';
import { checkStepReply, handshakeSteps, parsePsyncReply, psyncCommand } from './handshake.js';
import { ReplyLineReader } from './reply-line-reader.js';

const ID = 'a'.repeat(40);

describe('handshake', () => {
  it('builds AUTH only when a password is set, with the ACL user when given', () => {
    expect(handshakeSteps({ listeningPort: 0 }).map((s) => s.name)).toEqual([
      'PING',
      'REPLCONF listening-port',
      'REPLCONF capa',
    ]);
    expect(handshakeSteps({ listeningPort: 1, password: 'p' })[0].command).toEqual(['AUTH', 'p']);
    expect(handshakeSteps({ listeningPort: 1, password: 'p', username: 'u' })[0].command).toEqual([
      'AUTH',
      'u',
      'p',
    ]);
    expect(handshakeSteps({ listeningPort: 7 })[2].command).toEqual([
      'REPLCONF',
      'capa',
      'eof',
      'capa',
      'psync2',
    ]);
  });

  it('asks for the byte after the resume offset', () => {
    expect(psyncCommand(undefined)).toEqual(['PSYNC', '?', -1]);
    expect(psyncCommand({ replid: ID, offset: 100 })).toEqual(['PSYNC', ID, 101]);
  });

  it('parses PSYNC replies', () => {
    expect(parsePsyncReply(`+FULLRESYNC ${ID} 42`, 'm', false)).toEqual({
      kind: 'fullresync',
      replid: ID,
      offset: 42,
    });
    expect(parsePsyncReply('+CONTINUE', 'm', false)).toEqual({ kind: 'continue', replid: null });
    expect(parsePsyncReply(`+CONTINUE ${ID}`, 'm', false)).toEqual({ kind: 'continue', replid: ID });
    expect(() => parsePsyncReply('+FULLRESYNC x', 'm', false)).toThrow(ReplProtocolError);
  });

  it('maps error replies to coded errors that name the master', () => {
    const [auth, ping] = handshakeSteps({ listeningPort: 0, password: 'x' });
    expect(() => checkStepReply(auth, '-WRONGPASS invalid username-password pair', 'shard 1', false)).toThrow(
      ReplAuthFailedError,
    );
    expect(() => checkStepReply(auth, '-WRONGPASS x', 'shard 1', false)).toThrow(
      /wrong password or user for shard 1/,
    );
    expect(() => checkStepReply(ping, '-NOAUTH Authentication required.', 'm', false)).toThrow(
      ReplNoAuthError,
    );
    expect(() => parsePsyncReply("-ERR unknown command 'PSYNC'", 'm', false)).toThrow(/use scan mode/);
    expect(() => parsePsyncReply('-NOPERM no', 'm', false)).toThrow(ReplPsyncRefusedError);
    let loading: unknown;
    try {
      parsePsyncReply('-LOADING Redis is loading the dataset in memory', 'm', false);
    } catch (err) {
      loading = err;
    }
    expect(loading).toMatchObject({ code: 'REPL_PSYNC_REFUSED', retryable: true });
    expect(() => checkStepReply(ping, '+PONG', 'm', false)).not.toThrow();
  });
});

describe('ReplyLineReader', () => {
  it('skips keep-alive newlines and keeps the bytes after a line', () => {
    const reader = new ReplyLineReader();
    for (const byte of Buffer.from(`\n\n+OK\r\n\n\n+FULLRESYNC ${ID} 7\r\n$EOF:`)) {
      reader.push(Buffer.from([byte]));
    }
    expect(reader.readLine()).toBe('+OK');
    expect(reader.readLine()).toBe(`+FULLRESYNC ${ID} 7`);
    expect(reader.readLine()).toBeNull();
    expect(reader.takeRest().toString()).toBe('$EOF:');
  });
});
