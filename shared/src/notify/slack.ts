import { escapeControlCharacters } from '../report/ansi';
import { costDetail, costFigure, evidencePhrases, formatUsd, plural } from '../report/phrasing';
import { SEVERITIES, type Severity } from '../rules/types';
import type { FindingChangeMessage, VpcSummary } from './finding-change';
import { describeFixStatus } from './fix-status';

/**
 * Slack Block Kit for one VPC change: what is wrong, the evidence, the fix planned or applied (or why
 * it is blocked), the monthly cost; a "resolved" variant when all that changed is that things got
 * better. Pure: the webhook and its URL stay with the notifier, so no secret can reach a message.
 */

/** Slack's limits (Block Kit reference): blocks per message, and text lengths. */
export const SLACK_LIMITS = {
  blocks: 50,
  headerText: 150,
  sectionText: 3000,
  contextElements: 10,
  contextText: 2000,
  /** The top-level `text` is the notification fallback; Slack truncates beyond 40,000. */
  fallbackText: 3000,
} as const;

/** Evidence lines shown per finding; the SNS message and Security Hub carry the rest. */
const EVIDENCE_LINES = 5;
/** One evidence line at most, escaped (phrases are clipped to 240 characters before escaping). */
const EVIDENCE_LINE_MAX = 400;
/** Kept free in a finding's section for the "...and N more evidence items" line. */
const EVIDENCE_NOTE_ROOM = 100;

export interface SlackTextObject {
  readonly type: 'plain_text' | 'mrkdwn';
  readonly text: string;
  readonly emoji?: boolean;
}

export type SlackBlock =
  | { readonly type: 'header'; readonly text: SlackTextObject }
  | { readonly type: 'section'; readonly text: SlackTextObject }
  | { readonly type: 'context'; readonly elements: readonly SlackTextObject[] }
  | { readonly type: 'divider' };

/** What a Slack webhook takes: `text` is the notification fallback, `blocks` the message. */
export interface SlackMessage {
  readonly text: string;
  readonly blocks: readonly SlackBlock[];
}

/** One VPC's finding changes from one SNS batch or one event: the unit of a Slack message. */
export interface VpcNotification {
  readonly vpc: VpcSummary;
  readonly changes: readonly FindingChangeMessage[];
}

/**
 * Groups finding changes by VPC, in first-seen order; each group's VPC summary is its latest
 * change's (by `at`).
 */
export function groupChangesByVpc(changes: readonly FindingChangeMessage[]): VpcNotification[] {
  const groups = new Map<
    string,
    { vpc: VpcSummary; at: string; changes: FindingChangeMessage[] }
  >();
  for (const change of changes) {
    const id = `${change.vpc.accountId}/${change.vpc.region}/${change.vpc.vpcId}`;
    const group = groups.get(id);
    if (group === undefined) {
      groups.set(id, { vpc: change.vpc, at: change.at, changes: [change] });
    } else {
      group.changes.push(change);
      if (change.at > group.at) {
        group.vpc = change.vpc;
        group.at = change.at;
      }
    }
  }
  return [...groups.values()].map(({ vpc, changes: grouped }) => ({ vpc, changes: grouped }));
}

/**
 * Escapes text for Slack mrkdwn: the three characters Slack reserves for its control sequences
 * (`<!channel>`, `<@U123>`, `<http://x|label>`) become entities, as Slack's formatting reference says,
 * and control characters, line breaks included, are shown as `\x0a`-style escapes, so a value
 * cannot mention anyone, forge a link, or start a line that looks like vpc-guard's own.
 */
export function escapeSlackText(text: string): string {
  return escapeControlCharacters(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/** Clips already escaped text to `limit` characters without cutting an entity in half. */
function clipEscaped(text: string, limit: number, marker = '…'): string {
  if (text.length <= limit) return text;
  let cut = text.slice(0, limit - marker.length);
  const amp = cut.lastIndexOf('&');
  if (amp >= 0 && !cut.slice(amp).includes(';')) cut = cut.slice(0, amp);
  return `${cut}${marker}`;
}

function clipPlain(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

const SEVERITY_RANK = new Map<Severity, number>(SEVERITIES.map((s, i) => [s, i]));

function bySeverity(a: FindingChangeMessage, b: FindingChangeMessage): number {
  return (
    (SEVERITY_RANK.get(a.finding.severity) ?? 0) - (SEVERITY_RANK.get(b.finding.severity) ?? 0) ||
    a.finding.key.localeCompare(b.finding.key)
  );
}

function vpcLabel(vpc: VpcSummary): string {
  return vpc.vpcName ? `${vpc.vpcName} (${vpc.vpcId})` : vpc.vpcId;
}

function section(text: string): SlackBlock {
  return {
    type: 'section',
    text: { type: 'mrkdwn', text: clipEscaped(text, SLACK_LIMITS.sectionText, '… (cut)') },
  };
}

function context(texts: readonly string[]): SlackBlock {
  return {
    type: 'context',
    elements: texts
      .slice(0, SLACK_LIMITS.contextElements)
      .map((text) => ({ type: 'mrkdwn', text: clipEscaped(text, SLACK_LIMITS.contextText) })),
  };
}

function transitionLabel(change: FindingChangeMessage): string {
  if (change.transition === 'opened') return change.reopened ? 'reopened' : 'new';
  if (change.transition === 'changed') {
    const what = change.finding.previousSeverity
      ? `severity ${change.finding.previousSeverity} → ${change.finding.severity}`
      : change.changes.filter((field) => field !== 'message').join(', ') || 'details';
    return `changed: ${escapeSlackText(what)}`;
  }
  return 'resolved';
}

/** The section of one open (new or changed) finding. */
function findingSection(change: FindingChangeMessage): SlackBlock {
  const { finding } = change;
  const head = [
    `*${finding.severity.toUpperCase()}* · \`${escapeSlackText(finding.ruleId)}\` · ${transitionLabel(change)}`,
    escapeSlackText(finding.message),
  ];
  const tail = [`*Fix:* ${escapeSlackText(describeFixStatus(change.remediation))}`];
  if (finding.cost) {
    tail.push(
      `*Cost:* ${escapeSlackText(costFigure(finding.cost))} _(${escapeSlackText(costDetail(finding.cost))})_`,
    );
  }
  const phrases = finding.evidence
    ? evidencePhrases({
        evidence: finding.evidence,
        resourceId: finding.resourceId,
        message: finding.message,
      })
    : [];
  // Evidence gets what the head and the fix leave of the section, so a long value never cuts the fix.
  let room = SLACK_LIMITS.sectionText - [...head, ...tail].join('\n').length - EVIDENCE_NOTE_ROOM;
  const evidence: string[] = [];
  for (const phrase of phrases.slice(0, EVIDENCE_LINES)) {
    const line = clipEscaped(`• ${escapeSlackText(phrase)}`, EVIDENCE_LINE_MAX);
    if (line.length + 1 > room) break;
    evidence.push(line);
    room -= line.length + 1;
  }
  if (evidence.length < phrases.length) {
    evidence.push(
      `• …and ${plural(phrases.length - evidence.length, 'more evidence item')} not shown`,
    );
  } else if (change.evidenceOmitted) {
    evidence.push(
      '• evidence left out of this alert for size; see Security Hub or the JSON report',
    );
  }
  return section([...head, ...evidence, ...tail].join('\n'));
}

const REASON_TEXT: ReadonlyMap<string, string> = new Map([
  ['fixed', 'no longer found'],
  ['exempt', 'suppressed by an exemption'],
  ['vpc-gone', 'the VPC no longer exists'],
]);

/** One line per resolved finding: `resolved: HIGH nat-gateway-forbidden nat-0a1 (no longer found)`. */
function resolvedLine(change: FindingChangeMessage): string {
  const { finding } = change;
  const why = REASON_TEXT.get(change.reason ?? 'fixed') ?? 'resolved';
  const fixed =
    change.remediation.state === 'applied'
      ? `; fixed by vpc-guard ${change.remediation.action ?? ''} (${change.remediation.outcome ?? 'done'})`
      : '';
  return escapeSlackText(
    `• resolved: ${finding.severity.toUpperCase()} ${finding.ruleId} ${finding.resourceId} (${why}${fixed}): ${finding.message}`,
  );
}

/** Packs lines into as few sections as the 3,000-character limit allows; `count` is lines held. */
function packLines(
  title: string,
  lines: readonly string[],
): { block: SlackBlock; count: number }[] {
  const packed: { block: SlackBlock; count: number }[] = [];
  let current = title;
  let count = 0;
  for (const line of lines) {
    const next = current === '' ? line : `${current}\n${line}`;
    if (next.length > SLACK_LIMITS.sectionText && count > 0) {
      packed.push({ block: section(current), count });
      current = line;
      count = 1;
    } else {
      current = next;
      count += 1;
    }
  }
  if (count > 0) packed.push({ block: section(current), count });
  return packed;
}

function headerText(vpc: VpcSummary, open: number, resolved: number): string {
  const name = vpc.vpcName ?? vpc.vpcId;
  if (open === 0) return `vpc-guard resolved: ${plural(resolved, 'finding')} in ${name}`;
  const more = resolved > 0 ? `, ${resolved} resolved` : '';
  return `vpc-guard: ${plural(open, 'new or changed finding')} in ${name}${more}`;
}

function costLine(vpc: VpcSummary): string | null {
  const cost = vpc.monthlyCost;
  if (cost === null || (cost.currentUsd === 0 && cost.fixUsd === 0)) return null;
  return `*Monthly cost:* ${formatUsd(cost.currentUsd)} now on what the policy forbids; the fixes add ${formatUsd(cost.fixUsd)} (data processing excluded)`;
}

/**
 * The Slack message of one VPC change: a header, where (account, region, VPC, profile, compliance),
 * a section per new or changed finding (severity, rule, message, key evidence, the fix and its
 * status, the cost), the resolved findings, and the VPC's monthly cost. Respects Slack's limits: at
 * most 50 blocks (the last one then says how many findings were left out), 3,000 characters per
 * section, 150 for the header. `&`, `<` and `>` in anything that came from AWS or the policy are
 * escaped, so a tag value cannot mention `@channel` or forge a link.
 */
export function renderSlackMessage(notification: VpcNotification): SlackMessage {
  const { vpc } = notification;
  const open = notification.changes.filter((c) => c.transition !== 'resolved').sort(bySeverity);
  const resolved = notification.changes.filter((c) => c.transition === 'resolved').sort(bySeverity);

  // plain_text is shown as is (no entities, no mentions): only its control characters are escaped.
  const header: SlackBlock = {
    type: 'header',
    text: {
      type: 'plain_text',
      text: clipPlain(
        escapeControlCharacters(headerText(vpc, open.length, resolved.length)),
        SLACK_LIMITS.headerText,
      ),
      emoji: true,
    },
  };
  const where = context([
    `*VPC* \`${escapeSlackText(vpcLabel(vpc))}\``,
    `*Account* ${escapeSlackText(vpc.accountId)} · *Region* ${escapeSlackText(vpc.region)}`,
    `*Profile* ${escapeSlackText(vpc.profile)}`,
    vpc.present
      ? `*Status* ${escapeSlackText(vpc.compliance ?? 'unknown')} · ${plural(vpc.openFindings, 'open finding')}`
      : '*Status* VPC deleted',
    ...(vpc.exemption
      ? [
          `*Exempt until* ${escapeSlackText(vpc.exemption.until)}: ${escapeSlackText(vpc.exemption.reason)}`,
        ]
      : []),
  ]);
  const cost = costLine(vpc);
  const tail: SlackBlock[] = cost === null ? [] : [{ type: 'divider' }, section(cost)];

  const body: { block: SlackBlock; findings: number }[] = open.map((change) => ({
    block: findingSection(change),
    findings: 1,
  }));
  const resolvedTitle = open.length > 0 ? '*Resolved*' : '';
  for (const { block, count } of packLines(resolvedTitle, resolved.map(resolvedLine))) {
    body.push({ block, findings: count });
  }

  const fixed = 2 + tail.length;
  let shown = body;
  let note: SlackBlock[] = [];
  if (fixed + body.length > SLACK_LIMITS.blocks) {
    shown = body.slice(0, SLACK_LIMITS.blocks - fixed - 1);
    const left = body.slice(shown.length).reduce((sum, item) => sum + item.findings, 0);
    note = [
      context([
        `…and ${plural(left, 'more finding')} not shown: Slack allows 50 blocks. See the SNS message or Security Hub.`,
      ]),
    ];
  }
  const blocks = [header, where, ...shown.map((item) => item.block), ...note, ...tail];

  const fallback =
    open.length === 0
      ? `vpc-guard resolved: ${plural(resolved.length, 'finding')} in ${vpcLabel(vpc)} (${vpc.accountId}/${vpc.region})`
      : `vpc-guard: ${plural(open.length, 'new or changed finding')} in ${vpcLabel(vpc)} (${vpc.accountId}/${vpc.region}); worst: ${open[0]!.finding.severity} ${open[0]!.finding.ruleId}`;
  return { text: clipEscaped(escapeSlackText(fallback), SLACK_LIMITS.fallbackText), blocks };
}
