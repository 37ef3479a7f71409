import { InputValidationError, verifyRecordIntegrity, type RecordSigner } from '@vpc-guard/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { createApiEventHandler } from '../../functions/api-event/create-handler';
import type { ApiEventResult } from '../../functions/api-event/event';
import {
  FunctionHarness,
  asRaw,
  captureOutput,
  loadEvent,
  resetMocks,
  type HarnessOptions,
} from '../functions/support/harness';
import { TEST_RECORD_TRUST } from '../support/record-key';

/**
 * The deployed functions' remediation records: signed with the deployment's HMAC key at every
 * journal write, and no write at all when a record cannot be signed.
 */

afterEach(resetMocks);

const auto = (options: HarnessOptions = {}) =>
  new FunctionHarness({ policy: 'policy-auto.yaml', killSwitch: 'off', ...options });

async function invoke(harness: FunctionHarness, event: unknown) {
  const output = captureOutput();
  try {
    const result = (await asRaw(createApiEventHandler(harness.deps))(
      event,
      harness.context(),
    )) as ApiEventResult;
    return { result, logs: output.logs() };
  } finally {
    output.restore();
  }
}

function loggedRecords(logs: readonly Record<string, unknown>[], message: string): unknown[] {
  return logs.filter((line) => line.message === message).map((line) => line.record);
}

describe('function remediation records', () => {
  it('logs a journal signed with the deployment key before the writes, and a signed final record', async () => {
    // Prepare
    const harness = auto();

    // Act
    const { logs } = await invoke(harness, loadEvent('api-event/create-nat-gateway.json'));

    // Assess
    expect(harness.ec2Writes().length).toBeGreaterThan(0);
    const journal = loggedRecords(logs, 'remediation journal');
    const [final] = loggedRecords(logs, 'remediation record');
    // One entry before the first call, then one before and one after each write at least.
    expect(journal.length).toBeGreaterThan(harness.ec2Writes().length);
    for (const entry of [...journal, final]) {
      await expect(verifyRecordIntegrity(entry, TEST_RECORD_TRUST, 'log')).resolves.toBe(
        'verified',
      );
    }
    const tampered = { ...(final as Record<string, unknown>), identity: 'someone else' };
    await expect(verifyRecordIntegrity(tampered, TEST_RECORD_TRUST, 'log')).rejects.toThrow(
      InputValidationError,
    );
  });

  it('writes nothing without a record key, and says why', async () => {
    // Prepare
    const harness = auto({ env: { RECORD_KEY_ARN: undefined } });

    // Act
    const { result } = await invoke(harness, loadEvent('api-event/create-nat-gateway.json'));

    // Assess
    expect(harness.ec2Writes()).toEqual([]);
    expect(result.report?.targets[0]?.remediation).toMatchObject({
      planned: 0,
      outcomes: { verified: 0, failed: 0 },
    });
    expect(result.report?.targets[0]?.remediation?.blocked).toBeGreaterThan(0);
  });

  it('writes nothing when the record cannot be signed (KMS down)', async () => {
    // Prepare
    const failing: RecordSigner = {
      keyId: 'alias/vpc-guard-records',
      sign: () => Promise.reject(new Error('KMS unavailable')),
      verify: () => Promise.resolve(false),
    };
    const harness = auto({ overrides: { recordSigner: failing } });

    // Act
    await invoke(harness, loadEvent('api-event/create-nat-gateway.json')).catch(() => undefined);

    // Assess
    expect(harness.ec2Writes()).toEqual([]);
  });
});
