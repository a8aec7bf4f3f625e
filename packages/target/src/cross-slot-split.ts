import { keySlot } from './key-slot.js';

/**
 * Multi-key writes whose effect is the same whether the keys are written together or in per-slot parts, so a
 * cluster target can run them split when the source's keys span slots (atomicity across the parts is lost; the
 * final data is the same). MSETNX is not among them: split, its all-or-nothing check would change meaning.
 */
const PER_KEY = new Set(['DEL', 'UNLINK', 'TOUCH']);
const PER_PAIR = new Set(['MSET']);

/**
 * `args` split into one command per slot, in the order each slot first appears; null when the command is not
 * splittable or its keys share one slot (send it as it is).
 */
export function splitBySlot(
  name: string,
  args: readonly Buffer[],
): Array<{ slot: number; args: Buffer[] }> | null {
  const step = PER_KEY.has(name) ? 1 : PER_PAIR.has(name) ? 2 : 0;
  if (step === 0 || (args.length - 1) % step !== 0) return null;
  const parts = new Map<number, Buffer[]>();
  for (let i = 1; i < args.length; i += step) {
    const slot = keySlot(args[i]);
    let part = parts.get(slot);
    if (!part) parts.set(slot, (part = [args[0]]));
    part.push(...args.slice(i, i + step));
  }
  if (parts.size < 2) return null;
  return [...parts].map(([slot, partArgs]) => ({ slot, args: partArgs }));
}
