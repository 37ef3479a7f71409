import { renderTableReport } from '@vpc-guard/shared';
import { describe, expect, it } from 'vitest';
import {
  GENERATED_AT,
  allEvaluations,
  compliant,
  exempt,
  nonCompliant,
} from './sample-evaluations';

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

describe('renderTableReport', () => {
  it('writes a line per VPC with its status, coordinates, Name tag and profile', () => {
    // Prepare
    const evaluations = allEvaluations;

    // Act
    const lines = renderTableReport(evaluations, { generatedAt: GENERATED_AT }).split('\n');

    // Assess
    expect(lines).toContain(
      'NON_COMPLIANT  111111111111/us-east-1/vpc-0a0000000000000a1  "payments-prod"  profile regulated (account)',
    );
    expect(lines).toContain(
      'COMPLIANT  111111111111/us-east-1/vpc-0a0000000000000a2  "batch-isolated"  profile isolated (tag)',
    );
    expect(lines).toContain(
      'EXEMPT (NOT_APPLICABLE)  111111111111/us-east-1/vpc-0a0000000000000a3  (no Name tag)  profile regulated (default)',
    );
  });

  it('shows each finding with its severity, rule, evidence, fix and monthly cost', () => {
    // Prepare
    const evaluations = [nonCompliant];

    // Act
    const text = renderTableReport(evaluations, { generatedAt: GENERATED_AT });

    // Assess
    expect(text).toMatch(
      /^ {2}HIGH {6}nat-gateway-forbidden +Public NAT gateway nat-0a000000000000d1/m,
    );
    // The evidence leaves out what the message already says (subnet, public IP).
    expect(text).toContain(
      'evidence: state: available · routes: rtb-0a000000000000c1 0.0.0.0/0 active\n',
    );
    expect(text).toContain('evidence: workloadZones: us-east-1a, us-east-1b\n');
    expect(text).toContain('fix: remove-nat: Delete the 1 route that target nat-0a000000000000d1');
    expect(text).toMatch(/cost: \$36\.50\/mo now \(730 h x \$0\.045\/h \+ 1 public IPv4/);
    expect(text).toContain('data processing ($0.045/GB, depends on traffic) excluded');
    expect(text).toMatch(/cost: \+\$14\.60\/mo \(2 AZ x 730 h x \$0\.01\/AZ-h/);
    expect(text).toMatch(/^ {2}MEDIUM {4}endpoint-missing/m);
  });

  it('shows an exempt VPC with its end date, reason and the findings it suppresses', () => {
    // Prepare
    const evaluations = [exempt];

    // Act
    const text = renderTableReport(evaluations, { generatedAt: GENERATED_AT });

    // Assess
    expect(text).toContain(
      '  exempt until 2027-01-31: moving to the shared egress VPC; 1 finding suppressed (nat-gateway-forbidden 1)',
    );
    expect(text).not.toContain('HIGH');
  });

  it('warns under the VPC line when its profile could not be resolved with certainty', () => {
    // Prepare
    const problem = 'tag vpc-guard:profile="regulatd" names no profile; evaluated as "regulated"';
    const evaluations = [
      { ...nonCompliant, profileSource: 'unknown-tag' as const, profileProblem: problem },
    ];

    // Act
    const lines = renderTableReport(evaluations, { generatedAt: GENERATED_AT }).split('\n');

    // Assess
    expect(lines[0]).toMatch(/profile regulated \(unknown-tag\)$/);
    expect(lines[1]).toBe(`  ! profile: ${problem}`);
  });

  it('ends with a summary of counts, findings by rule and monthly cost', () => {
    // Prepare
    const evaluations = allEvaluations;

    // Act
    const text = renderTableReport(evaluations, { generatedAt: GENERATED_AT });

    // Assess
    expect(text).toContain(
      'Summary   3 VPCs: 1 compliant, 1 non-compliant, 1 exempt (not applicable)',
    );
    expect(text).toContain(
      'Findings  3 open: nat-gateway-forbidden 1, endpoint-missing 1, endpoint-policy-too-broad 1',
    );
    expect(text).toMatch(
      /Cost {6}\$36\.50\/mo now on what the policy forbids; \+\$14\.60\/mo for the suggested fixes/,
    );
    expect(text).toContain('prices as of 2026-11-01');
    expect(text).toContain('Generated 2026-11-20T10:00:00.000Z');
  });

  it.each([120, 80, 60])('keeps every line within %i columns', (width) => {
    // Prepare
    const longWord = `arn:aws:s3:::${'a'.repeat(150)}`;
    const evaluations = [
      {
        ...nonCompliant,
        findings: [
          ...nonCompliant.findings,
          {
            ...nonCompliant.findings[1]!,
            subject: 'long',
            message: `Very long message ${longWord} ends`,
          },
        ],
      },
      compliant,
      exempt,
    ];

    // Act
    const lines = renderTableReport(evaluations, { generatedAt: GENERATED_AT, width }).split('\n');

    // Assess
    const widest = Math.max(...lines.map((line) => line.length));
    expect(widest).toBeLessThanOrEqual(width);
    expect(lines.join('')).toContain('ends');
  });

  it('wraps a long message between words, keeping every word and its spacing', () => {
    // Prepare
    const message = Array.from({ length: 40 }, (_, index) => `word${index}`).join(' ');
    const [first] = nonCompliant.findings;
    const evaluations = [{ ...nonCompliant, findings: [{ ...first!, message, evidence: {} }] }];

    // Act
    const lines = renderTableReport(evaluations, { generatedAt: GENERATED_AT, width: 80 }).split(
      '\n',
    );

    // Assess
    const start = lines.findIndex((line) => line.includes('word0 '));
    const end = lines.findIndex((line) => line.includes('word39'));
    const rejoined = lines
      .slice(start, end + 1)
      .map((line, index) => (index === 0 ? line.slice(line.indexOf('word0')) : line.trim()))
      .join(' ');
    expect(end).toBeGreaterThan(start);
    expect(rejoined).toBe(message);
  });

  it('adds ANSI colours only when asked, around the same text', () => {
    // Prepare
    const options = { generatedAt: GENERATED_AT };

    // Act
    const plain = renderTableReport(allEvaluations, options);
    const coloured = renderTableReport(allEvaluations, { ...options, color: true });

    // Assess
    expect(plain).not.toMatch(ANSI);
    expect(coloured).toMatch(ANSI);
    expect(coloured.replace(ANSI, '')).toBe(plain);
  });

  it('says so when there are no VPCs', () => {
    // Prepare
    const evaluations: never[] = [];

    // Act
    const text = renderTableReport(evaluations, { generatedAt: GENERATED_AT });

    // Assess
    expect(text).toContain('No VPCs in the snapshots.');
    expect(text).toContain('Findings  none open');
  });
});
