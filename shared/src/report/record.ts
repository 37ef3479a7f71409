import type { ActionOutcome, ActionRecord, RemediationRecord } from '../remediation/record';
import { ansiPainter, escapeControlCharacters, type AnsiStyle } from './ansi';

/**
 * A remediation record as the person who ran `apply` reads it: one line per action with its outcome
 * and what happened, then the counts. Pure.
 */

/** Options of {@link renderRecordSummary}. */
export interface RecordSummaryOptions {
  /** ANSI colours. @default false */
  readonly color?: boolean;
}

/** Outcomes in the order the counts list them: what worked, then what needs attention. */
const OUTCOME_ORDER: readonly ActionOutcome[] = [
  'verified',
  'would-succeed',
  'skipped',
  'still-failing',
  'blocked',
  'failed',
  'unauthorized',
];

const OUTCOME_STYLE: Readonly<Record<ActionOutcome, readonly AnsiStyle[]>> = {
  verified: ['green'],
  'would-succeed': ['green'],
  skipped: ['dim'],
  'still-failing': ['bold', 'yellow'],
  blocked: ['yellow'],
  failed: ['bold', 'red'],
  unauthorized: ['bold', 'red'],
};

const OUTCOME_COLUMN = Math.max(...OUTCOME_ORDER.map((outcome) => outcome.length)) + 2;

function renderAction(action: ActionRecord, color: boolean): string {
  const paint = ansiPainter(color);
  const label = paint(action.outcome.padEnd(OUTCOME_COLUMN), ...OUTCOME_STYLE[action.outcome]);
  // Ids and details quote AWS errors and values: shown, never sent to the terminal as they are.
  return `  ${label}${escapeControlCharacters(action.id)}\n  ${' '.repeat(OUTCOME_COLUMN)}${escapeControlCharacters(action.detail)}`;
}

/** The counts of a record, e.g. `3 verified, 1 skipped, 2 blocked`; `no actions` when empty. */
export function describeOutcomes(summary: Readonly<Record<ActionOutcome, number>>): string {
  const parts = OUTCOME_ORDER.filter((outcome) => summary[outcome] > 0).map(
    (outcome) => `${summary[outcome]} ${outcome}`,
  );
  return parts.length > 0 ? parts.join(', ') : 'no actions';
}

/**
 * One line per action (`verified`, `skipped`, `blocked`, ... then the action id and what happened) and
 * a last line with the run, the identity and the counts.
 */
export function renderRecordSummary(
  record: RemediationRecord,
  options: RecordSummaryOptions = {},
): string {
  const color = options.color ?? false;
  const paint = ansiPainter(color);
  const lines = record.actions.map((action) => renderAction(action, color));
  const kind = record.kind === 'rollback' ? 'Rollback' : 'Apply';
  const mode = record.execution === 'dry-run' ? ' (dry-run: nothing changed)' : '';
  lines.push(
    `${paint(`${kind}${mode}:`, 'bold')} ${describeOutcomes(record.summary)}; run ${escapeControlCharacters(`${record.runId} as ${record.identity}`)}`,
  );
  return `${lines.join('\n')}\n`;
}
