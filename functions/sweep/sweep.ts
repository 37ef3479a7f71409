import {
  collectEstate,
  mapWithConcurrency,
  type EstateAccount,
  type GuardPolicy,
} from '@vpc-guard/shared';
import type { Dependencies } from '../runtime/dependencies';
import { bindEventAccount, recordRejection, type AccountField } from '../runtime/event-account';
import { METRIC, countMetric, logger } from '../runtime/observability';
import { processSnapshot } from '../runtime/pipeline';
import { FailureLog, type PipelineReport, type TargetReport } from '../runtime/pipeline-report';
import type { SweepEvent } from './schema';

/**
 * The scheduled sweep: every configured region of every account (the function's own account, or in
 * hub mode the member accounts, listed or from Organizations), a few accounts at a time. A failing
 * account or region is logged with its account and region, counted, and the rest go on; the run
 * still fails at the end, so a broken target never passes for a clean sweep.
 */

/** How long a sweep's event id stays claimed. */
export const SWEEP_CLAIM_TTL_SECONDS = 86_400;

/** What a sweep did. */
export interface SweepResult {
  /** `rejected`: the schedule is not the function's own account's; nothing was swept. */
  readonly status: 'handled' | 'duplicate' | 'rejected';
  /** Why it was rejected. */
  readonly reason?: string;
  readonly eventId: string;
  readonly accounts: number;
  /** Account-regions attempted. */
  readonly targets: number;
  readonly vpcs: number;
  readonly report: PipelineReport;
}

/**
 * The accounts to sweep: the function's own in standalone mode (from STS, never the event), the
 * members in scope in hub mode (listed, or the organization's, under the target OUs when set).
 */
async function accountsToSweep(deps: Dependencies): Promise<string[]> {
  return [...(await deps.accountsInScope())];
}

/**
 * Sweeps every account and region: claims the event id (a replay does nothing), collects with
 * bounded concurrency (`SWEEP_CONCURRENCY` accounts at once), then evaluates, alerts and remediates
 * each account-region. Target failures are reported and the others completed.
 */
export async function sweep(
  event: SweepEvent,
  deps: Dependencies,
  invokedFunctionArn: string,
): Promise<SweepResult> {
  logger.appendKeys({ eventId: event.id });
  // The schedule runs in the function's own account, in either mode: a scheduled event naming
  // another account is forged or misrouted, and sweeps nothing.
  const fields: AccountField[] = [{ field: 'account', accountId: event.account }];
  const binding = await bindEventAccount(
    {
      config: { ...deps.config, mode: 'standalone' },
      ownAccount: deps.ownAccount,
      accountInScope: deps.accountInScope,
    },
    fields,
  );
  if (binding.kind === 'rejected') {
    recordRejection(event.id, binding, fields);
    const report = { trigger: 'sweep' as const, duplicate: false, targets: [], failures: [] };
    return {
      status: 'rejected',
      reason: binding.message,
      eventId: event.id,
      accounts: 0,
      targets: 0,
      vpcs: 0,
      report,
    };
  }
  const store = deps.findings;
  const claimKey = `sweep/${event.id}`;
  if (store && !(await store.claimEvent(claimKey, SWEEP_CLAIM_TTL_SECONDS))) {
    countMetric(METRIC.eventsDuplicate);
    const report = { trigger: 'sweep' as const, duplicate: true, targets: [], failures: [] };
    return { status: 'duplicate', eventId: event.id, accounts: 0, targets: 0, vpcs: 0, report };
  }
  try {
    const [accountIds, policy] = await Promise.all([accountsToSweep(deps), deps.policy()]);
    const result = await sweepAccounts(accountIds, policy, deps, invokedFunctionArn);
    if (result.failures.length > 0 && store)
      await store.releaseEvent(claimKey).catch(() => undefined);
    return {
      status: 'handled',
      eventId: event.id,
      accounts: accountIds.length,
      targets: result.attempted,
      vpcs: result.targets.reduce((n, t) => n + t.vpcIds.length, 0),
      report: {
        trigger: 'sweep',
        duplicate: false,
        targets: result.targets,
        failures: result.failures,
      },
    };
  } catch (error) {
    if (store) await store.releaseEvent(claimKey).catch(() => undefined);
    throw error;
  }
}

async function sweepAccounts(
  accountIds: readonly string[],
  policy: GuardPolicy,
  deps: Dependencies,
  invokedFunctionArn: string,
) {
  const failures = new FailureLog();
  const accounts: EstateAccount[] = accountIds.map((accountId) => {
    const credentials = deps.credentialsFor(accountId);
    const callerAccountId = () => deps.callerAccountFor(accountId);
    return credentials
      ? { accountId, credentials, callerAccountId }
      : { accountId, callerAccountId };
  });
  const estate = await collectEstate({
    accounts,
    regions: deps.config.regions,
    ec2For: (target) => deps.ec2For(target.accountId, target.region),
    discoveryRegion: deps.config.region,
    accountConcurrency: deps.config.sweepConcurrency,
    now: deps.clock,
  });
  for (const failure of estate.failures) {
    countMetric(METRIC.sweepTargetFailures);
    failures.push({
      stage: 'collect',
      accountId: failure.accountId,
      region: failure.region,
      vpcIds: [],
      kind: failure.kind,
      message: `${failure.stage}: ${failure.message}`,
      items: 0,
    });
  }
  logger.info('sweep collected', {
    accounts: accountIds.length,
    targets: estate.targets,
    snapshots: estate.snapshots.length,
    failures: estate.failures.length,
  });
  const settled = await mapWithConcurrency(
    estate.snapshots,
    deps.config.sweepConcurrency,
    (snapshot) =>
      processSnapshot(
        deps,
        snapshot,
        { trigger: 'sweep', notify: true, remediate: true, invokedFunctionArn },
        { policy },
        failures,
      ),
  );
  const targets: TargetReport[] = [];
  for (const [index, outcome] of settled.entries()) {
    if (outcome.status === 'fulfilled') {
      targets.push(outcome.value);
      continue;
    }
    // An unexpected error in one account-region must not cost the others their alerts.
    const snapshot = estate.snapshots[index]!;
    failures.add(
      'process',
      { accountId: snapshot.accountId, region: snapshot.region, vpcIds: [] },
      outcome.reason,
    );
    countMetric(METRIC.sweepTargetFailures);
  }
  return { targets, failures: failures.failures, attempted: estate.targets };
}
