import type { CostImpact } from '../cost/pricing';
import type { Evaluation, Finding } from '../evaluate';
import type { RuleId } from '../rules/types';

/**
 * How evaluations read in the reports people read (table, markdown): status labels, money, costs,
 * evidence, exemptions. Kept apart from the formats so both say the same thing the same way.
 */

/** `$1,234.50`: two decimals, thousands grouped, independent of the machine's locale. */
export function formatUsd(amount: number): string {
  const [whole = '0', cents = '00'] = Math.abs(amount).toFixed(2).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${amount < 0 ? '-' : ''}$${grouped}.${cents}`;
}

/** The cost of a finding as one short figure: `$32.85/mo now` (what is wrong) or `+$14.60/mo` (its fix). */
export function costFigure(cost: CostImpact): string {
  return cost.kind === 'current'
    ? `${formatUsd(cost.monthlyUsd)}/mo now`
    : `+${formatUsd(cost.monthlyUsd)}/mo`;
}

/** How a cost figure was reached and what it leaves out, e.g. `730 h x $0.045/h; data processing (...) excluded`. */
export function costDetail(cost: CostImpact): string {
  const parts = [cost.basis];
  if (cost.excludes.length > 0) parts.push(`${cost.excludes.join(', ')} excluded`);
  if (cost.estimated)
    parts.push(`estimated: no prices recorded for ${cost.pricingRegion}, us-east-1's used`);
  return parts.join('; ');
}

/** The status of a VPC as reports show it; a valid exemption reads `EXEMPT (NOT_APPLICABLE)`. */
export function statusLabel(evaluation: Evaluation): string {
  if (evaluation.compliance === 'NOT_APPLICABLE' && evaluation.exemption.state === 'valid') {
    return 'EXEMPT (NOT_APPLICABLE)';
  }
  return evaluation.compliance;
}

/** `accountId/region/vpcId`, the fully qualified name of a VPC. */
export function vpcPath(evaluation: Pick<Evaluation, 'accountId' | 'region' | 'vpcId'>): string {
  return `${evaluation.accountId}/${evaluation.region}/${evaluation.vpcId}`;
}

/** `1 finding`, `3 findings`. */
export function plural(count: number, noun: string, pluralNoun = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : pluralNoun}`;
}

const EVIDENCE_VALUE_LIMIT = 240;

function clip(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

function isEmpty(value: unknown): boolean {
  return value === null || value === undefined || (Array.isArray(value) && value.length === 0);
}

/** An object inside a list reads as its values: `rtb-0a1 0.0.0.0/0 active`; a true flag as its name. */
function compactValue(value: unknown): string {
  if (Array.isArray(value)) return value.map(compactValue).join(', ');
  if (value !== null && typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => !isEmpty(item) && item !== false)
      .map(([key, item]) => (item === true ? key : compactValue(item)))
      .join(' ');
  }
  return scalar(value);
}

function scalar(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  return JSON.stringify(value) ?? '-';
}

function evidenceValue(value: unknown): string {
  if (Array.isArray(value)) {
    const objects = value.some((item) => item !== null && typeof item === 'object');
    return value.map(compactValue).join(objects ? '; ' : ', ');
  }
  if (value !== null && typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .map(([key, item]) => `${key}=${compactValue(item)}`)
      .join(' ');
  }
  return scalar(value);
}

/** True when the message already says `value` as a word of its own (case aside). */
function saidIn(message: string, value: string): boolean {
  const escaped = value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^\\w.-])${escaped}($|[^\\w.-])`, 'i').test(message);
}

/**
 * A finding's evidence as short `key: value` phrases, in the rule's own order, leaving out what is
 * empty or what the message already says (the resource id, a service name). Long values are clipped:
 * the JSON and SARIF reports carry the evidence in full.
 */
export function evidencePhrases(
  finding: Pick<Finding, 'evidence' | 'resourceId' | 'message'>,
): string[] {
  return Object.entries(finding.evidence)
    .filter(
      ([, value]) =>
        !isEmpty(value) &&
        value !== finding.resourceId &&
        !(typeof value === 'string' && saidIn(finding.message, value)) &&
        !(
          Array.isArray(value) &&
          value.every((item) => typeof item === 'string' && saidIn(finding.message, item))
        ),
    )
    .map(([key, value]) => `${key}: ${clip(evidenceValue(value), EVIDENCE_VALUE_LIMIT)}`);
}

/** `remove-nat: Delete nat-0abc and its default routes`. */
export function fixPhrase(finding: Finding): string | null {
  return finding.fix ? `${finding.fix.action}: ${finding.fix.summary}` : null;
}

/** Counts by rule id in first-seen order, e.g. `nat-gateway-forbidden 1, endpoint-missing 2`. */
function countByRule(findings: readonly Finding[]): string {
  const counts = new Map<RuleId, number>();
  for (const finding of findings) counts.set(finding.ruleId, (counts.get(finding.ruleId) ?? 0) + 1);
  return [...counts.entries()].map(([ruleId, count]) => `${ruleId} ${count}`).join(', ');
}

/**
 * The exemption line of an exempt VPC: `exempt until 2027-01-31: migration; 3 findings suppressed
 * (nat-gateway-forbidden 1, endpoint-missing 2)`. Null when the VPC is not exempt.
 */
export function exemptionPhrase(evaluation: Evaluation): string | null {
  const { exemption, suppressedFindings } = evaluation;
  if (exemption.state !== 'valid') return null;
  const suppressed =
    suppressedFindings.length === 0
      ? 'no findings suppressed'
      : `${plural(suppressedFindings.length, 'finding')} suppressed (${countByRule(suppressedFindings)})`;
  return `exempt until ${exemption.until}: ${exemption.reason}; ${suppressed}`;
}

/** Where the prices behind the costs come from: `prices as of 2026-11-01`, plus any estimated regions. */
export function pricingNote(evaluations: readonly Evaluation[]): string | null {
  const asOf = new Set<string>();
  const estimated = new Set<string>();
  for (const evaluation of evaluations) {
    for (const finding of evaluation.findings) {
      if (!finding.cost) continue;
      asOf.add(finding.cost.pricingAsOf);
      if (finding.cost.estimated) estimated.add(finding.cost.pricingRegion);
    }
  }
  if (asOf.size === 0) return null;
  const note = `prices as of ${[...asOf].sort().join(', ')}`;
  return estimated.size === 0
    ? note
    : `${note}; us-east-1 prices used for ${[...estimated].sort().join(', ')}`;
}
