import { summarizeEvaluations, type Evaluation, type Finding } from '../evaluate';
import { RULE_IDS } from '../rules/types';
import { escapeControlCharacters } from './ansi';
import {
  costDetail,
  costFigure,
  exemptionPhrase,
  formatUsd,
  plural,
  pricingNote,
  statusLabel,
  vpcPath,
} from './phrasing';

/** Options of the markdown report. */
export interface MarkdownReportOptions {
  readonly generatedAt: Date;
  /** The report's heading. @default 'vpc-guard report' */
  readonly title?: string;
}

/**
 * Escapes text for GitHub-flavoured Markdown, in a table cell or mid-line: `|` would end the cell;
 * `[`, `]`, `(`, `)` and `!` make links and images, `*`, `_`, `~` and backticks emphasis and code,
 * `<` and `&` HTML and entities. Each is backslash-escaped (`<` and `&` become entities), and control
 * characters, line breaks included, are shown as `\x0a`-style escapes, so a cell stays on its line and
 * text from AWS or a file (a VPC name, a tag value, an exemption reason) is only ever text.
 */
export function escapeMarkdownCell(text: string): string {
  return escapeControlCharacters(
    text
      .replace(/&/g, '&amp;')
      .replace(/[\\`*_~|[\]()!]/g, (character) => `\\${character}`)
      .replace(/</g, '&lt;'),
  );
}

/** An id in a code span; ids have no backticks, but a `|` would still end a table cell. */
function code(text: string): string {
  return `\`${escapeControlCharacters(text).replace(/`/g, "'").replace(/\|/g, '\\|')}\``;
}

function row(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function vpcTitle(evaluation: Evaluation): string {
  const name = evaluation.vpcName === null ? '' : ` ${escapeMarkdownCell(evaluation.vpcName)}`;
  return `${code(evaluation.vpcId)}${name}`;
}

function vpcFacts(evaluation: Evaluation): string {
  return (
    `Account ${code(evaluation.accountId)}, region ${code(evaluation.region)}, ` +
    `profile ${code(evaluation.profile)} (${evaluation.profileSource}).`
  );
}

function summaryTable(evaluations: readonly Evaluation[]): string[] {
  const summary = summarizeEvaluations(evaluations);
  const lines = [
    row(['Status', 'VPCs']),
    row(['---', '---:']),
    row(['Compliant', String(summary.compliant)]),
    row(['Non-compliant', String(summary.nonCompliant)]),
    row(['Exempt (not applicable)', String(summary.notApplicable)]),
    row(['**Total**', `**${summary.vpcs}**`]),
  ];
  const rules = RULE_IDS.filter((id) => summary.findingsByRule[id] > 0);
  if (rules.length > 0) {
    lines.push('', row(['Rule', 'Open findings']), row(['---', '---:']));
    for (const id of rules) lines.push(row([code(id), String(summary.findingsByRule[id])]));
  }
  const note = pricingNote(evaluations);
  lines.push(
    '',
    `Monthly cost: **${formatUsd(summary.monthlyCostUsd.forbidden)}** now on what the policy forbids, ` +
      `**+${formatUsd(summary.monthlyCostUsd.fixes)}** for the suggested fixes ` +
      `(data processing excluded${note ? `; ${note}` : ''}).`,
  );
  return lines;
}

function costCell(finding: Finding): string {
  if (!finding.cost) return '';
  return `${escapeMarkdownCell(costFigure(finding.cost))}<br><sub>${escapeMarkdownCell(costDetail(finding.cost))}</sub>`;
}

function findingsTable(findings: readonly Finding[]): string[] {
  const lines = [
    row(['Severity', 'Rule', 'Resource', 'Message', 'Fix', 'Monthly cost']),
    row(['---', '---', '---', '---', '---', '---']),
  ];
  for (const finding of findings) {
    lines.push(
      row([
        finding.severity,
        code(finding.ruleId),
        code(finding.resourceId),
        escapeMarkdownCell(finding.message),
        finding.fix ? `${code(finding.fix.action)} ${escapeMarkdownCell(finding.fix.summary)}` : '',
        costCell(finding),
      ]),
    );
  }
  return lines;
}

/**
 * A report for a pull request comment or a wiki page: the summary table, a section per non-compliant
 * VPC with its findings, then the exempt and the compliant VPCs. Cell text is escaped.
 */
export function renderMarkdownReport(
  evaluations: readonly Evaluation[],
  options: MarkdownReportOptions,
): string {
  const lines: string[] = [`## ${escapeMarkdownCell(options.title ?? 'vpc-guard report')}`, ''];
  lines.push(
    `${plural(evaluations.length, 'VPC')} evaluated; generated ${options.generatedAt.toISOString()}.`,
    '',
  );
  lines.push(...summaryTable(evaluations));

  const nonCompliant = evaluations.filter(
    (evaluation) => evaluation.compliance === 'NON_COMPLIANT',
  );
  for (const evaluation of nonCompliant) {
    lines.push(
      '',
      `### ${statusLabel(evaluation)}: ${vpcTitle(evaluation)}`,
      '',
      vpcFacts(evaluation),
    );
    if (evaluation.profileProblem) {
      lines.push('', `> **Profile:** ${escapeMarkdownCell(evaluation.profileProblem)}`);
    }
    lines.push('', ...findingsTable(evaluation.findings));
  }

  const exempt = evaluations.filter((evaluation) => evaluation.compliance === 'NOT_APPLICABLE');
  if (exempt.length > 0) {
    lines.push('', '### Exempt VPCs', '');
    for (const evaluation of exempt) {
      lines.push(
        `- ${vpcTitle(evaluation)} (${code(vpcPath(evaluation))}): ${escapeMarkdownCell(exemptionPhrase(evaluation) ?? 'not applicable')}`,
      );
    }
  }

  const compliant = evaluations.filter((evaluation) => evaluation.compliance === 'COMPLIANT');
  if (compliant.length > 0) {
    lines.push('', '### Compliant VPCs', '');
    for (const evaluation of compliant) {
      lines.push(
        `- ${vpcTitle(evaluation)} (${code(vpcPath(evaluation))}), profile ${code(evaluation.profile)}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
