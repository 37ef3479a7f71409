import {
  InputValidationError,
  countTransitions,
  diffFindings,
  findingDigest,
  type Evaluation,
  type Finding,
  type FindingScope,
  type PendingAlert,
  type StoredFinding,
} from '@vpc-guard/shared';
import { describe, expect, it } from 'vitest';
import {
  ACCOUNT,
  EARLIER,
  NOW,
  NOW_SECONDS,
  REGION,
  REGION_SCOPE,
  allEvaluations,
  compliant,
  exempt,
  nonCompliant,
  storedOpen,
  withoutFindings,
} from './sample-findings';

const [NAT, STS, POLICY] = nonCompliant.findings;
const DAY = 86_400;

function onlyVpc(evaluation: Evaluation, vpcIds = [evaluation.vpcId]): FindingScope {
  return { kind: 'vpcs', accountId: ACCOUNT, region: REGION, vpcIds };
}

describe('findingDigest', () => {
  it('digests the same evidence the same way whatever the key or list order', () => {
    // Prepare
    const a = { severity: 'high' as const, evidence: { b: [3, 1, 2], a: { y: 1, x: 'v' } } };
    const b = { severity: 'high' as const, evidence: { a: { x: 'v', y: 1 }, b: [2, 3, 1] } };

    // Act
    const digests = [findingDigest(a), findingDigest(b)];

    // Assess
    expect(digests[0]).toBe(digests[1]);
    expect(digests[0]).toMatch(/^high:[0-9a-f]{32}$/);
  });

  it.each([
    ['severity', { severity: 'medium' as const, evidence: { id: 'nat-1' } }],
    ['evidence', { severity: 'high' as const, evidence: { id: 'nat-2' } }],
  ])('gives a different digest when the %s differs', (_field, other) => {
    // Prepare
    const base = { severity: 'high' as const, evidence: { id: 'nat-1' } };

    // Act
    const [before, after] = [findingDigest(base), findingDigest(other)];

    // Assess
    expect(after).not.toBe(before);
  });
});

describe('diffFindings', () => {
  it('opens every finding of a first scan, with the time of the scan as first and last seen', () => {
    // Prepare
    const previous: StoredFinding[] = [];

    // Act
    const transitions = diffFindings(previous, allEvaluations, REGION_SCOPE, NOW);

    // Assess
    expect(transitions.opened.map((t) => t.key)).toEqual(nonCompliant.findings.map((f) => f.key));
    expect(transitions.changed).toEqual([]);
    expect(transitions.resolved).toEqual([]);
    expect(transitions.opened[0]!.record).toEqual({
      key: NAT!.key,
      accountId: ACCOUNT,
      region: REGION,
      vpcId: nonCompliant.vpcId,
      ruleId: 'nat-gateway-forbidden',
      subject: NAT!.subject,
      resourceId: NAT!.resourceId,
      severity: 'high',
      digest: findingDigest(NAT!),
      message: NAT!.message,
      profile: 'regulated',
      vpcName: 'payments-prod',
      firstSeen: NOW.toISOString(),
      lastSeen: NOW.toISOString(),
      state: 'open',
    });
    expect(transitions.opened[0]!.previous).toBeNull();
  });

  it('does not open the findings an exemption suppresses', () => {
    // Prepare
    const previous: StoredFinding[] = [];

    // Act
    const transitions = diffFindings(previous, [exempt], REGION_SCOPE, NOW);

    // Assess
    expect(transitions.opened).toEqual([]);
    expect(exempt.suppressedFindings).toHaveLength(1);
  });

  it('keeps a finding unchanged when only its message is worded differently', () => {
    // Prepare
    const previous = nonCompliant.findings.map((f) =>
      storedOpen(f, nonCompliant, { message: `old wording of ${f.subject}` }),
    );

    // Act
    const transitions = diffFindings(previous, [nonCompliant], onlyVpc(nonCompliant), NOW);

    // Assess
    expect(transitions.unchanged).toHaveLength(3);
    expect(transitions.opened.length + transitions.changed.length).toBe(0);
    expect(transitions.unchanged[0]!.record).toMatchObject({
      firstSeen: EARLIER,
      lastSeen: NOW.toISOString(),
      message: NAT!.message,
    });
  });

  it.each([
    [
      'severity',
      storedOpen(NAT!, nonCompliant, {
        severity: 'medium',
        digest: findingDigest({ ...NAT!, severity: 'medium' }),
      }),
      ['severity'],
    ],
    [
      'evidence',
      storedOpen(NAT!, nonCompliant, {
        digest: findingDigest({ ...NAT!, evidence: { ...NAT!.evidence, state: 'pending' } }),
      }),
      ['evidence'],
    ],
    [
      'evidence and message',
      storedOpen(NAT!, nonCompliant, {
        message: 'NAT gateway in the wrong place',
        digest: findingDigest({ ...NAT!, evidence: {} }),
      }),
      ['evidence', 'message'],
    ],
  ])('reports a changed finding when its %s changed', (_what, stored, changes) => {
    // Prepare
    const previous = [stored];

    // Act
    const transitions = diffFindings(previous, [nonCompliant], onlyVpc(nonCompliant), NOW);

    // Assess
    expect(transitions.changed).toHaveLength(1);
    expect(transitions.changed[0]!.changes).toEqual(changes);
    expect(transitions.changed[0]!.record).toMatchObject({
      firstSeen: EARLIER,
      lastSeen: NOW.toISOString(),
      severity: 'high',
      digest: findingDigest(NAT!),
      state: 'open',
    });
  });

  it('resolves a fixed finding with a TTL 30 days after the scan', () => {
    // Prepare
    const previous = nonCompliant.findings.map((f) => storedOpen(f, nonCompliant));
    const fixed = withoutFindings(nonCompliant, ['nat-gateway-forbidden']);

    // Act
    const transitions = diffFindings(previous, [fixed], onlyVpc(fixed), NOW);

    // Assess
    expect(transitions.resolved).toHaveLength(1);
    const [resolved] = transitions.resolved;
    expect(resolved).toMatchObject({ key: NAT!.key, reason: 'fixed', finding: null });
    expect(resolved!.record).toEqual({
      ...storedOpen(NAT!, nonCompliant),
      state: 'resolved',
      resolvedAt: NOW.toISOString(),
      resolution: 'fixed',
      expiresAt: NOW_SECONDS + 30 * DAY,
    });
    expect(transitions.unchanged).toHaveLength(2);
  });

  it('keeps resolved entries for as many days as asked', () => {
    // Prepare
    const previous = [storedOpen(NAT!, nonCompliant)];

    // Act
    const transitions = diffFindings(previous, [compliant], REGION_SCOPE, NOW, {
      resolvedRetentionDays: 7,
    });

    // Assess
    expect(transitions.resolved[0]!.record.expiresAt).toBe(NOW_SECONDS + 7 * DAY);
  });

  it('never resolves the findings of VPCs a scoped event did not evaluate', () => {
    // Prepare
    const previous = [
      storedOpen(NAT!, nonCompliant),
      storedOpen(exempt.suppressedFindings[0]!, exempt),
    ];

    // Act
    const transitions = diffFindings(previous, [compliant], onlyVpc(compliant), NOW);

    // Assess
    expect(transitions.resolved).toEqual([]);
    expect(transitions.unchanged).toEqual([]);
  });

  it('resolves as vpc-gone the findings of a VPC missing from a region sweep', () => {
    // Prepare
    const previous = [storedOpen(NAT!, nonCompliant), storedOpen(STS!, nonCompliant)];

    // Act
    const transitions = diffFindings(previous, [compliant], REGION_SCOPE, NOW);

    // Assess
    expect(transitions.resolved.map((t) => [t.key, t.reason])).toEqual(
      [NAT!.key, STS!.key].sort().map((key) => [key, 'vpc-gone']),
    );
  });

  it('resolves as vpc-gone the findings of a listed VPC that has no evaluation (deleted)', () => {
    // Prepare
    const previous = [storedOpen(POLICY!, nonCompliant)];
    const scope = onlyVpc(compliant, [compliant.vpcId, nonCompliant.vpcId]);

    // Act
    const transitions = diffFindings(previous, [compliant], scope, NOW);

    // Assess
    expect(transitions.resolved.map((t) => t.reason)).toEqual(['vpc-gone']);
  });

  it('resolves as exempt the open findings of a VPC that is now exempt, with the suppressed finding', () => {
    // Prepare
    const suppressed = exempt.suppressedFindings[0]!;
    const previous = [storedOpen(suppressed, exempt)];

    // Act
    const transitions = diffFindings(previous, [exempt], onlyVpc(exempt), NOW);

    // Assess
    expect(transitions.resolved).toHaveLength(1);
    expect(transitions.resolved[0]).toMatchObject({
      reason: 'exempt',
      finding: suppressed,
      record: { state: 'resolved', resolution: 'exempt' },
    });
    expect(transitions.opened).toEqual([]);
  });

  it('reopens a resolved finding that comes back, as a new episode', () => {
    // Prepare
    const earlier = {
      ...storedOpen(NAT!, nonCompliant),
      state: 'resolved' as const,
      resolvedAt: EARLIER,
      resolution: 'fixed' as const,
      expiresAt: NOW_SECONDS,
    };

    // Act
    const transitions = diffFindings([earlier], [nonCompliant], onlyVpc(nonCompliant), NOW);

    // Assess
    const reopened = transitions.opened.find((t) => t.key === NAT!.key)!;
    expect(reopened.previous).toBe(earlier);
    expect(reopened.record.firstSeen).toBe(NOW.toISOString());
    expect(reopened.record).not.toHaveProperty('resolvedAt');
    expect(reopened.record).not.toHaveProperty('expiresAt');
  });

  it('leaves an entry that is already resolved alone when the finding stays away', () => {
    // Prepare
    const resolved = { ...storedOpen(NAT!, nonCompliant), state: 'resolved' as const };

    // Act
    const transitions = diffFindings([resolved], [compliant], REGION_SCOPE, NOW);

    // Assess
    expect(transitions).toEqual({
      opened: [],
      changed: [],
      resolved: [],
      unchanged: [],
      undelivered: [],
    });
  });

  it('ignores stored findings of other accounts and regions', () => {
    // Prepare
    const previous = [
      storedOpen(NAT!, nonCompliant, { accountId: '222222222222' }),
      storedOpen(STS!, nonCompliant, { region: 'eu-west-1' }),
    ];

    // Act
    const transitions = diffFindings(previous, [compliant], REGION_SCOPE, NOW);

    // Assess
    expect(transitions.resolved).toEqual([]);
  });

  it.each([
    ['another account', { ...compliant, accountId: '222222222222' }, REGION_SCOPE],
    ['another region', { ...compliant, region: 'eu-west-1' }, REGION_SCOPE],
    ['a VPC the scope does not list', compliant, onlyVpc(nonCompliant)],
  ])('throws when an evaluation is of %s', (_what, evaluation, scope) => {
    // Prepare
    const current = [evaluation];

    // Act
    const act = () => diffFindings([], current, scope, NOW);

    // Assess
    expect(act).toThrow(InputValidationError);
    expect(act).toThrow(/outside the scope/);
  });

  it('throws when the clock is not a valid date', () => {
    // Prepare
    const now = new Date('not a date');

    // Act
    const act = () => diffFindings([], [], REGION_SCOPE, now);

    // Assess
    expect(act).toThrow(/now: expected a valid date/);
  });

  it('counts transitions by kind for logs and metrics', () => {
    // Prepare
    const previous = [
      storedOpen(NAT!, nonCompliant),
      storedOpen(STS!, nonCompliant, { digest: 'low:0' }),
    ];
    const current = [withoutFindings(nonCompliant, ['nat-gateway-forbidden'])];

    // Act
    const counts = countTransitions(diffFindings(previous, current, onlyVpc(nonCompliant), NOW));

    // Assess
    expect(counts).toEqual({ opened: 1, changed: 1, resolved: 1, unchanged: 0 });
  });
});

describe('diffFindings with alerts still owed', () => {
  function owing(
    transition: PendingAlert['transition'],
    overrides: Partial<PendingAlert> = {},
  ): PendingAlert {
    return { id: 'alert-1', transition, sinks: ['sns'], ...overrides };
  }

  function resolvedOwing(reason: 'fixed' | 'exempt' | 'vpc-gone', finding: Finding): StoredFinding {
    return {
      ...storedOpen(finding, nonCompliant),
      state: 'resolved',
      resolvedAt: EARLIER,
      resolution: reason,
      expiresAt: NOW_SECONDS + DAY,
      pendingAlert: owing('resolved'),
    };
  }

  it('owes the opened alert again, not unchanged, to an open finding seen as it was', () => {
    // Prepare
    const stored = storedOpen(NAT!, nonCompliant, {
      pendingAlert: owing('opened', { sinks: ['securityhub'] }),
    });

    // Act
    const transitions = diffFindings([stored], [nonCompliant], onlyVpc(nonCompliant), NOW);

    // Assess
    expect(transitions.undelivered).toEqual([
      { kind: 'opened', key: NAT!.key, finding: NAT, record: stored, previous: null },
    ]);
    expect(transitions.unchanged.map((t) => t.key)).not.toContain(NAT!.key);
    expect(transitions.opened.map((t) => t.key)).not.toContain(NAT!.key);
  });

  it('owes a changed alert again with the changes and the severity its first delivery named', () => {
    // Prepare
    const stored = storedOpen(NAT!, nonCompliant, {
      pendingAlert: owing('changed', { changes: ['severity'], previousSeverity: 'medium' }),
    });

    // Act
    const transitions = diffFindings([stored], [nonCompliant], onlyVpc(nonCompliant), NOW);

    // Assess
    expect(transitions.undelivered).toHaveLength(1);
    expect(transitions.undelivered[0]).toMatchObject({
      kind: 'changed',
      record: stored,
      changes: ['severity'],
      previous: { severity: 'medium' },
    });
    expect(transitions.changed).toEqual([]);
  });

  it.each(['fixed', 'vpc-gone'] as const)(
    'owes a resolved (%s) alert again while the finding stays away',
    (reason) => {
      // Prepare
      const stored = resolvedOwing(reason, NAT!);

      // Act
      const transitions = diffFindings([stored], [compliant], REGION_SCOPE, NOW);

      // Assess
      expect(transitions.undelivered).toEqual([
        {
          kind: 'resolved',
          key: NAT!.key,
          reason,
          record: stored,
          previous: stored,
          finding: null,
        },
      ]);
      expect(transitions.resolved).toEqual([]);
    },
  );

  it('owes a resolved (exempt) alert again with the finding the exemption suppresses', () => {
    // Prepare
    const suppressed = exempt.suppressedFindings[0]!;
    const stored: StoredFinding = {
      ...storedOpen(suppressed, exempt),
      state: 'resolved',
      resolution: 'exempt',
      pendingAlert: owing('resolved'),
    };

    // Act
    const transitions = diffFindings([stored], [exempt], onlyVpc(exempt), NOW);

    // Assess
    expect(transitions.undelivered).toHaveLength(1);
    expect(transitions.undelivered[0]).toMatchObject({ reason: 'exempt', finding: suppressed });
  });

  it('opens anew a finding that comes back while its resolved alert is owed, dropping that alert', () => {
    // Prepare
    const stored = resolvedOwing('fixed', NAT!);

    // Act
    const transitions = diffFindings([stored], [nonCompliant], onlyVpc(nonCompliant), NOW);

    // Assess
    const reopened = transitions.opened.find((t) => t.key === NAT!.key)!;
    expect(reopened.previous).toBe(stored);
    expect(reopened.record).not.toHaveProperty('pendingAlert');
    expect(reopened.record.state).toBe('open');
    expect(transitions.undelivered).toEqual([]);
  });

  it.each([
    ['changes', nonCompliant, 'changed', { digest: 'medium:0' }],
    ['resolves', withoutFindings(nonCompliant, ['nat-gateway-forbidden']), 'resolved', {}],
  ] as const)(
    'lets a finding that %s while its opened alert is owed alert anew, without the owed alert',
    (_what, evaluation, kind, overrides) => {
      // Prepare
      const stored = storedOpen(NAT!, nonCompliant, {
        ...overrides,
        pendingAlert: owing('opened'),
      });

      // Act
      const transitions = diffFindings([stored], [evaluation], onlyVpc(nonCompliant), NOW);

      // Assess
      const fresh = transitions[kind].find((t) => t.key === NAT!.key)!;
      expect(fresh.previous).toBe(stored);
      expect(fresh.record).not.toHaveProperty('pendingAlert');
      expect(transitions.undelivered).toEqual([]);
    },
  );

  it('never owes again the alerts of VPCs a scoped event did not evaluate', () => {
    // Prepare
    const previous = [
      storedOpen(NAT!, nonCompliant, { pendingAlert: owing('opened') }),
      resolvedOwing('fixed', STS!),
    ];

    // Act
    const transitions = diffFindings(previous, [compliant], onlyVpc(compliant), NOW);

    // Assess
    expect(transitions.undelivered).toEqual([]);
  });
});
