import { BATCH_SCRIPT, parseRefusal, scriptBatchArgs } from './batch-script.js';
import { TargetWriteError, type TargetError } from './errors.js';
import { Fifo } from './fifo.js';
import type { MarkedBatchUnit } from './marked-batch.js';
import { errorFromReply } from './reply-error.js';
import { INTERNAL, type PendingReply, type Transport } from './transport.js';

/** `PendingReply.name` of a marked batch's EXEC / script call */
export const BATCH_EXEC = 'EXEC (marked batch)';
export const BATCH_CALL = 'EVALSHA (marked batch)';

const SCRIPT_LOAD = [Buffer.from('SCRIPT'), Buffer.from('LOAD'), Buffer.from(BATCH_SCRIPT)];

/**
 * Puts sealed marked batches on the wire (exactly-once, standalone target): as one call of the batch script when
 * the target runs it, else as MULTI … EXEC. Remembers, per script batch in flight, its commands' names and keys,
 * so that a command the target refused inside one is named in the error like any other refused command.
 */
export class MarkedBatchSender {
  private readonly markerKey: Buffer;
  private readonly epochKey: Buffer;
  private readonly scriptBatches = new Fifo<PendingReply[]>();

  /**
   * @param markerKey the applied marker key; the fence epoch is kept beside it, in `<markerKey>:epoch`
   * @param sending called with each batch's own reply tag just before it is sent (the writer's window, probe)
   */
  constructor(
    private readonly transport: Transport,
    markerKey: string,
    private readonly fenceEpoch: number | undefined,
    private readonly sending: (pending: PendingReply) => void,
  ) {
    this.markerKey = Buffer.from(markerKey);
    this.epochKey = Buffer.from(`${markerKey}:epoch`);
  }

  /**
   * Loads the batch script (SCRIPT LOAD, on the writer's own link, before any write). A target that refuses it
   * (Redis < 7 cannot compile a script with a shebang; an ACL without SCRIPT/EVALSHA) answers an error: false,
   * the batches stay MULTI … EXEC. Rejects when the link is lost meanwhile.
   */
  loadScript(): Promise<boolean> {
    const transport = this.transport;
    const events = transport.events!;
    const probe: PendingReply = { seq: INTERNAL, name: 'SCRIPT LOAD', key: null, bytes: 0 };
    return new Promise((resolve, reject) => {
      transport.events = {
        onReply: (pending, error) => {
          if (pending !== probe) return events.onReply(pending, error);
          transport.events = events;
          resolve(error === null);
        },
        onLost: (error) => {
          transport.events = events;
          events.onLost(error);
          reject(error);
        },
      };
      transport.command(0, SCRIPT_LOAD, probe);
    });
  }

  /**
   * One sealed batch: its reply (tagged with the tracker entry `seq`) confirms the batch. A script call's reply
   * stands for all the commands the writer counted in its window, plus the call itself.
   */
  send(unit: MarkedBatchUnit, seq: number): void {
    if (!unit.script) {
      const exec: PendingReply = { seq, name: BATCH_EXEC, key: null, bytes: 0 };
      this.sending(exec);
      this.transport.transaction!(unit.startDb, unit.commands, unit.pendings, exec);
      return;
    }
    const call: PendingReply = {
      seq,
      name: BATCH_CALL,
      key: null,
      bytes: unit.countedBytes,
      commands: unit.counted + 1,
    };
    this.sending(call);
    this.scriptBatches.push(unit.pendings);
    const args = scriptBatchArgs({
      ...unit,
      markerKey: this.markerKey,
      epochKey: this.epochKey,
      fenceEpoch: this.fenceEpoch,
    });
    this.transport.command(0, args, call);
  }

  /**
   * The reply to a script call (in order): its error as is, or for a command refused while the script ran, the
   * error naming that command and its key.
   */
  replied(error: TargetError | null): TargetError | null {
    const pendings = this.scriptBatches.shift();
    const refused = error instanceof TargetWriteError ? error.refused : undefined;
    const refusal = refused ? parseRefusal(refused.reply) : null;
    const command = refusal ? pendings?.[refusal.index] : undefined;
    if (!refusal || !command) return error;
    return errorFromReply(this.transport.label, refusal.reply, command.name, command.key);
  }
}
