import { escapeMarkdownCell, renderMarkdownReport } from '@vpc-guard/shared';
import { describe, expect, it } from 'vitest';
import { GENERATED_AT, allEvaluations } from './sample-evaluations';

/** The cells of a table row, splitting on pipes that are not escaped. */
function cells(row: string): string[] {
  return row
    .slice(1, -1)
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim());
}

describe('renderMarkdownReport', () => {
  it('starts with a summary table of the VPCs by status', () => {
    // Prepare
    const evaluations = allEvaluations;

    // Act
    const text = renderMarkdownReport(evaluations, { generatedAt: GENERATED_AT });

    // Assess
    expect(text.startsWith('## vpc-guard report\n')).toBe(true);
    expect(text).toContain(
      '| Status | VPCs |\n| --- | ---: |\n| Compliant | 1 |\n| Non-compliant | 1 |',
    );
    expect(text).toContain('| Exempt (not applicable) | 1 |\n| **Total** | **3** |');
    expect(text).toContain('| `nat-gateway-forbidden` | 1 |');
    expect(text).toContain('Monthly cost: **$36.50** now on what the policy forbids, **+$14.60**');
  });

  it('gives each non-compliant VPC a section with a findings table of six columns', () => {
    // Prepare
    const evaluations = allEvaluations;

    // Act
    const text = renderMarkdownReport(evaluations, { generatedAt: GENERATED_AT });

    // Assess
    expect(text).toContain('### NON_COMPLIANT: `vpc-0a0000000000000a1` payments-prod');
    expect(text).not.toContain('### COMPLIANT');
    const header = '| Severity | Rule | Resource | Message | Fix | Monthly cost |';
    const rows = text.split('\n').slice(text.split('\n').indexOf(header) + 2);
    const findingRows = rows.slice(
      0,
      rows.findIndex((row) => !row.startsWith('|')),
    );
    expect(findingRows).toHaveLength(3);
    for (const row of findingRows) expect(cells(row)).toHaveLength(6);
    expect(cells(findingRows[0]!)).toEqual([
      'high',
      '`nat-gateway-forbidden`',
      '`nat-0a000000000000d1`',
      expect.stringContaining('Public NAT gateway nat-0a000000000000d1'),
      expect.stringContaining('`remove-nat` Delete the 1 route'),
      expect.stringMatching(/^\$36\.50\/mo now<br><sub>730 h x \$0\.045\/h/),
    ]);
  });

  it('escapes pipes and emphasis characters in finding messages', () => {
    // Prepare
    const evaluations = allEvaluations;

    // Act
    const text = renderMarkdownReport(evaluations, { generatedAt: GENERATED_AT });

    // Assess
    expect(text).toContain('allows Principal "\\*" \\| Action "\\*" without a scope');
  });

  it('lists the exempt VPCs with their end date and reason, and the compliant ones', () => {
    // Prepare
    const evaluations = allEvaluations;

    // Act
    const text = renderMarkdownReport(evaluations, { generatedAt: GENERATED_AT });

    // Assess
    expect(text).toContain(
      '### Exempt VPCs\n\n- `vpc-0a0000000000000a3` (`111111111111/us-east-1/vpc-0a0000000000000a3`): exempt until 2027-01-31: moving to the shared egress VPC; 1 finding suppressed \\(nat-gateway-forbidden 1\\)',
    );
    expect(text).toContain(
      '### Compliant VPCs\n\n- `vpc-0a0000000000000a2` batch-isolated (`111111111111/us-east-1/vpc-0a0000000000000a2`), profile `isolated`',
    );
  });
});

describe('escapeMarkdownCell', () => {
  it.each([
    ['a | b', 'a \\| b'],
    ['Action "*"', 'Action "\\*"'],
    ['snake_case `code`', 'snake\\_case \\`code\\`'],
    ['<script>', '&lt;script>'],
    ['0.0.0.0/0 -> nat-1', '0.0.0.0/0 -> nat-1'],
    // A line break from outside is shown, not rendered: a cell keeps to its line, and a name cannot
    // draw a line of its own.
    ['two\nlines', 'two\\x0alines'],
    ['[click](http://x) ![img](y)', '\\[click\\]\\(http://x\\) \\!\\[img\\]\\(y\\)'],
    ['a & b', 'a &amp; b'],
    ['esc\u001b[2J', 'esc\\x1b\\[2J'],
    ['back\\slash', 'back\\\\slash'],
  ])('escapes %j as %j', (input, expected) => {
    // Prepare, Act
    const escaped = escapeMarkdownCell(input);

    // Assess
    expect(escaped).toBe(expected);
  });
});
