import {
  SLACK_LIMITS,
  buildFindingChanges,
  diffFindings,
  escapeSlackText,
  groupChangesByVpc,
  indexEvaluationsByVpc,
  renderSlackMessage,
  type Evaluation,
  type Finding,
  type FindingChangeMessage,
  type SlackBlock,
  type SlackMessage,
  type VpcNotification,
} from '@vpc-guard/shared';
import { describe, expect, it } from 'vitest';
import {
  NOW,
  REGION_SCOPE,
  allEvaluations,
  compliant,
  mixedTransitions,
  nonCompliant,
  storedOpen,
} from '../findings/sample-findings';
import { RECORD } from './sample-remediation';

function changesFor(evaluations: readonly Evaluation[], options = {}): FindingChangeMessage[] {
  const transitions = diffFindings([], evaluations, REGION_SCOPE, NOW);
  return buildFindingChanges(transitions, indexEvaluationsByVpc(evaluations), options);
}

function notificationFor(evaluation: Evaluation, options = {}): VpcNotification {
  const [notification] = groupChangesByVpc(changesFor([evaluation], options));
  return notification!;
}

/** Every piece of text in a message, with the kind of text object it sits in. */
function texts(message: SlackMessage): { type: string; text: string }[] {
  return message.blocks.flatMap((block: SlackBlock) => {
    if (block.type === 'header' || block.type === 'section') return [block.text];
    if (block.type === 'context') return [...block.elements];
    return [];
  });
}

function sectionTexts(message: SlackMessage): string[] {
  return message.blocks.flatMap((b) => (b.type === 'section' ? [b.text.text] : []));
}

/** payments-prod with `count` forbidden NATs. */
function withNats(count: number, name = 'payments-prod'): Evaluation {
  const [nat] = nonCompliant.findings;
  const findings: Finding[] = Array.from({ length: count }, (_, index) => {
    const id = `nat-${String(index).padStart(17, '0')}`;
    return {
      ...nat!,
      key: `${nat!.key}-${index}`,
      subject: id,
      resourceId: id,
      message: `NAT ${id} is forbidden`,
    };
  });
  return { ...nonCompliant, vpcName: name, findings };
}

describe('renderSlackMessage', () => {
  it('says what is wrong, the evidence, the fix and the cost of each new finding', () => {
    // Prepare
    const notification = notificationFor(nonCompliant);

    // Act
    const message = renderSlackMessage(notification);

    // Assess
    expect(message.blocks[0]).toEqual({
      type: 'header',
      text: {
        type: 'plain_text',
        text: 'vpc-guard: 3 new or changed findings in payments-prod',
        emoji: true,
      },
    });
    const [nat] = sectionTexts(message);
    expect(nat).toContain('*HIGH* · `nat-gateway-forbidden` · new');
    expect(nat).toContain('Public NAT gateway nat-0a000000000000d1 (203.0.113.10)');
    expect(nat).toContain('• routes: rtb-0a000000000000c1 0.0.0.0/0 active');
    expect(nat).toContain(
      '*Fix:* suggested: remove-nat: Delete the 1 route that target nat-0a000000000000d1',
    );
    expect(nat).toMatch(/\*Cost:\* \$36\.50\/mo now _\(730 h x \$0\.045\/h/);
    expect(sectionTexts(message).at(-1)).toBe(
      '*Monthly cost:* $36.50 now on what the policy forbids; the fixes add $14.60 (data processing excluded)',
    );
    expect(message.text).toBe(
      'vpc-guard: 3 new or changed findings in payments-prod (vpc-0a0000000000000a1) (111111111111/us-east-1); worst: high nat-gateway-forbidden',
    );
  });

  it('names the VPC, account, region, profile and status in a context block', () => {
    // Prepare
    const notification = notificationFor(nonCompliant);

    // Act
    const message = renderSlackMessage(notification);

    // Assess
    expect(message.blocks[1]).toEqual({
      type: 'context',
      elements: [
        { type: 'mrkdwn', text: '*VPC* `payments-prod (vpc-0a0000000000000a1)`' },
        { type: 'mrkdwn', text: '*Account* 111111111111 · *Region* us-east-1' },
        { type: 'mrkdwn', text: '*Profile* regulated' },
        { type: 'mrkdwn', text: '*Status* NON_COMPLIANT · 3 open findings' },
      ],
    });
  });

  it.each([
    [
      'applied',
      0,
      '*Fix:* applied (verified): remove-nat for nat-0a000000000000d1 - verified: remove-nat for nat-0a000000000000d1',
    ],
    ['blocked', 1, '*Fix:* blocked: create-endpoint for sts (the VPC has enableDnsHostnames off)'],
    ['planned', 2, '*Fix:* planned: replace-endpoint-policy for vpce-0a000000000000f1'],
  ])('shows a fix that was %s', (_state, index, line) => {
    // Prepare
    const notification = notificationFor(nonCompliant, { record: RECORD });

    // Act
    const message = renderSlackMessage(notification);

    // Assess
    expect(sectionTexts(message)[index]).toContain(line);
  });

  it('sends a resolved follow-up when all that changed is that findings resolved', () => {
    // Prepare
    const previous = [storedOpen(nonCompliant.findings[0]!, nonCompliant)];
    const fixed = { ...nonCompliant, findings: nonCompliant.findings.slice(1) };
    const transitions = diffFindings(previous, [fixed], REGION_SCOPE, NOW);
    const changes = buildFindingChanges(
      { ...transitions, opened: [] },
      indexEvaluationsByVpc([fixed]),
      { record: RECORD },
    );

    // Act
    const message = renderSlackMessage(groupChangesByVpc(changes)[0]!);

    // Assess
    expect(message.blocks[0]).toMatchObject({
      text: { text: 'vpc-guard resolved: 1 finding in payments-prod' },
    });
    expect(sectionTexts(message)[0]).toBe(
      '• resolved: HIGH nat-gateway-forbidden nat-0a000000000000d1 (no longer found; fixed by vpc-guard remove-nat (verified)): ' +
        nonCompliant.findings[0]!.message,
    );
    expect(message.text).toMatch(/^vpc-guard resolved: 1 finding in payments-prod/);
  });

  it('lists resolved findings under their own title next to new ones', () => {
    // Prepare
    const changes = buildFindingChanges(mixedTransitions(), indexEvaluationsByVpc(allEvaluations));
    const [payments] = groupChangesByVpc(changes);

    // Act
    const message = renderSlackMessage({
      vpc: payments!.vpc,
      changes: [...payments!.changes, ...changes.filter((c) => c.transition === 'resolved')],
    });

    // Assess
    const resolved = sectionTexts(message).find((text) => text.startsWith('*Resolved*'));
    expect(resolved?.split('\n')).toHaveLength(3);
    expect(resolved).toContain('(suppressed by an exemption)');
    expect(message.blocks[0]).toMatchObject({
      text: { text: 'vpc-guard: 2 new or changed findings in payments-prod, 2 resolved' },
    });
  });

  it('escapes &, < and > in everything that came from AWS or the policy', () => {
    // Prepare
    const hostile: Evaluation = {
      ...nonCompliant,
      vpcName: '<!channel> payments & co',
      profile: 'reg<ulated>',
      findings: [
        {
          ...nonCompliant.findings[0]!,
          message: 'Route to <https://evil.example|click> & more',
          evidence: { note: '<@U123> a > b' },
        },
      ],
    };

    // Act
    const message = renderSlackMessage(notificationFor(hostile));

    // Assess
    const mrkdwn = texts(message)
      .filter((t) => t.type === 'mrkdwn')
      .map((t) => t.text);
    for (const text of [...mrkdwn, message.text]) {
      expect(text).not.toMatch(/[<>]/);
      expect(text).not.toMatch(/&(?!amp;|lt;|gt;)/);
    }
    expect(mrkdwn.join('\n')).toContain('Route to &lt;https://evil.example|click&gt; &amp; more');
    expect(mrkdwn.join('\n')).toContain('&lt;!channel&gt; payments &amp; co');
  });

  it('keeps to 50 blocks and says how many findings were left out', () => {
    // Prepare
    const notification = notificationFor(withNats(120));

    // Act
    const message = renderSlackMessage(notification);

    // Assess
    expect(message.blocks).toHaveLength(SLACK_LIMITS.blocks);
    const shown = sectionTexts(message).filter((t) => t.startsWith('*HIGH*')).length;
    const note = message.blocks.find(
      (b) => b.type === 'context' && b.elements[0]!.text.startsWith('…and'),
    );
    expect(note).toEqual({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `…and ${120 - shown} more findings not shown: Slack allows 50 blocks. See the SNS message or Security Hub.`,
        },
      ],
    });
  });

  it('keeps every section within 3,000 characters and the header within 150', () => {
    // Prepare
    const long = withNats(1, 'x'.repeat(400));
    const evaluation: Evaluation = {
      ...long,
      findings: [
        {
          ...long.findings[0]!,
          evidence: Object.fromEntries(
            Array.from({ length: 30 }, (_, i) => [`k${i}`, '&'.repeat(900)]),
          ),
        },
      ],
    };

    // Act
    const message = renderSlackMessage(notificationFor(evaluation));

    // Assess
    const header = message.blocks[0]!;
    expect(header.type === 'header' && header.text.text.length).toBeLessThanOrEqual(
      SLACK_LIMITS.headerText,
    );
    for (const text of sectionTexts(message))
      expect(text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    expect(sectionTexts(message)[0]).toContain('…and 25 more evidence items not shown');
    expect(sectionTexts(message)[0]).toContain('*Fix:* suggested: remove-nat');
    expect(sectionTexts(message)[0]).not.toMatch(/&(?!amp;|lt;|gt;)/);
  });

  it('packs many resolved findings into sections within the limits', () => {
    // Prepare
    const many = withNats(200);
    const previous = many.findings.map((f) => storedOpen(f, many));
    const transitions = diffFindings(previous, [{ ...many, findings: [] }], REGION_SCOPE, NOW);
    const changes = buildFindingChanges(transitions, indexEvaluationsByVpc([many]));

    // Act
    const message = renderSlackMessage(groupChangesByVpc(changes)[0]!);

    // Assess
    expect(message.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
    const lines = sectionTexts(message)
      .flatMap((t) => t.split('\n'))
      .filter((l) => l.startsWith('• resolved'));
    expect(lines).toHaveLength(200);
    for (const text of sectionTexts(message))
      expect(text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
  });
});

describe('groupChangesByVpc', () => {
  it('makes one notification per VPC, in the order the VPCs first appear', () => {
    // Prepare
    const changes = buildFindingChanges(mixedTransitions(), indexEvaluationsByVpc(allEvaluations));

    // Act
    const groups = groupChangesByVpc(changes);

    // Assess
    expect(groups.map((g) => [g.vpc.vpcId, g.changes.length])).toEqual([
      [nonCompliant.vpcId, 2],
      [compliant.vpcId, 1],
      ['vpc-0a0000000000000a3', 1],
    ]);
  });
});

describe('escapeSlackText', () => {
  it.each([
    ['a & b', 'a &amp; b'],
    ['<!here>', '&lt;!here&gt;'],
    ['plain', 'plain'],
  ])('escapes %j as %j', (input, output) => {
    // Prepare
    const text = input;

    // Act
    const escaped = escapeSlackText(text);

    // Assess
    expect(escaped).toBe(output);
  });
});
