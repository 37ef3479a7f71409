import {
  lstatSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../functions/cli/main';
import { saveRemediationPlan } from '../../shared/src/remediation/plan-file';
import { loadRemediationRecord, type RemediationRecord } from '../../shared/src/remediation/record';
import { RecordIntegrityError } from '../../shared/src/remediation/record-integrity';
import { RecordFile } from '../../shared/src/remediation/record-journal';
import { applyRollback, planRollback } from '../../shared/src/remediation/rollback';
import { saveNetworkSnapshots } from '../../shared/src/snapshot/file';
import type { NetworkSnapshot } from '../../shared/src/snapshot/schema';
import { recordingContext } from '../cli/support';
import { TEST_RECORD_SIGNER, TEST_RECORD_TRUST } from '../support/record-key';
import { Scenario } from '../scenarios/harness';

/*
 * Every write is recorded before it is made: apply and rollback keep their record as a journal,
 * written (signed, atomically) before each AWS write and after it, so a run killed part-way leaves a
 * record rollback can use. Records, plans and reports are written atomically and never through a
 * symbolic link.
 */

/** Stands for the process dying: not an AWS error, so nothing catches it on the way out. */
class Killed extends Error {}

const isWrite = (operation: string) => !operation.startsWith('Describe');

/** What rollback restores: every route and every live endpoint's policy, DNS and coverage. */
function restorable(snapshots: readonly NetworkSnapshot[]) {
  return snapshots.map((s) => ({
    routes: s.routeTables
      .flatMap((t) => t.routes.map((r) => `${t.routeTableId} ${r.destination} -> ${r.target.id}`))
      .sort(),
    endpoints: s.vpcEndpoints
      .filter((e) => e.state === 'available' || e.state === 'pending')
      .map((e) => [e.vpcEndpointId, e.policyDocument ?? null, e.privateDnsEnabled, e.subnetIds])
      .sort(),
  }));
}

function estate(scenario: Scenario): NetworkSnapshot[] {
  return scenario
    .targets()
    .map(({ accountId, region }) => scenario.account.toSnapshot(accountId, region));
}

describe('apply and rollback keep a signed journal of every write', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vpc-guard-journal-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('leaves a verified record when the run is killed after its first write, and rollback undoes that write', async () => {
    // Prepare: the run dies as it announces its second write.
    const scenario = await Scenario.demo();
    const { plan } = await scenario.plan();
    const before = restorable(estate(scenario));
    const file = new RecordFile(dir, TEST_RECORD_SIGNER);
    const journal = {
      async write(record: RemediationRecord) {
        await file.write(record);
        const calls = record.actions.flatMap((a) => a.calls).filter((c) => isWrite(c.operation));
        if (calls.some((c) => c.result === 'ok') && calls.some((c) => c.result === 'pending'))
          throw new Killed('killed');
      },
    };
    scenario.account.resetCalls();

    // Act
    const run = scenario.apply(plan, { journal });
    await expect(run).rejects.toThrow(Killed);
    const written = scenario.account.writes();
    const { record, verdict } = await loadRemediationRecord(file.path!, TEST_RECORD_TRUST);
    const rollback = await applyRollback(planRollback(record, {}), {
      ec2For: scenario.ec2For,
      identity: 'test',
      clock: scenario.clock.date,
      endpointLimiter: scenario.limiter,
      sleep: () => Promise.resolve(scenario.account.advance()),
    });

    // Assess
    expect(written).toHaveLength(1);
    expect(verdict).toBe('verified');
    expect(record.status).toBe('running');
    expect(rollback.summary).toMatchObject({ failed: 0, blocked: 0, 'still-failing': 0 });
    expect(rollback.summary.verified).toBeGreaterThanOrEqual(1);
    expect(restorable(estate(scenario))).toEqual(before);
  });

  it('has every write in the journal, pending, before EC2 receives it', async () => {
    // Prepare
    const scenario = await Scenario.demo();
    const { plan } = await scenario.plan();
    const seen: { callsSoFar: number; pending: string[] }[] = [];
    const journal = {
      write(record: RemediationRecord) {
        seen.push({
          callsSoFar: scenario.account.calls.length,
          pending: record.actions
            .flatMap((a) => a.calls)
            .filter((c) => c.result === 'pending')
            .map((c) => c.operation),
        });
        return Promise.resolve();
      },
    };
    scenario.account.resetCalls();

    // Act
    await scenario.apply(plan, { journal });

    // Assess
    const calls = scenario.account.calls;
    const writes = calls.filter((c) => c.mutating && !c.dryRun);
    expect(writes.length).toBeGreaterThan(3);
    for (const call of writes) {
      // Written when exactly the calls before this one had reached EC2, naming it pending.
      const before = calls.indexOf(call);
      const announced = seen.find(
        (entry) => entry.callsSoFar === before && entry.pending.includes(call.operation),
      );
      expect(announced, `${call.operation} #${call.seq} announced`).toBeDefined();
    }
  });

  it('makes no AWS write when the journal cannot be written', async () => {
    // Prepare
    const scenario = await Scenario.demo();
    const { plan } = await scenario.plan();
    const journal = { write: () => Promise.reject(new Error('disk full')) };
    scenario.account.resetCalls();

    // Act
    const run = scenario.apply(plan, { journal });

    // Assess
    await expect(run).rejects.toThrow('disk full');
    expect(scenario.account.calls).toEqual([]);
  });

  it('refuses a journal edited after it was written', async () => {
    // Prepare: a journal of a killed run, one recorded call then changed by hand.
    const scenario = await Scenario.demo();
    const { plan } = await scenario.plan();
    const file = new RecordFile(dir, TEST_RECORD_SIGNER);
    const journal = {
      async write(record: RemediationRecord) {
        await file.write(record);
        if (record.actions.some((a) => a.calls.some((c) => c.result === 'pending')))
          throw new Killed('killed');
      },
    };
    await expect(scenario.apply(plan, { journal })).rejects.toThrow(Killed);
    const data = JSON.parse(readFileSync(file.path!, 'utf8')) as {
      actions: { calls: { result: string }[] }[];
    };
    data.actions.at(-1)!.calls.at(-1)!.result = 'InvalidParameterValue';
    writeFileSync(file.path!, JSON.stringify(data));

    // Act
    const loading = loadRemediationRecord(file.path!, TEST_RECORD_TRUST);

    // Assess
    await expect(loading).rejects.toThrow(RecordIntegrityError);
  });
});

describe('files are written atomically and never through a symbolic link', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vpc-guard-output-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('scan --output refuses a symlink and leaves the file it points to unchanged', async () => {
    // Prepare
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'precious\n');
    symlinkSync(victim, join(dir, 'report.json'));
    const context = recordingContext({ cwd: dir });

    // Act
    const code = await main(['scan', '--format', 'json', '--output', 'report.json'], context);

    // Assess
    expect(code).toBe(2);
    expect(context.stderr.join('')).toContain('symbolic link');
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(lstatSync(join(dir, 'report.json')).isSymbolicLink()).toBe(true);
  });

  it('refuses to write a plan or snapshot through a symlink', async () => {
    // Prepare
    const victim = join(dir, 'victim.json');
    writeFileSync(victim, '{}');
    symlinkSync(victim, join(dir, 'plan.json'));
    symlinkSync(victim, join(dir, 'snapshot.json'));
    const { plan, snapshots } = await (await Scenario.demo()).plan();

    // Act
    const savingPlan = saveRemediationPlan(join(dir, 'plan.json'), plan);
    const savingSnapshots = saveNetworkSnapshots(join(dir, 'snapshot.json'), snapshots);

    // Assess
    await expect(savingPlan).rejects.toThrow('symbolic link');
    await expect(savingSnapshots).rejects.toThrow('symbolic link');
    expect(readFileSync(victim, 'utf8')).toBe('{}');
    expect(readdirSync(dir).sort()).toEqual(['plan.json', 'snapshot.json', 'victim.json']);
  });
});
