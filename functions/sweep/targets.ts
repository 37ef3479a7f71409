import { InputValidationError, describeAwsError } from '@vpc-guard/shared';
import type { Dependencies } from '../runtime/dependencies';
import { bindEventAccount, recordRejection, type AccountField } from '../runtime/event-account';
import { METRIC, countMetric, logger } from '../runtime/observability';
import { runPipeline } from '../runtime/pipeline';
import type { PipelineReport, StageFailure } from '../runtime/pipeline-report';
import type { SweepTarget } from './schema';

/**
 * The sweep as a fan-out: {@link listSweepTargets} lists the account-regions of one run, the state
 * machine's Distributed Map runs {@link sweepTarget} once per target (or per batch of them), and
 * {@link summarizeSweep} adds the children's results up. A child holds one account-region in memory,
 * never the estate, so its time and memory do not grow with the organization; a failed child returns
 * its reason instead of throwing, so the Map never stops the others for it.
 *
 * Items are one per account-region, sorted by account then region: the child's claim, its result and
 * the summary's "missed" list are all per account-region. Batching per account (to assume each
 * member role once) is the Map's `ItemBatcher` with `MaxItemsPerBatch` set to the number of regions:
 * since the items of one account are adjacent, a batch is mostly one account's regions, and a batch
 * that straddles two accounts is still correct (the credentials are cached per account for the
 * container's life, so it costs at most one more AssumeRole).
 */

/**
 * How long a child's `runId/account/region` claim is kept when the caller does not say: Lambda's
 * longest timeout. The handler claims for the invocation's remaining time instead, so a child that
 * timed out or crashed holding its claim does not turn Step Functions' retry into a `duplicate` (and
 * the target into one skipped every run): once the invocation cannot be running any more, its claim
 * has expired (expired claims count as free). A replay while it may still run is a duplicate.
 */
export const SWEEP_TARGET_CLAIM_TTL_SECONDS = 900;

/** Options of {@link sweepTarget}. */
export interface SweepTargetOptions {
  /** The Lambda function ARN, for the pipeline's records. */
  readonly invokedFunctionArn: string;
  /** How long the target's claim holds. @default SWEEP_TARGET_CLAIM_TTL_SECONDS */
  readonly claimTtlSeconds?: number;
}

/** The targets of one run. */
export interface SweepTargetListing {
  readonly runId: string;
  /** Accounts in scope. */
  readonly accounts: number;
  /** One per account-region, sorted by account then region, without duplicates. */
  readonly targets: readonly SweepTarget[];
}

/** What one child did with one account-region. */
export interface SweepTargetResult extends SweepTarget {
  /** `duplicate`: this run's target was claimed before (a replay); nothing was done again. */
  readonly status: 'ok' | 'failed' | 'duplicate';
  readonly vpcs: number;
  readonly findings: number;
  /** Why the target failed (its first failed stages), or why it is a duplicate. */
  readonly reason?: string;
}

/** A run's totals, and every target that was not read. */
export interface SweepSummary {
  readonly runId: string;
  /** Targets with a result (any status). */
  readonly targets: number;
  /** Targets read in full by this run. */
  readonly read: number;
  readonly failed: readonly {
    readonly accountId: string;
    readonly region: string;
    readonly reason: string;
  }[];
  /**
   * Targets whose claim was held by an earlier attempt (a child retried while that attempt may
   * still have been running, or after it crashed): not read again by this result, so not confirmed.
   */
  readonly duplicates: readonly { readonly accountId: string; readonly region: string }[];
  readonly vpcs: number;
  readonly findings: number;
  /**
   * What this run cannot vouch for, sorted: failed targets, duplicates (an earlier attempt held the
   * claim but its result is not the one the Map kept), and listed targets with no result at all.
   */
  readonly missed: readonly {
    readonly accountId: string;
    readonly region: string;
    readonly reason: string;
  }[];
}

const byTarget = (
  a: { accountId: string; region: string },
  b: { accountId: string; region: string },
) =>
  a.accountId === b.accountId
    ? a.region.localeCompare(b.region)
    : a.accountId.localeCompare(b.accountId);

/**
 * The account-regions of a run: the function's own account in standalone mode, the accounts in
 * scope in hub mode (listed, or the organization's under the target OUs), times the configured
 * regions. `REGIONS=all` is refused: which regions are enabled differs per account, and the listing
 * would have to assume every member role to know; the deployment names its regions instead.
 */
export async function listSweepTargets(
  deps: Pick<Dependencies, 'config' | 'accountsInScope'>,
  input: { readonly runId: string },
): Promise<SweepTargetListing> {
  const selection = deps.config.regions;
  if (selection.kind !== 'list') {
    throw new InputValidationError('REGIONS', [
      {
        path: '',
        message:
          'the Step Functions sweep needs its regions named (REGIONS=us-east-1,eu-west-1,...), not "all"',
      },
    ]);
  }
  const accounts = [...new Set(await deps.accountsInScope())].sort();
  const regions = [...new Set(selection.regions)].sort();
  const targets = accounts.flatMap((accountId) =>
    regions.map((region) => ({ runId: input.runId, accountId, region })),
  );
  logger.info('sweep targets listed', {
    runId: input.runId,
    accounts: accounts.length,
    regions: regions.length,
    targets: targets.length,
  });
  return { runId: input.runId, accounts: accounts.length, targets };
}

/** The first failed stages of a report, for a result's `reason` (the full list is logged). */
function describeFailures(failures: readonly StageFailure[]): string {
  const shown = failures
    .slice(0, 3)
    .map((f) => `${f.stage}${f.region === null ? '' : ` (${f.region})`}: ${f.message}`);
  const more = failures.length > 3 ? `; and ${failures.length - 3} more` : '';
  return `${shown.join('; ')}${more}`;
}

function totals(report: PipelineReport) {
  return {
    vpcs: report.targets.reduce((n, t) => n + t.vpcIds.length, 0),
    findings: report.targets.reduce((n, t) => n + t.findings, 0),
  };
}

/**
 * One child: the pipeline for one account-region, detection and alerting only (`remediate: false`:
 * nothing is planned or applied, and no EC2 write is made; remediation is the remediation path's).
 * The target's account is bound as an event's is (the function's own in standalone mode, one in
 * scope in hub mode) and its region must be a configured one. The target is claimed as
 * `sweep/<runId>/<account>/<region>`: a replayed child is `duplicate` and alerts nothing again. A
 * target that failed releases its claim, so a redrive of the run does it again. Never throws.
 */
export async function sweepTarget(
  deps: Dependencies,
  item: SweepTarget,
  options: SweepTargetOptions,
): Promise<SweepTargetResult> {
  const { runId, accountId, region } = item;
  const failed = (reason: string): SweepTargetResult => {
    countMetric(METRIC.sweepTargetFailures);
    logger.warn('sweep target failed', { runId, accountId, region, reason });
    return { runId, accountId, region, status: 'failed', vpcs: 0, findings: 0, reason };
  };
  const store = deps.findings;
  const claimKey = `sweep/${runId}/${accountId}/${region}`;
  let claimed = false;
  try {
    const fields: AccountField[] = [{ field: 'accountId', accountId }];
    const binding = await bindEventAccount(deps, fields);
    if (binding.kind === 'rejected') {
      recordRejection(claimKey, binding, fields);
      return failed(binding.message);
    }
    const regions = deps.config.regions;
    if (regions.kind === 'list' && !regions.regions.includes(region)) {
      return failed(`region ${region} is not one of the configured regions (REGIONS)`);
    }
    if (store === null) return failed('FINDINGS_TABLE is required to sweep a target');
    const claim = store
      .claimEvent(claimKey, options.claimTtlSeconds ?? SWEEP_TARGET_CLAIM_TTL_SECONDS)
      .then((won) => {
        claimed = won;
        return won;
      });
    claim.catch(() => undefined);
    const report = await runPipeline(deps, {
      trigger: 'sweep',
      accountId: binding.accountId,
      region,
      notify: true,
      remediate: false,
      invokedFunctionArn: options.invokedFunctionArn,
      claim: () => claim,
    });
    if (report.duplicate) {
      countMetric(METRIC.eventsDuplicate);
      logger.info('sweep target already done in this run: nothing done again', { claimKey });
      return {
        runId,
        accountId,
        region,
        status: 'duplicate',
        vpcs: 0,
        findings: 0,
        reason: `${claimKey} was claimed before: done (or under way) by an earlier attempt`,
      };
    }
    if (report.failures.length > 0) {
      await release(deps, claimKey, claimed);
      return { ...failed(describeFailures(report.failures)), ...totals(report) };
    }
    return { runId, accountId, region, status: 'ok', ...totals(report) };
  } catch (error) {
    // A policy that cannot be read, a claim DynamoDB refused: this target fails, the others go on.
    await release(deps, claimKey, claimed);
    return failed(describeAwsError(error));
  }
}

async function release(deps: Dependencies, claimKey: string, claimed: boolean): Promise<void> {
  if (!claimed || deps.findings === null) return;
  try {
    await deps.findings.releaseEvent(claimKey);
  } catch (error) {
    logger.error('could not release the sweep target claim: a redrive will take it for a replay', {
      claimKey,
      error: describeAwsError(error),
    });
  }
}

/**
 * Adds a run's results up. Pure. Targets count once each, however many results they have (a
 * target read in one result is not missed for a failure in another). `targets` (the listing) lets a
 * target with no result at all, a child the Map gave up on, be named as missed too.
 */
export function summarizeSweep(
  runId: string,
  results: readonly (SweepTargetResult | readonly SweepTargetResult[])[],
  targets: readonly SweepTarget[] = [],
): SweepSummary {
  const flat = results.flat().slice().sort(byTarget);
  const key = (t: { accountId: string; region: string }) => `${t.accountId}/${t.region}`;
  const seen = new Set(flat.map(key));
  const read = new Set(flat.filter((r) => r.status === 'ok').map(key));
  const failed = flat
    .filter((r) => r.status === 'failed')
    .map((r) => ({
      accountId: r.accountId,
      region: r.region,
      reason: r.reason ?? 'no reason given',
    }));
  const duplicates = flat
    .filter((r) => r.status === 'duplicate')
    .map((r) => ({ accountId: r.accountId, region: r.region }));
  const missed = new Map<string, { accountId: string; region: string; reason: string }>();
  for (const f of failed) if (!read.has(key(f))) missed.set(key(f), f);
  for (const d of duplicates) {
    if (read.has(key(d)) || missed.has(key(d))) continue;
    missed.set(key(d), {
      ...d,
      reason: 'claimed by an earlier attempt whose result was not kept: not confirmed read',
    });
  }
  for (const t of targets) {
    if (seen.has(key(t)) || missed.has(key(t))) continue;
    missed.set(key(t), {
      accountId: t.accountId,
      region: t.region,
      reason: 'no result: the child did not finish',
    });
  }
  return {
    runId,
    targets: seen.size,
    read: read.size,
    failed,
    duplicates,
    vpcs: flat.reduce((n, r) => n + r.vpcs, 0),
    findings: flat.reduce((n, r) => n + r.findings, 0),
    missed: [...missed.values()].sort(byTarget),
  };
}
