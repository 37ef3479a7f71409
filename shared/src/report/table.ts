import { summarizeEvaluations, type Evaluation, type Finding } from '../evaluate';
import { RULE_IDS, SEVERITIES, type Severity } from '../rules/types';
import { escapeControlCharacters } from './ansi';
import {
  costDetail,
  costFigure,
  evidencePhrases,
  exemptionPhrase,
  fixPhrase,
  formatUsd,
  plural,
  pricingNote,
  statusLabel,
  vpcPath,
} from './phrasing';

/** Options of the terminal report. */
export interface TableReportOptions {
  readonly generatedAt: Date;
  /** ANSI colours; the CLI sets it only when stdout is a terminal and `NO_COLOR` is unset. @default false */
  readonly color?: boolean;
  /** The widest a line may be, in columns. @default 120 */
  readonly width?: number;
}

const DEFAULT_WIDTH = 120;
/** Evidence beyond this many wrapped lines is elided: the JSON report has all of it. */
const MAX_EVIDENCE_LINES = 4;

const SEVERITY_LABEL: Readonly<Record<Severity, string>> = {
  critical: 'CRITICAL',
  high: 'HIGH',
  medium: 'MEDIUM',
  low: 'LOW',
  informational: 'INFO',
};

// Columns of a finding line: "  HIGH      nat-gateway-forbidden      message..."
const FINDING_INDENT = 2;
const SEVERITY_COLUMN = 10;
const RULE_COLUMN = Math.max(...RULE_IDS.map((id) => id.length)) + 2;
const DETAIL_INDENT = FINDING_INDENT + SEVERITY_COLUMN;

type Style = 'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'blue' | 'magenta' | 'cyan';

const ANSI: Readonly<Record<Style, string>> = {
  bold: '1',
  dim: '2',
  red: '31',
  green: '32',
  yellow: '33',
  blue: '34',
  magenta: '35',
  cyan: '36',
};

type Paint = (text: string, ...styles: Style[]) => string;

function painter(color: boolean): Paint {
  if (!color) return (text) => text;
  return (text, ...styles) =>
    styles.length === 0 || text === ''
      ? text
      : `\u001b[${styles.map((style) => ANSI[style]).join(';')}m${text}\u001b[0m`;
}

const SEVERITY_STYLE: Readonly<Record<Severity, readonly Style[]>> = {
  critical: ['bold', 'magenta'],
  high: ['bold', 'red'],
  medium: ['yellow'],
  low: ['blue'],
  informational: ['dim'],
};

/**
 * Word-wraps text: the first line at most `firstWidth` columns, the rest at most `restWidth`. Runs of
 * spaces inside a line are kept (they align columns); a word longer than a line (an ARN, say) is cut
 * rather than allowed to overflow.
 */
function wrapWords(text: string, firstWidth: number, restWidth: number): string[] {
  const lines: string[] = [];
  let line = '';
  const limit = () => (lines.length === 0 ? firstWidth : restWidth);
  const tokens = text.split(/( +)/).filter((token) => token !== '');
  for (let index = 0; index < tokens.length; index += 1) {
    let token = tokens[index]!;
    if (token.startsWith(' ')) {
      const next = tokens[index + 1];
      // A separator goes with the word after it, or becomes the line break.
      if (line === '' || next === undefined) continue;
      if (line.length + token.length + next.length <= limit()) {
        line += token;
      } else {
        lines.push(line);
        line = '';
      }
      continue;
    }
    while (token !== '') {
      const room = limit() - line.length;
      if (token.length <= room) {
        line += token;
        token = '';
      } else if (line !== '' && (token.length <= limit() || room < 8)) {
        lines.push(line.trimEnd());
        line = '';
      } else {
        lines.push(`${line}${token.slice(0, room)}`);
        line = '';
        token = token.slice(room);
      }
    }
  }
  if (line !== '' || lines.length === 0) lines.push(line.trimEnd());
  return lines;
}

/**
 * Wraps phrases (evidence items, parts of a cost basis) so that a line breaks between phrases where it
 * can, and inside one only when a phrase is longer than a line.
 */
function wrapPhrases(
  phrases: readonly string[],
  separator: string,
  firstWidth: number,
  restWidth: number,
): string[] {
  const lines: string[] = [];
  let line = '';
  const limit = () => (lines.length === 0 ? firstWidth : restWidth);
  phrases.forEach((phrase, index) => {
    const unit = index < phrases.length - 1 ? `${phrase}${separator}` : phrase;
    const joined = line === '' ? unit : `${line} ${unit}`;
    if (joined.length <= limit()) {
      line = joined;
      return;
    }
    if (line !== '' && unit.length <= restWidth) {
      lines.push(line);
      line = unit;
      return;
    }
    const wrapped = wrapWords(joined, limit(), restWidth);
    lines.push(...wrapped.slice(0, -1));
    line = wrapped[wrapped.length - 1] ?? '';
  });
  if (line !== '' || lines.length === 0) lines.push(line);
  return lines;
}

/** Text to wrap: running text, or phrases to keep whole where possible, joined by `separator`. */
type Wrappable = string | { readonly phrases: readonly string[]; readonly separator: string };

/** Lines of `head` + wrapped text, continuation lines indented by `indent` columns. */
function hanging(
  head: string,
  headWidth: number,
  text: Wrappable,
  indent: number,
  width: number,
): string[] {
  // Every text wrapped here may quote AWS or a file (names, tag values, reasons, evidence): its
  // control characters are shown, never sent, and widths are counted on what is shown.
  const chunks =
    typeof text === 'string'
      ? wrapWords(escapeControlCharacters(text), width - headWidth, width - indent)
      : wrapPhrases(
          text.phrases.map((phrase) => escapeControlCharacters(phrase)),
          text.separator,
          width - headWidth,
          width - indent,
        );
  return chunks.map((chunk, index) =>
    index === 0 ? `${head}${chunk}`.trimEnd() : `${' '.repeat(indent)}${chunk}`,
  );
}

function detailLines(
  label: string,
  text: Wrappable,
  width: number,
  paint: Paint,
  maxLines = Infinity,
): string[] {
  const head = `${' '.repeat(DETAIL_INDENT)}${label}: `;
  const lines = hanging(
    `${' '.repeat(DETAIL_INDENT)}${paint(`${label}:`, 'dim')} `,
    head.length,
    text,
    DETAIL_INDENT + 2,
    width,
  );
  if (lines.length <= maxLines) return lines;
  const kept = lines.slice(0, maxLines);
  kept[maxLines - 1] = `${kept[maxLines - 1]!.slice(0, width - 2)} …`;
  return kept;
}

function findingLines(finding: Finding, width: number, paint: Paint): string[] {
  const severity = SEVERITY_LABEL[finding.severity].padEnd(SEVERITY_COLUMN);
  const rule = finding.ruleId.padEnd(RULE_COLUMN);
  const head = `${' '.repeat(FINDING_INDENT)}${paint(severity, ...SEVERITY_STYLE[finding.severity])}${paint(rule, 'bold')}`;
  const lines = hanging(
    head,
    DETAIL_INDENT + RULE_COLUMN,
    finding.message,
    DETAIL_INDENT + RULE_COLUMN,
    width,
  );
  const evidence = evidencePhrases(finding);
  if (evidence.length > 0) {
    lines.push(
      ...detailLines(
        'evidence',
        { phrases: evidence, separator: ' ·' },
        width,
        paint,
        MAX_EVIDENCE_LINES,
      ),
    );
  }
  const fix = fixPhrase(finding);
  if (fix) lines.push(...detailLines('fix', fix, width, paint));
  if (finding.cost) {
    const figure = costFigure(finding.cost);
    const styled = paint(figure, finding.cost.kind === 'current' ? 'red' : 'cyan');
    const head = `${' '.repeat(DETAIL_INDENT)}${paint('cost:', 'dim')} ${styled} `;
    lines.push(
      ...hanging(
        head,
        DETAIL_INDENT + 'cost: '.length + figure.length + 1,
        { phrases: `(${costDetail(finding.cost)})`.split('; '), separator: ';' },
        DETAIL_INDENT + 2,
        width,
      ),
    );
  }
  return lines;
}

const STATUS_STYLE: Readonly<Record<string, readonly Style[]>> = {
  COMPLIANT: ['bold', 'green'],
  NON_COMPLIANT: ['bold', 'red'],
  'EXEMPT (NOT_APPLICABLE)': ['bold', 'cyan'],
  NOT_APPLICABLE: ['bold', 'cyan'],
};

function vpcLines(evaluation: Evaluation, width: number, paint: Paint): string[] {
  const status = statusLabel(evaluation);
  const name = evaluation.vpcName === null ? '(no Name tag)' : `"${evaluation.vpcName}"`;
  const profile = `profile ${evaluation.profile} (${evaluation.profileSource})`;
  const head = `${paint(status, ...(STATUS_STYLE[status] ?? []))}  `;
  const lines = hanging(
    head,
    status.length + 2,
    `${vpcPath(evaluation)}  ${name}  ${profile}`,
    4,
    width,
  );
  if (evaluation.profileProblem) {
    lines.push(
      ...hanging(`  ${paint('! profile:', 'yellow')} `, 13, evaluation.profileProblem, 4, width),
    );
  }
  const exemption = exemptionPhrase(evaluation);
  if (exemption) lines.push(...hanging('  ', 2, exemption, 4, width));
  for (const finding of evaluation.findings) lines.push(...findingLines(finding, width, paint));
  return lines;
}

function summaryLines(
  evaluations: readonly Evaluation[],
  generatedAt: Date,
  width: number,
  paint: Paint,
): string[] {
  const summary = summarizeEvaluations(evaluations);
  const label = (text: string) => paint(text.padEnd(10), 'bold');
  const lines: string[] = [];
  const push = (title: string, text: string) =>
    lines.push(...hanging(label(title), 10, text, 10, width));
  push(
    'Summary',
    `${plural(summary.vpcs, 'VPC')}: ${summary.compliant} compliant, ${summary.nonCompliant} non-compliant, ` +
      `${summary.notApplicable} exempt (not applicable)`,
  );
  const byRule = RULE_IDS.filter((id) => summary.findingsByRule[id] > 0).map(
    (id) => `${id} ${summary.findingsByRule[id]}`,
  );
  const bySeverity = SEVERITIES.filter((severity) => summary.findingsBySeverity[severity] > 0).map(
    (severity) => `${severity} ${summary.findingsBySeverity[severity]}`,
  );
  push(
    'Findings',
    summary.findings === 0 ? 'none open' : `${summary.findings} open: ${byRule.join(', ')}`,
  );
  if (summary.findings > 0) push('Severity', bySeverity.join(', '));
  const note = pricingNote(evaluations);
  push(
    'Cost',
    `${formatUsd(summary.monthlyCostUsd.forbidden)}/mo now on what the policy forbids; ` +
      `+${formatUsd(summary.monthlyCostUsd.fixes)}/mo for the suggested fixes ` +
      `(monthly, data processing excluded${note ? `; ${note}` : ''})`,
  );
  push('Generated', generatedAt.toISOString());
  return lines;
}

/**
 * The report an engineer reads in a terminal: a line per VPC (status, `account/region/vpc`, Name tag,
 * profile), its findings with evidence, fix and monthly cost, exemptions, then a summary. Lines stay
 * within `width` columns (colour codes aside).
 */
export function renderTableReport(
  evaluations: readonly Evaluation[],
  options: TableReportOptions,
): string {
  const width = Math.max(60, options.width ?? DEFAULT_WIDTH);
  const paint = painter(options.color ?? false);
  const blocks = evaluations.map((evaluation) => vpcLines(evaluation, width, paint).join('\n'));
  if (blocks.length === 0) blocks.push('No VPCs in the snapshots.');
  return `${blocks.join('\n\n')}\n\n${summaryLines(evaluations, options.generatedAt, width, paint).join('\n')}\n`;
}
