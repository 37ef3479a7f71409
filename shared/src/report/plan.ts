import type { PlannedAction, RemediationPlan, VpcPlan } from '../remediation/plan-model';
import { ansiPainter, escapeControlCharacters as shown, type Paint } from './ansi';
import { formatUsd, plural } from './phrasing';

/**
 * A remediation plan as people review it: per VPC, what changes (`+` created, `-` removed, `~`
 * modified), why (the findings each change fixes), whether it will run or is blocked and why, and what
 * it does to the monthly bill. Pure: the plan in, text out.
 */

/** Options of {@link renderPlanDiff}. */
export interface PlanDiffOptions {
  /** ANSI colours. @default false */
  readonly color?: boolean;
}

/** `+$14.60/mo`, `-$32.85/mo`, `$0.00/mo`. */
function monthly(amount: number): string {
  const rounded = Math.round(amount * 100) / 100;
  return `${rounded > 0 ? '+' : ''}${formatUsd(rounded)}/mo`;
}

function plannedCost(actions: readonly PlannedAction[]): number {
  return actions
    .filter((action) => action.status === 'planned')
    .reduce((total, action) => total + action.monthlyCostChangeUsd, 0);
}

function summaryStyle(summary: string, paint: Paint): string {
  switch (summary.charAt(0)) {
    case '+':
      return paint(summary, 'green');
    case '-':
      return paint(summary, 'red');
    case '~':
      return paint(summary, 'yellow');
    default:
      return summary;
  }
}

function renderAction(action: PlannedAction, paint: Paint): string[] {
  // Summaries, reasons and notes may quote AWS values or come from a plan file: shown, not obeyed.
  const lines = [`  ${summaryStyle(shown(action.summary), paint)}`];
  if (action.reason !== '') lines.push(`      ${paint('why:', 'dim')} ${shown(action.reason)}`);
  const cost = action.monthlyCostChangeUsd === 0 ? '' : `, ${monthly(action.monthlyCostChangeUsd)}`;
  lines.push(
    action.status === 'blocked'
      ? `      ${paint('blocked:', 'bold', 'yellow')} ${shown(action.blockedReason ?? 'no reason given')}`
      : `      ${paint('planned', 'cyan')}${action.execution === 'dry-run' ? ' (dry-run: DryRun calls only, no change)' : ''}${cost}`,
  );
  return lines;
}

function renderVpc(vpc: VpcPlan, paint: Paint): string[] {
  const name = vpc.vpcName ? `  ${shown(vpc.vpcName)}` : '';
  const lines = [
    `${paint(shown(`${vpc.accountId}/${vpc.region}/${vpc.vpcId}`), 'bold')}${name}  ${paint(shown(`profile ${vpc.profile}, mode ${vpc.mode}`), 'dim')}`,
  ];
  if (vpc.actions.length === 0) {
    lines.push(
      ...(vpc.notes.length > 0 ? vpc.notes : ['no change planned']).map(
        (note) => `  ${paint('nothing planned:', 'dim')} ${shown(note)}`,
      ),
    );
    return lines;
  }
  for (const action of vpc.actions) lines.push(...renderAction(action, paint));
  for (const note of vpc.notes) lines.push(`  ${paint('note:', 'dim')} ${shown(note)}`);
  lines.push(`  monthly cost change: ${monthly(plannedCost(vpc.actions))}`);
  return lines;
}

/** The plan's counts as one phrase: `9 actions in 4 VPCs: 7 planned, 2 blocked`. */
export function describePlanTotals(plan: RemediationPlan): string {
  const withActions = plan.vpcs.filter((vpc) => vpc.actions.length > 0).length;
  return (
    `${plural(plan.totals.actions, 'action')} in ${plural(withActions, 'VPC')}: ` +
    `${plan.totals.planned} planned, ${plan.totals.blocked} blocked`
  );
}

/**
 * The plan as a readable per-VPC diff: each action's summary line (`+`, `-`, `~`), the findings it
 * fixes, `planned` (with its cost change) or `blocked` with the reason; VPCs with nothing planned say
 * why (exempt, notify mode, uncertain profile); a total line with the monthly cost change of the
 * planned actions.
 */
export function renderPlanDiff(plan: RemediationPlan, options: PlanDiffOptions = {}): string {
  const paint = ansiPainter(options.color ?? false);
  if (plan.vpcs.length === 0) {
    return 'vpc-guard plan: nothing to change: every VPC is compliant.\n';
  }
  const sections = plan.vpcs.map((vpc) => renderVpc(vpc, paint).join('\n'));
  const total =
    `${paint('Plan:', 'bold')} ${describePlanTotals(plan)}; ` +
    `monthly cost change ${monthly(plan.totals.monthlyCostChangeUsd)} ` +
    '(planned actions; data processing excluded)';
  return `${sections.join('\n\n')}\n\n${total}\n`;
}

/** The plan as JSON, exactly the shape `vpc-guard apply --plan FILE` reads back. */
export function renderPlanJson(plan: RemediationPlan): string {
  return `${JSON.stringify(plan, null, 2)}\n`;
}
