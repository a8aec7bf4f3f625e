export * from './types.js';
export * from './errors.js';
export { TargetWriter, type TargetWriterEvents } from './target-writer.js';
export { AckTracker } from './ack-tracker.js';
export { describeKey } from './reply-error.js';
export { keySlot, SLOT_COUNT } from './key-slot.js';
export { KeyRewrite, type KeyRewriteOptions, type RewriteLosses } from './rewrite/key-rewrite.js';
export type { RewriteValue } from './rewrite/value-shape.js';
export { scoreText } from './rewrite/score-text.js';
