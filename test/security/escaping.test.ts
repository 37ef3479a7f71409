/* eslint-disable no-control-regex -- these tests look for control characters in the output */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildFindingChanges,
  diffFindings,
  evaluate,
  groupChangesByVpc,
  indexEvaluationsByVpc,
  parseGuardPolicy,
  parseNetworkSnapshots,
  renderMarkdownReport,
  renderPlanDiff,
  renderRecordSummary,
  renderSarifReport,
  renderSlackMessage,
  renderSnsMessages,
  renderTableReport,
  type Evaluation,
  type RemediationPlan,
  type RemediationRecord,
} from '@vpc-guard/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../functions/cli/main';
import { REPO_ROOT, recordingContext } from '../cli/support';

/**
 * Strings from AWS or from a file (tag values, VPC names, exemption reasons, file contents) are
 * escaped for the format they are written in: a terminal, Markdown, Slack mrkdwn, an SNS subject.
 */

const FIXTURES = `${REPO_ROOT}test/fixtures/cli`;
const POLICY_TEXT = readFileSync(`${FIXTURES}/policy.yaml`, 'utf8');
const NOW = new Date('2026-11-20T10:00:00Z');
const ESC = '\u001b';
const BEL = '\u0007';
const CSI_C1 = '\u009b';

/** Clears the screen, retitles the terminal and draws a hyperlink, in a VPC name. */
const HOSTILE_NAME = `prod${ESC}[2J${ESC}]0;owned${BEL}${ESC}]8;;http://evil.example/${BEL}click${ESC}]8;;${BEL}${CSI_C1}31m`;
/** Looks like a compliant status line once printed, if the newline and colours get through. */
const SPOOFED_LINE = `staging\r\n${ESC}[32mCOMPLIANT${ESC}[0m  *Status* COMPLIANT`;
const MARKDOWN_LINKS = `[click](http://evil.example) ![pixel](http://evil.example/p.png) <img src=x onerror=alert(1)> \`x\` | y`;

/** Three VPCs: a hostile Name and profile tag, an exempt VPC with a hostile reason, a Markdown name. */
function hostileEvaluations(): Evaluation[] {
  const data = JSON.parse(readFileSync(`${FIXTURES}/non-compliant.json`, 'utf8')) as {
    vpcs: { vpcId: string; tags: Record<string, string> }[];
  };
  data.vpcs[0]!.tags = {
    Name: HOSTILE_NAME,
    'vpc-guard:profile': `${ESC}[8mhidden${ESC}[28m${ESC}[1A`,
  };
  data.vpcs[1]!.tags = {
    Name: SPOOFED_LINE,
    'vpc-guard:exempt': `until=2027-01-31; reason=migration${ESC}[2K${ESC}[1Aall clear`,
  };
  data.vpcs.push({
    ...data.vpcs[0]!,
    vpcId: 'vpc-0a0000000000000a3',
    tags: {
      Name: MARKDOWN_LINKS,
      'vpc-guard:exempt': `until=soon${ESC}[31m; reason=[x](http://evil.example)`,
    },
  });
  const snapshots = parseNetworkSnapshots(data, 'snapshot.json');
  return evaluate(snapshots, parseGuardPolicy(POLICY_TEXT, 'policy.yaml'), { now: NOW });
}

/** Every escape sequence that is not one of the report's own colours (SGR: ESC [ digits ; m). */
function foreignEscapes(text: string): string[] {
  const found: string[] = [];
  for (const [index, character] of [...text].entries()) {
    if (character !== ESC) continue;
    const rest = [...text].slice(index).join('');
    if (!/^\u001b\[[\d;]*m/.test(rest)) found.push(JSON.stringify(rest.slice(0, 12)));
  }
  return found;
}

/** C0 and C1 control characters other than newline. */
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

let scratch: string | undefined;
afterEach(() => {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
});

describe('the table report', () => {
  it('shows control characters of names, tags and reasons visibly instead of sending them to the terminal', () => {
    // Prepare
    const evaluations = hostileEvaluations();

    // Act
    const text = renderTableReport(evaluations, { generatedAt: NOW, color: false });

    // Assess
    expect(text).not.toMatch(CONTROL);
    expect(text).toContain('prod\\x1b[2J\\x1b]0;owned\\x07');
    expect(text).toContain('\\x9b31m');
    expect(text).toContain('staging\\x0d\\x0a\\x1b[32mCOMPLIANT');
    expect(text).toContain('migration\\x1b[2K\\x1b[1Aall clear');
    expect(text).toContain('\\x1b[8mhidden');
  });

  it('keeps only its own colour codes when colour is on', () => {
    // Prepare
    const evaluations = hostileEvaluations();

    // Act
    const text = renderTableReport(evaluations, { generatedAt: NOW, color: true });

    // Assess
    expect(foreignEscapes(text)).toEqual([]);
    expect(text.replace(/\u001b\[[\d;]*m/g, '')).not.toMatch(CONTROL);
  });
});

describe('the Markdown report', () => {
  it('renders names and reasons as text: no links, images, HTML or control characters', () => {
    // Prepare
    const evaluations = hostileEvaluations();

    // Act
    const text = renderMarkdownReport(evaluations, { generatedAt: NOW });

    // Assess
    expect(text).not.toMatch(CONTROL);
    expect(text).not.toMatch(/\]\(/);
    expect(text).not.toContain('![');
    expect(text).not.toMatch(/<img/i);
    expect(text).toContain('\\[click\\]\\(http://evil.example\\)');
    expect(text).toContain('\\!\\[pixel\\]');
    // Every line of a list or table stays one line: the name's CR LF did not break it.
    for (const line of text.split('\n')) {
      if (line.startsWith('|')) expect(line.endsWith('|')).toBe(true);
    }
    expect(text).toContain('staging\\x0d\\x0a');
  });
});

describe('the plan and record summaries', () => {
  it('show control characters of names, notes and AWS error details visibly', () => {
    // Prepare: only the fields the renderers read.
    const plan = {
      vpcs: [
        {
          accountId: '111111111111',
          region: 'us-east-1',
          vpcId: 'vpc-0a0000000000000a1',
          vpcName: HOSTILE_NAME,
          profile: 'regulated',
          mode: 'notify',
          actions: [],
          notes: [`exempt: migration${ESC}[2K${ESC}[1Aall clear`],
        },
      ],
      totals: { actions: 0, planned: 0, blocked: 0, monthlyCostChangeUsd: 0 },
    } as unknown as RemediationPlan;
    const outcomes = { verified: 0, 'would-succeed': 0, skipped: 0, 'still-failing': 0 };
    const record = {
      kind: 'apply',
      execution: 'apply',
      runId: 'run-1',
      identity: 'arn:aws:sts::111111111111:assumed-role/Admin/me',
      actions: [
        { outcome: 'failed', id: 'a-1', detail: `AccessDenied${ESC}]8;;http://evil.example${BEL}` },
      ],
      summary: { ...outcomes, blocked: 0, failed: 1, unauthorized: 0 },
    } as unknown as RemediationRecord;

    // Act
    const text =
      renderPlanDiff(plan, { color: false }) + renderRecordSummary(record, { color: false });

    // Assess
    expect(text).not.toMatch(CONTROL);
    expect(text).toContain('prod\\x1b[2J');
    expect(text).toContain('migration\\x1b[2K');
    expect(text).toContain('AccessDenied\\x1b]8;;http://evil.example\\x07');
  });
});

describe('the SARIF report', () => {
  it('escapes brackets and shows control characters, so a name draws no link in a message', () => {
    // Prepare
    const evaluations = hostileEvaluations();

    // Act
    const sarif = JSON.parse(renderSarifReport(evaluations, { generatedAt: NOW })) as {
      runs: { results: { message: { text: string } }[] }[];
    };

    // Assess
    const texts = sarif.runs[0]!.results.map((result) => result.message.text);
    expect(texts.length).toBeGreaterThan(0);
    for (const text of texts) {
      expect(text).not.toMatch(CONTROL);
      expect(text).not.toMatch(/(^|[^\\])\[[^\]]*[^\\]\]\(/);
    }
    expect(texts.join('\n')).toContain('\\[click\\](http://evil.example)');
  });
});

describe('the Slack message', () => {
  it.each([
    ['a broadcast mention', '<!channel> look'],
    ['a disguised link', '<http://evil.example|payments-prod>'],
    ['a user mention', '<@U0123ABCD>'],
    ['a status spoofed on a new line', 'prod\n*Status* COMPLIANT · 0 open findings'],
  ])('keeps %s in a VPC name as plain text', (_case, name) => {
    // Prepare
    const [evaluation] = hostileEvaluations();
    const named: Evaluation = { ...evaluation!, vpcName: name };
    const transitions = diffFindings(
      [],
      [named],
      { kind: 'region', accountId: named.accountId, region: named.region },
      NOW,
    );
    const [notification] = groupChangesByVpc(
      buildFindingChanges(transitions, indexEvaluationsByVpc([named])),
    );

    // Act
    const message = renderSlackMessage(notification!);

    // Assess
    const mrkdwn = [
      message.text,
      ...message.blocks.flatMap((block) =>
        block.type === 'context'
          ? block.elements.map((element) => element.text)
          : block.type === 'section'
            ? [block.text.text]
            : [],
      ),
    ];
    for (const text of mrkdwn) {
      expect(text).not.toMatch(/<[!@#]|<https?:/);
      expect(text).not.toContain('prod\n');
    }
    expect(mrkdwn.join('\n')).toMatch(/&lt;|\\x0a/);
  });
});

describe('the SNS subject', () => {
  it('is printable ASCII on one line, under 100 characters, whatever the VPC name holds', () => {
    // Prepare
    const evaluations = hostileEvaluations();
    const transitions = diffFindings(
      [],
      evaluations,
      { kind: 'region', accountId: '111111111111', region: 'us-east-1' },
      NOW,
    );

    // Act
    const messages = renderSnsMessages(transitions, indexEvaluationsByVpc(evaluations));

    // Assess
    expect(messages.length).toBeGreaterThan(0);
    for (const message of messages) {
      expect(message.subject).toMatch(/^[\x20-\x7e]{1,99}$/);
    }
  });
});

describe('the CLI error output', () => {
  it('shows control characters quoted from a policy file visibly on stderr', async () => {
    // Prepare
    scratch = mkdtempSync(join(tmpdir(), 'vpc-guard-escaping-'));
    const policy = join(scratch, 'policy.yaml');
    writeFileSync(
      policy,
      POLICY_TEXT.replace('default: regulated', 'default: "x\\e[2J\\e]0;owned\\a"'),
    );
    const context = recordingContext();

    // Act
    const code = await main(
      ['scan', '--snapshot', `${FIXTURES}/non-compliant.json`, '--policy', policy],
      context,
    );

    // Assess
    const stderr = context.stderr.join('');
    expect(code).toBe(2);
    expect(stderr).toContain('assign.default');
    expect(stderr).not.toMatch(CONTROL);
    expect(stderr).toContain('x\\x1b[2J');
  });
});
