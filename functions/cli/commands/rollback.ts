import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { loadRemediationRecord, recordNeedsAttention } from '@vpc-guard/shared/remediation/record';
import {
  RecordSigningError,
  type RecordSigner,
} from '@vpc-guard/shared/remediation/record-integrity';
import { RecordFile } from '@vpc-guard/shared/remediation/record-journal';
import {
  RollbackRefusedError,
  applyRollback,
  planRollback,
  type RollbackPlan,
} from '@vpc-guard/shared/remediation/rollback';
import { CliInputError, EXIT_CODES, type CliContext, type ExitCode } from '../context';
import { createProcessDependencies, type CliDependencies } from '../dependencies';
import { resolveRecordSigner } from '../record-key';
import type { LiveSourceOptions, RecordKeyOptions } from '../definitions/options';
import { resolveLiveSession } from '../source';
import { createRecordsDir, keepingRecord, writeRunRecord } from './apply';
import { useColor } from './plan';
import { loadInput } from './scan';

/** The options of `vpc-guard rollback`, as commander parses them. */
export interface RollbackCommandOptions extends LiveSourceOptions, RecordKeyOptions {
  readonly yes?: boolean;
  /** Act on a record without a MAC (or with one no key was given for), after showing every write. */
  readonly acceptUnsigned?: boolean;
  readonly dryRun?: boolean;
  readonly recreateNat?: boolean;
  readonly records: string;
  readonly color: boolean;
}

const MARKS: Readonly<Record<RollbackPlan['steps'][number]['status'], string>> = {
  planned: ' ',
  blocked: '!',
  skipped: '=',
};

/**
 * The rollback plan as a diff a person reviews before saying yes. `full` adds, under each step that
 * will run, every parameter it writes with (policy documents, routes, subnets): for a record whose
 * integrity is not verified, the person is the only check of what it asks for.
 */
export function renderRollbackPlan(plan: RollbackPlan, full = false): string {
  const lines = [`Rollback of run ${plan.rollbackOf}: ${plan.steps.length} step(s)`];
  let vpc = '';
  for (const step of plan.steps) {
    const where = `${step.accountId}/${step.region}/${step.vpcId}`;
    if (where !== vpc) {
      vpc = where;
      lines.push('', where);
    }
    lines.push(`  ${MARKS[step.status]} ${step.summary}`);
    if (full && step.status === 'planned') {
      for (const line of JSON.stringify(step.params, null, 2).split('\n'))
        lines.push(`      ${line}`);
    }
    if (step.status !== 'planned' && step.reason)
      lines.push(`      ${step.status}: ${step.reason}`);
  }
  for (const note of plan.notes) lines.push(`note: ${note}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Runs `vpc-guard rollback RECORD`: plans the inverse of an apply run from its record alone (restore
 * policies, remove what vpc-guard created, recreate removed routes and, with `--recreate-nat`, the
 * NAT gateways), shows it, and applies it only with `--yes` (or as DryRun with `--dry-run`). Writes a
 * rollback record next to the others, kept as a journal while it runs. The record must verify with
 * the given key; an unsigned one is used only with `--accept-unsigned`, and then every write is shown
 * in full first; a bad MAC is always refused (exit 2, no AWS call). Exit 0 when every step is restored
 * or already right, 1 when anything is blocked, still failing or failed, 2 on bad input.
 */
export async function runRollback(
  recordPath: string,
  options: RollbackCommandOptions,
  context: CliContext,
  deps: CliDependencies = createProcessDependencies(),
): Promise<ExitCode> {
  const path = resolve(context.cwd, recordPath);
  // Integrity first: a record that fails it is refused before any AWS call (KMS aside).
  const signer = await resolveRecordSigner(options, context, deps);
  const { record, verdict } = await loadInput(() =>
    loadRemediationRecord(path, {
      ...(signer ? { signer } : {}),
      acceptUnsigned: options.acceptUnsigned ?? false,
    }),
  );
  const unverified = verdict === 'unsigned';
  if (unverified) {
    context.printer.err(
      `vpc-guard: warning: ${recordPath} is not verified (no valid MAC checked): it may be hand-made; ` +
        'every write is shown in full below, and AWS is still described before each one.\n',
    );
  }
  let plan: RollbackPlan;
  try {
    plan = planRollback(record, { recreateNat: options.recreateNat ?? false });
  } catch (error) {
    if (error instanceof RollbackRefusedError)
      throw new CliInputError(`${recordPath}: ${error.message}`);
    throw error;
  }
  context.printer.out(renderRollbackPlan(plan, unverified));
  const runnable = plan.steps.filter((step) => step.status === 'planned');
  if (runnable.length === 0) {
    context.printer.out('Nothing to roll back.\n');
    return plan.steps.some((step) => step.status === 'blocked')
      ? EXIT_CODES.nonCompliant
      : EXIT_CODES.ok;
  }
  if (!options.yes && !options.dryRun) {
    context.printer.err(
      'vpc-guard: this is the rollback plan; nothing was changed. Run again with --yes to apply it ' +
        '(or --dry-run to check permissions).\n',
    );
    return EXIT_CODES.ok;
  }
  const recordsDir = await createRecordsDir(options.records, context);
  const regions = [...new Set(runnable.map((step) => step.region))];
  const session = await resolveLiveSession(
    { ...options, regions: { kind: 'list', regions } },
    context,
    deps,
    [...new Set(runnable.map((step) => step.accountId))],
  );
  const file = new RecordFile(recordsDir, await signerThatSigns(signer, context));
  const result = await keepingRecord(file, () =>
    applyRollback(plan, {
      ec2For: session.ec2For,
      identity: session.identity.arn,
      clock: () => context.now(),
      runId: randomUUID(),
      dryRun: options.dryRun ?? false,
      ...(deps.endpointLimiter ? { endpointLimiter: deps.endpointLimiter() } : {}),
      onAction: (action) => context.printer.err(`vpc-guard: ${action.outcome}: ${action.id}\n`),
      journal: file,
    }),
  );
  const color = useColor(options.color, context);
  if (!(await writeRunRecord(result, file, context, color))) return EXIT_CODES.nonCompliant;
  return recordNeedsAttention(result) ? EXIT_CODES.nonCompliant : EXIT_CODES.ok;
}

/**
 * The key the rollback's own record is signed with: the verifying key, when it may sign. The
 * deployed record key lets only the functions sign (operators get VerifyMac), so with it the
 * rollback record, which nothing acts on, is written unsigned, and the operator is told so.
 */
async function signerThatSigns(
  signer: RecordSigner | undefined,
  context: CliContext,
): Promise<RecordSigner | undefined> {
  if (!signer) return undefined;
  try {
    await signer.sign(new Uint8Array(32));
    return signer;
  } catch (error) {
    if (!(error instanceof RecordSigningError)) throw error;
    context.printer.err(
      `vpc-guard: warning: ${signer.keyId} verifies but cannot sign here (${error.message}); ` +
        'the rollback record is written unsigned.\n',
    );
    return undefined;
  }
}
