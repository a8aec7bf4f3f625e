export * from './types.js';
export * from './errors.js';
export { TargetWriter, type TargetWriterEvents } from './target-writer.js';
export { AckTracker } from './ack-tracker.js';
export { describeKey } from './reply-error.js';
export { keySlot, SLOT_COUNT } from './key-slot.js';
export { keyPositions } from './command-keys.js';
export { commandName } from './command-classification.js';
