import { createHash } from 'node:crypto';

function hexDigest(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/**
 * Makes EC2-looking ids (`vpce-` + 17 hex digits) from a seeded counter, so that two runs of the same
 * test create the same ids in the same order.
 */
export class IdGenerator {
  private counter = 0;

  constructor(private readonly seed: number) {}

  /** A fresh id such as `vpce-0a1b2c3d4e5f60718`. */
  next(prefix: string): string {
    this.counter += 1;
    return `${prefix}-${hexDigest(`${this.seed}:${this.counter}`, 17)}`;
  }

  /** A fresh small number (for IP addresses and the like), from the same counter. */
  nextNumber(): number {
    this.counter += 1;
    return this.counter;
  }
}

/**
 * An id derived from the resource it belongs to (association ids, network interfaces of loaded
 * resources): stable whatever order resources are loaded in, and without using up the counter.
 */
export function derivedId(prefix: string, ...parts: readonly string[]): string {
  return `${prefix}-${hexDigest(parts.join('|'), 17)}`;
}

/** A request id shaped like EC2's (a UUID), derived from the call's sequence number. */
export function requestIdFor(seq: number): string {
  const hex = hexDigest(`request:${seq}`, 32);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
