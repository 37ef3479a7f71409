import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as z from 'zod';
import { InputValidationError, VpcGuardError } from '../errors';

/**
 * Tamper evidence for remediation records. A record is untrusted input to `rollback` (anyone who can
 * write the records directory can hand-make one), so every record vpc-guard writes carries an HMAC
 * over a canonical serialization of everything else in it, made with a key the deployment owns (a
 * KMS HMAC key: `GenerateMac` on write, `VerifyMac` before rollback) or, offline, a local key file.
 * A record whose MAC does not verify is refused whatever the flags; an unsigned one only with an
 * explicit choice of the operator.
 */

/** The only MAC algorithm records use (KMS `HMAC_SHA_256`; node:crypto HMAC SHA-256 locally). */
export const RECORD_MAC_ALGORITHM = 'HMAC_SHA_256';

/** The field of a record that holds its MAC; the MAC covers every other field. */
export const RECORD_INTEGRITY_FIELD = 'integrity';

/** Prefix of the signed message, so a record MAC can never be replayed as a MAC of anything else. */
const MESSAGE_DOMAIN = 'vpc-guard/remediation-record/v1\n';

/** The MAC a record carries, and which key made it (informative: verification uses the operator's key). */
export const RecordIntegritySchema = z.strictObject({
  algorithm: z.literal(RECORD_MAC_ALGORITHM),
  keyId: z.string().min(1),
  /** Base64. */
  mac: z.string().min(1),
});
export type RecordIntegrity = z.infer<typeof RecordIntegritySchema>;

/** Makes and checks MACs with one key. */
export interface RecordSigner {
  /** Which key: a KMS key id, alias or ARN, or `local:<fingerprint>` for a key file. */
  readonly keyId: string;
  sign(message: Uint8Array): Promise<Uint8Array>;
  /** True when `mac` is this key's MAC of `message`; false for any other MAC. */
  verify(message: Uint8Array, mac: Uint8Array): Promise<boolean>;
}

/** A record that cannot be trusted: unsigned, signed by another key, or changed since it was signed. */
export class RecordIntegrityError extends InputValidationError {
  constructor(source: string, message: string) {
    super(source, [{ path: RECORD_INTEGRITY_FIELD, message }]);
    this.name = 'RecordIntegrityError';
  }
}

/** A MAC could not be made or checked (KMS unreachable, access denied): not a verdict on the record. */
export class RecordSigningError extends VpcGuardError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RecordSigningError';
  }
}

/**
 * JSON with object keys sorted (by UTF-16 code units) at every depth and no whitespace; `undefined`
 * members dropped as JSON.stringify drops them. The same data always gives the same bytes, whatever
 * order or indentation the file was written with.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value) as string | undefined;
    if (text === undefined) throw new TypeError('canonicalJson: not representable in JSON');
    return text;
  }
  if (Array.isArray(value)) {
    return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
}

/**
 * The bytes a record's MAC is made over: SHA-256 of a domain prefix and the canonical JSON of the
 * record without its `integrity` field. Hashed first because KMS MACs messages of at most 4096 bytes.
 */
export function recordMacMessage(data: unknown): Uint8Array {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new TypeError('recordMacMessage: a record is a JSON object');
  }
  const rest = Object.fromEntries(
    Object.entries(data as Record<string, unknown>).filter(
      ([key]) => key !== RECORD_INTEGRITY_FIELD,
    ),
  );
  return createHash('sha256').update(MESSAGE_DOMAIN).update(canonicalJson(rest)).digest();
}

/**
 * The record with its `integrity` field (re)made by `signer`. The record is taken as its JSON form,
 * so what is signed is exactly what is written.
 */
export async function signRecord<T extends object>(
  record: T,
  signer: RecordSigner,
): Promise<T & { readonly integrity: RecordIntegrity }> {
  const data = JSON.parse(JSON.stringify(record)) as Record<string, unknown>;
  delete data[RECORD_INTEGRITY_FIELD];
  const mac = await signer.sign(recordMacMessage(data));
  return {
    ...(data as T),
    integrity: {
      algorithm: RECORD_MAC_ALGORITHM,
      keyId: signer.keyId,
      mac: Buffer.from(mac).toString('base64'),
    },
  };
}

/** How a record's integrity is to be judged. */
export interface RecordTrust {
  /** The key records must be signed with. @default - none: no record can be verified */
  readonly signer?: RecordSigner;
  /**
   * Accept a record that carries no MAC (or one that cannot be checked because no key was given).
   * A MAC that is present and does not verify is refused all the same. @default false
   */
  readonly acceptUnsigned?: boolean;
}

/** `verified`: the MAC checks with the given key. `unsigned`: accepted without a check, as asked. */
export type RecordVerdict = 'verified' | 'unsigned';

/**
 * Judges the integrity of record data as read from its file (before any other parsing): returns the
 * verdict, or throws {@link RecordIntegrityError} naming `source` for a record that must not be
 * used. A record with a MAC is checked whenever a key is given; a bad MAC is never accepted.
 */
export async function verifyRecordIntegrity(
  data: unknown,
  trust: RecordTrust,
  source: string,
): Promise<RecordVerdict> {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new InputValidationError(source, [{ path: '', message: 'expected a JSON object' }]);
  }
  const present = Object.hasOwn(data, RECORD_INTEGRITY_FIELD);
  const raw: unknown = present
    ? (data as Record<string, unknown>)[RECORD_INTEGRITY_FIELD]
    : undefined;
  if (!present) {
    if (trust.acceptUnsigned) return 'unsigned';
    throw new RecordIntegrityError(
      source,
      'the record is not signed, so it cannot be told from a hand-made one: rollback refuses it (give --accept-unsigned to review every write and act on it anyway)',
    );
  }
  const parsed = RecordIntegritySchema.safeParse(raw);
  if (!parsed.success) {
    throw new RecordIntegrityError(
      source,
      `expected { algorithm: "${RECORD_MAC_ALGORITHM}", keyId, mac }, got a malformed integrity field`,
    );
  }
  if (!trust.signer) {
    if (trust.acceptUnsigned) return 'unsigned';
    throw new RecordIntegrityError(
      source,
      `the record is signed by ${parsed.data.keyId}, but no key was given to verify it: give --record-key or --record-key-file`,
    );
  }
  const mac = Buffer.from(parsed.data.mac, 'base64');
  const valid = mac.length > 0 && (await trust.signer.verify(recordMacMessage(data), mac));
  if (!valid) {
    throw new RecordIntegrityError(
      source,
      `the MAC does not verify with ${trust.signer.keyId} (the record says ${parsed.data.keyId}): the record was changed after it was written, or signed with another key; it is refused`,
    );
  }
  return 'verified';
}

/** Minimum length of a local key: the output size of SHA-256, as RFC 2104 recommends. */
const MIN_LOCAL_KEY_BYTES = 32;

/** HMAC SHA-256 with a key held by the process (a key file), for offline use and tests. */
export class LocalRecordSigner implements RecordSigner {
  readonly keyId: string;
  readonly #key: Buffer;

  constructor(key: Uint8Array) {
    if (key.length < MIN_LOCAL_KEY_BYTES) {
      throw new VpcGuardError(
        `a record key must be at least ${MIN_LOCAL_KEY_BYTES} bytes, got ${key.length}`,
      );
    }
    this.#key = Buffer.from(key);
    // A fingerprint, not the key: the record says which key signed it without revealing it.
    const fingerprint = createHash('sha256')
      .update('vpc-guard/record-key-id\n')
      .update(this.#key)
      .digest('hex');
    this.keyId = `local:${fingerprint.slice(0, 16)}`;
  }

  sign(message: Uint8Array): Promise<Uint8Array> {
    return Promise.resolve(createHmac('sha256', this.#key).update(message).digest());
  }

  async verify(message: Uint8Array, mac: Uint8Array): Promise<boolean> {
    const expected = await this.sign(message);
    return mac.length === expected.length && timingSafeEqual(mac, expected);
  }
}

/**
 * Reads a local record key: the file's bytes, trailing whitespace removed (so
 * `openssl rand -base64 48 > FILE` works). Bad input (exit 2 in the CLI) when it cannot be read or is
 * too short.
 */
export async function loadRecordKeyFile(path: string): Promise<LocalRecordSigner> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new InputValidationError(path, [
      { path: '', message: `cannot read the record key file (${(error as Error).message})` },
    ]);
  }
  let end = bytes.length;
  while (end > 0 && [0x0a, 0x0d, 0x20, 0x09].includes(bytes[end - 1]!)) end -= 1;
  const key = bytes.subarray(0, end);
  if (key.length < MIN_LOCAL_KEY_BYTES) {
    throw new InputValidationError(path, [
      {
        path: '',
        message: `expected a record key of at least ${MIN_LOCAL_KEY_BYTES} bytes, got ${key.length}`,
      },
    ]);
  }
  return new LocalRecordSigner(key);
}
