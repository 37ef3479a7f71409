import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListAccountsCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import {
  ENDPOINT_MUTATION_BUCKET,
  RateLimiterRegistry,
  type AssumeRoleOptions,
  type NetworkSnapshotInput,
  type RemediationRecord,
} from '@vpc-guard/shared';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CliDependencies } from '../../functions/cli/dependencies';
import { main } from '../../functions/cli/main';
import { SimulatedAccount } from '../support/simulated-ec2';
import { TEST_RECORD_KEY } from '../support/record-key';
import { REPO_ROOT, recordingContext, type RecordingContext } from './support';

/**
 * The live commands (`scan --live`, `collect`, `plan`, `apply`) run in-process against the simulated
 * account loaded from the demo estate: 111111111111 (us-east-1, eu-west-1, the caller) and
 * 222222222222 (us-east-1, reached through the member role).
 */

const DEMO = JSON.parse(
  readFileSync(join(REPO_ROOT, 'examples', 'demo-account.json'), 'utf8'),
) as NetworkSnapshotInput[];
const CALLER = '111111111111';
const MEMBER = '222222222222';
const CALLER_ARN = `arn:aws:sts::${CALLER}:assumed-role/SecurityAudit/alice`;
const ROLE_TEMPLATE = 'arn:aws:iam::{accountId}:role/VpcGuardMember';
/** A day after the demo was collected: vendor-gateway's exemption holds, legacy-batch's has expired. */
const NOW = '2026-11-21T00:00:00Z';
const POLICY = 'examples/policy.yaml';
const ESTATE = [
  '--regions',
  'all',
  '--accounts',
  `${CALLER},${MEMBER}`,
  '--role-arn',
  ROLE_TEMPLATE,
  '--external-id',
  'vpc-guard-ext',
];

interface Harness {
  readonly account: SimulatedAccount;
  readonly deps: CliDependencies;
  readonly assumed: AssumeRoleOptions[];
  readonly answers: string[];
}

function accessDenied(message: string): Error {
  return Object.assign(new Error(message), {
    name: 'AccessDenied',
    $fault: 'client',
    $metadata: { httpStatusCode: 403 },
  });
}

/** The simulated account behind injected factories; `unassumable` accounts refuse the member role. */
function harness(
  options: {
    unassumable?: readonly string[];
    interactive?: boolean;
    answers?: string[];
    noCredentials?: boolean;
  } = {},
): Harness {
  const account = SimulatedAccount.fromSnapshots(DEMO);
  const sts = new STSClient({ region: 'us-east-1' });
  const identity = mockClient(sts).on(GetCallerIdentityCommand);
  if (options.noCredentials) {
    identity.rejects(
      Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      }),
    );
  } else {
    identity.resolves({ Account: CALLER, Arn: CALLER_ARN, UserId: 'AROAEXAMPLE:alice' });
  }
  const organizations = new OrganizationsClient({ region: 'us-east-1' });
  mockClient(organizations)
    .on(ListAccountsCommand)
    .resolvesOnce({
      Accounts: [{ Id: CALLER, State: 'ACTIVE', Name: 'payments' }],
      NextToken: 'page-2',
    })
    .resolvesOnce({
      Accounts: [
        { Id: MEMBER, State: 'ACTIVE', Name: 'sandboxes' },
        { Id: '333333333333', State: 'SUSPENDED', Name: 'closed' },
      ],
    });
  const assumed: AssumeRoleOptions[] = [];
  const answers = [...(options.answers ?? [])];
  // A virtual clock for the endpoint bucket: waiting for a token costs no real time.
  let virtualMs = 0;
  const deps: CliDependencies = {
    ec2: ({ accountId, region }) =>
      account.client({ accountId, region, retryBackoff: 'none', maxAttempts: 5 }),
    sts: () => sts,
    organizations: () => Promise.resolve(organizations),
    assumeRole: (role) => {
      assumed.push(role);
      const accountId = /::(\d{12}):/.exec(role.roleArn)?.[1] ?? '';
      return () =>
        (options.unassumable ?? []).includes(accountId)
          ? Promise.reject(
              accessDenied(
                `User: ${CALLER_ARN} is not authorized to perform: sts:AssumeRole on resource: ${role.roleArn}`,
              ),
            )
          : Promise.resolve({ accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'secret' });
    },
    terminal: {
      interactive: options.interactive ?? false,
      readLine: () => Promise.resolve(answers.shift()),
    },
    endpointLimiter: () =>
      new RateLimiterRegistry(ENDPOINT_MUTATION_BUCKET, {
        clock: () => virtualMs,
        sleep: (ms) => {
          virtualMs += ms;
          return Promise.resolve();
        },
      }),
  };
  return { account, deps, assumed, answers };
}

function fakeContext(cwd: string, env: Record<string, string> = {}): RecordingContext {
  return recordingContext({ cwd, env, now: () => new Date(NOW) });
}

interface JsonEvaluation {
  readonly accountId: string;
  readonly region: string;
  readonly vpcId: string;
  readonly compliance: string;
  readonly findings: readonly { readonly key: string }[];
}

/** Verdicts of a JSON report: per VPC its compliance and finding keys (messages may differ). */
function verdicts(stdout: readonly string[]): string[] {
  const report = JSON.parse(stdout.join('')) as { evaluations: JsonEvaluation[] };
  return report.evaluations.map(
    (e) =>
      `${e.accountId}/${e.region}/${e.vpcId} ${e.compliance} ${e.findings.map((f) => f.key.split('/').slice(3).join('/')).join(',')}`,
  );
}

function mutatingCalls(account: SimulatedAccount) {
  return account.calls.filter((call) => call.mutating);
}

describe('live commands on the simulated demo estate', () => {
  let work: string;

  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), 'vpc-guard-live-'));
  });

  afterEach(() => {
    rmSync(work, { recursive: true, force: true });
  });

  it('scan --live exits 1 with the same verdicts as the offline scan of the same estate', async () => {
    // Prepare
    const { account, deps, assumed } = harness();
    const live = fakeContext(REPO_ROOT);
    const offline = fakeContext(REPO_ROOT);

    // Act
    const liveCode = await main(
      ['scan', '--live', ...ESTATE, '--format', 'json', '--now', NOW],
      live,
      deps,
    );
    const offlineCode = await main(['scan', '--format', 'json', '--now', NOW], offline, deps);

    // Assess
    expect(liveCode).toBe(1);
    expect(offlineCode).toBe(1);
    expect(verdicts(live.stdout)).toEqual(verdicts(offline.stdout));
    expect(verdicts(live.stdout)).toHaveLength(12);
    expect(assumed).toEqual([
      {
        roleArn: `arn:aws:iam::${MEMBER}:role/VpcGuardMember`,
        externalId: 'vpc-guard-ext',
        region: 'us-east-1',
      },
    ]);
    expect(mutatingCalls(account)).toEqual([]);
    expect(account.callsOf('DescribeVpcAttribute')).toEqual([]);
    // Progress goes to stderr, so stdout is the JSON alone.
    expect(live.stderr.join('')).toMatch(
      /\[3\/3\] .*\(accounts 2\/2, 12 VPCs, \d+ findings so far\)/,
    );
  });

  it('scan --live --org covers the ACTIVE accounts of every ListAccounts page', async () => {
    // Prepare
    const { deps, assumed } = harness();
    const context = fakeContext(REPO_ROOT);

    // Act
    const code = await main(
      [
        'scan',
        '--live',
        '--org',
        '--regions',
        'all',
        '--role-arn',
        ROLE_TEMPLATE,
        '--format',
        'json',
      ],
      context,
      deps,
    );

    // Assess
    expect(code).toBe(1);
    expect(new Set(verdicts(context.stdout).map((v) => v.slice(0, 12)))).toEqual(
      new Set([CALLER, MEMBER]),
    );
    expect(assumed.map((a) => a.roleArn)).toEqual([`arn:aws:iam::${MEMBER}:role/VpcGuardMember`]);
  });

  it('reports an account whose role cannot be assumed and scans the others', async () => {
    // Prepare
    const { deps } = harness({ unassumable: [MEMBER] });
    const context = fakeContext(REPO_ROOT);

    // Act
    const code = await main(['scan', '--live', ...ESTATE, '--format', 'json'], context, deps);

    // Assess
    expect(code).toBe(1);
    const scanned = verdicts(context.stdout);
    expect(scanned).toHaveLength(10);
    expect(scanned.every((v) => v.startsWith(CALLER))).toBe(true);
    expect(context.stderr.join('')).toContain(
      `${MEMBER} (whole account): access-denied while assuming the role: AccessDenied: User: ${CALLER_ARN} is not authorized to perform: sts:AssumeRole`,
    );
  });

  it('collect --out writes a snapshot file that scan --snapshot accepts', async () => {
    // Prepare
    const { deps } = harness();
    const collect = fakeContext(work);
    const scan = fakeContext(REPO_ROOT);
    const live = fakeContext(REPO_ROOT);

    // Act
    const collectCode = await main(['collect', ...ESTATE, '--out', 'estate.json'], collect, deps);
    const scanCode = await main(
      [
        'scan',
        '--snapshot',
        join(work, 'estate.json'),
        '--policy',
        POLICY,
        '--format',
        'json',
        '--now',
        NOW,
      ],
      scan,
      deps,
    );
    await main(['scan', '--live', ...ESTATE, '--format', 'json', '--now', NOW], live, deps);

    // Assess
    expect(collectCode).toBe(0);
    expect(collect.stdout).toEqual([]);
    expect(collect.stderr.join('')).toContain('wrote 3 snapshots (12 VPCs) to estate.json');
    expect(scanCode).toBe(1);
    expect(verdicts(scan.stdout)).toEqual(verdicts(live.stdout));
  });

  it('plan shows the per-VPC diff and makes only Describe calls', async () => {
    // Prepare
    const { account, deps } = harness();
    const context = fakeContext(REPO_ROOT);

    // Act
    const code = await main(['plan', ...ESTATE, '--policy', POLICY, '--now', NOW], context, deps);

    // Assess
    expect(code).toBe(1);
    const diff = context.stdout.join('');
    expect(diff).toMatch(/^ {2}- NAT gateway nat-\w+ in subnet-\w+/m);
    expect(diff).toMatch(/^ {2}\+ interface endpoint \w+/m);
    expect(diff).toContain('why: ');
    expect(diff).toMatch(/monthly cost change: [+-]?\$/);
    expect(diff).toMatch(
      /^Plan: \d+ actions in \d+ VPCs: \d+ planned, \d+ blocked; monthly cost change/m,
    );
    expect(account.calls.length).toBeGreaterThan(0);
    expect(account.calls.every((call) => /^Describe/.test(call.operation))).toBe(true);
    // The DNS attributes are read only for the VPCs whose fixes need a private-DNS decision.
    const dnsVpcs = new Set(account.callsOf('DescribeVpcAttribute').map((c) => c.input['VpcId']));
    expect([...dnsVpcs]).toEqual(['vpc-04f3fc7dd50d77c56']); // ledger-prod
  });

  it('plan --format json --out saves the plan that apply --plan reads back', async () => {
    // Prepare
    const { account, deps } = harness();
    const plan = fakeContext(work);
    const apply = fakeContext(work);
    const policy = join(REPO_ROOT, POLICY);

    // Act
    const planCode = await main(
      [
        'plan',
        ...ESTATE,
        '--policy',
        policy,
        '--format',
        'json',
        '--out',
        'plan.json',
        '--now',
        NOW,
      ],
      plan,
      deps,
    );
    const applyCode = await main(
      [
        'apply',
        '--plan',
        'plan.json',
        '--policy',
        policy,
        '--dry-run',
        '--records',
        'records',
        '--role-arn',
        ROLE_TEMPLATE,
        '--external-id',
        'vpc-guard-ext',
      ],
      apply,
      deps,
    );

    // Assess
    expect(planCode).toBe(1);
    const printed = JSON.parse(plan.stdout.join('')) as { schemaVersion: number };
    expect(JSON.parse(readFileSync(join(work, 'plan.json'), 'utf8'))).toEqual(printed);
    expect(applyCode).toBe(1); // the plan's blocked actions stay blocked
    expect(apply.stdout.join('')).toContain('Apply (dry-run: nothing changed):');
    expect(account.writes()).toEqual([]);
  });

  it("scan --live reads the caller's account in AWS_REGION when no account or region is named", async () => {
    // Prepare
    const { deps, assumed } = harness();
    const context = fakeContext(REPO_ROOT, { AWS_REGION: 'eu-west-1' });

    // Act
    const code = await main(['scan', '--live', '--format', 'json'], context, deps);

    // Assess
    expect(code).toBe(1);
    expect(
      verdicts(context.stdout).map((v) => v.split(' ')[0]!.split('/').slice(0, 2).join('/')),
    ).toEqual([`${CALLER}/eu-west-1`, `${CALLER}/eu-west-1`, `${CALLER}/eu-west-1`]);
    expect(assumed).toEqual([]);
  });

  it('plan --snapshot plans offline, with no AWS call', async () => {
    // Prepare
    const { account, deps } = harness();
    const context = fakeContext(REPO_ROOT);

    // Act
    const code = await main(
      ['plan', '--snapshot', 'examples/demo-account.json', '--policy', POLICY, '--now', NOW],
      context,
      deps,
    );

    // Assess
    expect(code).toBe(1);
    expect(context.stdout.join('')).toMatch(/^Plan: 16 actions in 6 VPCs: 10 planned, 6 blocked/m);
    expect(account.calls).toEqual([]);
  });

  it.each([
    ['no region and no AWS_REGION', ['scan', '--live'], 'which regions? Give --regions'],
    ['target flags without --live', ['scan', '--regions', 'us-east-1'], 'add --live'],
    [
      '--live with --snapshot',
      ['scan', '--live', '--snapshot', 'x.json', '--regions', 'us-east-1'],
      'give one of them',
    ],
    [
      'another account without a role',
      ['scan', '--live', '--regions', 'us-east-1', '--accounts', MEMBER],
      `account ${MEMBER} is not the caller's`,
    ],
    [
      '--org without a role',
      ['scan', '--live', '--regions', 'us-east-1', '--org'],
      '--org reads every account',
    ],
    [
      '--org with --accounts',
      ['scan', '--live', '--org', '--accounts', CALLER],
      "cannot be used with option '--org'",
    ],
    [
      '--external-id without a role',
      ['plan', '--regions', 'us-east-1', '--external-id', 'x1'],
      'give --role-arn too',
    ],
    [
      'a role template of another account',
      [
        'scan',
        '--live',
        '--regions',
        'us-east-1',
        '--accounts',
        MEMBER,
        '--role-arn',
        'arn:aws:iam::999999999999:role/R',
      ],
      'is a role of account 999999999999',
    ],
    [
      'a bad region',
      ['scan', '--live', '--regions', 'mars-1'],
      'expected "all" or comma-separated region names',
    ],
    [
      'a bad concurrency',
      ['scan', '--live', '--regions', 'us-east-1', '--concurrency', '0'],
      'expected a whole number from 1 to 64',
    ],
    [
      'apply without --policy',
      ['apply', '--regions', 'us-east-1', '--yes'],
      'apply needs --policy FILE',
    ],
  ])('exits 2 for %s, before any EC2 call', async (_case, argv, message) => {
    // Prepare
    const { account, deps } = harness();
    const context = fakeContext(REPO_ROOT);

    // Act
    const code = await main(argv, context, deps);

    // Assess
    expect(code).toBe(2);
    expect(context.stderr.join('')).toContain(message);
    expect(account.calls).toEqual([]);
  });

  it('exits 2 and says how to configure credentials when there are none', async () => {
    // Prepare
    const { account, deps } = harness({ noCredentials: true });
    const context = fakeContext(REPO_ROOT);

    // Act
    const code = await main(['scan', '--live', '--regions', 'us-east-1'], context, deps);

    // Assess
    expect(code).toBe(2);
    expect(context.stderr.join('')).toContain(
      'cannot tell who is calling AWS (STS GetCallerIdentity: Could not load credentials from any providers); check the credentials',
    );
    expect(account.calls).toEqual([]);
  });

  it.each([
    ['not JSON', '{', 'not valid JSON'],
    [
      'a plan with a bad field',
      JSON.stringify({ schemaVersion: 1, vpcs: 'all' }),
      'vpcs: expected array',
    ],
  ])(
    'apply --plan exits 2 with zero writes for a file that is %s',
    async (_case, content, message) => {
      // Prepare
      const { account, deps } = harness();
      const context = fakeContext(work);
      writeFileSync(join(work, 'plan.json'), content);

      // Act
      const code = await main(
        ['apply', '--plan', 'plan.json', '--policy', join(REPO_ROOT, POLICY), '--yes'],
        context,
        deps,
      );

      // Assess
      expect(code).toBe(2);
      expect(context.stderr.join('')).toContain(message);
      expect(account.calls).toEqual([]);
    },
  );

  it('apply --plan refuses a plan made under another policy', async () => {
    // Prepare
    const { account, deps } = harness();
    const context = fakeContext(work);
    await main(
      ['plan', ...ESTATE, '--policy', join(REPO_ROOT, POLICY), '--out', 'plan.json'],
      fakeContext(work),
      deps,
    );
    const changed = join(work, 'policy.yaml');
    writeFileSync(
      changed,
      readFileSync(join(REPO_ROOT, POLICY), 'utf8').replace(
        'maxChangesPerRun: 10',
        'maxChangesPerRun: 11',
      ),
    );
    account.resetCalls();

    // Act
    const code = await main(
      ['apply', '--plan', 'plan.json', '--policy', changed, '--yes'],
      context,
      deps,
    );

    // Assess
    expect(code).toBe(2);
    expect(context.stderr.join('')).toContain('the plan was made with a different policy');
    expect(account.calls).toEqual([]);
  });

  it('apply --plan refuses a plan edited to unblock an action the policy does not allow', async () => {
    // Prepare
    const { account, deps } = harness();
    const policy = join(REPO_ROOT, POLICY);
    await main(
      ['plan', ...ESTATE, '--policy', policy, '--out', 'plan.json'],
      fakeContext(work),
      deps,
    );
    const saved = JSON.parse(readFileSync(join(work, 'plan.json'), 'utf8')) as {
      vpcs: { actions: { action: string; status: string; blockedReason?: string }[] }[];
    };
    const blocked = saved.vpcs
      .flatMap((vpc) => vpc.actions)
      .find((a) => a.action === 'remove-internet-route')!;
    blocked.status = 'planned';
    delete blocked.blockedReason;
    writeFileSync(join(work, 'plan.json'), JSON.stringify(saved));
    account.resetCalls();
    const context = fakeContext(work);

    // Act
    const code = await main(
      ['apply', '--plan', 'plan.json', '--policy', policy, '--yes'],
      context,
      deps,
    );

    // Assess
    expect(code).toBe(2);
    expect(context.stderr.join('')).toContain('the plan does not match the policy:\n  - vpcs[');
    expect(context.stderr.join('')).toContain(
      'remove-internet-route is not in profiles.regulated.remediation.actions',
    );
    expect(account.calls).toEqual([]);
  });

  it('apply without --yes on a non-interactive stdin exits 2 and changes nothing', async () => {
    // Prepare
    const { account, deps } = harness();
    const context = fakeContext(work);

    // Act
    const code = await main(
      ['apply', ...ESTATE, '--policy', join(REPO_ROOT, POLICY)],
      context,
      deps,
    );

    // Assess
    expect(code).toBe(2);
    expect(context.stderr.join('')).toMatch(
      /apply would make \d+ changes to \d+ VPCs and needs confirmation, but stdin is not a terminal/,
    );
    expect(mutatingCalls(account)).toEqual([]);
    expect(readdirSync(join(work, 'vpc-guard-records'))).toEqual([]);
  });

  it.each([
    ['n', 1, false],
    ['y', 1, true],
  ])('apply on a terminal asks first; answering %s exits %i', async (answer, exitCode, writes) => {
    // Prepare
    const { account, deps } = harness({ interactive: true, answers: [answer] });
    const context = fakeContext(work);

    // Act
    const code = await main(
      ['apply', ...ESTATE, '--policy', join(REPO_ROOT, POLICY)],
      context,
      deps,
    );

    // Assess
    expect(context.stderr.join('')).toMatch(/Apply \d+ changes to \d+ VPCs\? \[y\/N\] /);
    expect(code).toBe(exitCode);
    expect(account.writes().length > 0).toBe(writes);
  });

  it('apply --dry-run sends every mutating call with DryRun and needs no confirmation', async () => {
    // Prepare
    const { account, deps } = harness();
    const context = fakeContext(work);

    // Act
    const code = await main(
      [
        'apply',
        ...ESTATE,
        '--policy',
        join(REPO_ROOT, POLICY),
        '--dry-run',
        '--records',
        'records',
      ],
      context,
      deps,
    );

    // Assess
    expect(code).toBe(1); // the demo has actions the policy does not allow: blocked
    const mutating = mutatingCalls(account);
    expect(mutating.length).toBeGreaterThan(0);
    expect(mutating.every((call) => call.dryRun && call.outcome === 'DryRunOperation')).toBe(true);
    expect(account.writes()).toEqual([]);
    const [file] = readdirSync(join(work, 'records'));
    const record = JSON.parse(
      readFileSync(join(work, 'records', file!), 'utf8'),
    ) as RemediationRecord;
    expect(record.execution).toBe('dry-run');
    expect(record.summary['would-succeed']).toBeGreaterThan(0);
    expect(record.summary.failed).toBe(0);
  });

  it('apply --yes writes, records each action, and a second apply --yes writes nothing', async () => {
    // Prepare: the example policy with a cap above the demo's fixable actions, so one run fixes all
    const { account, deps } = harness();
    const first = fakeContext(work);
    const second = fakeContext(work);
    const policy = join(work, 'policy.yaml');
    writeFileSync(
      policy,
      readFileSync(join(REPO_ROOT, POLICY), 'utf8').replace(
        'maxChangesPerRun: 10',
        'maxChangesPerRun: 100',
      ),
    );
    const args = ['apply', ...ESTATE, '--policy', policy, '--yes'];

    // Act
    const firstCode = await main(args, first, deps);
    const firstWrites = account.writes().length;
    account.resetCalls();
    const secondCode = await main(args, second, deps);

    // Assess
    expect(firstWrites).toBeGreaterThan(0);
    expect(firstCode).toBe(1); // blocked actions remain (not allowed by the policy)
    const files = readdirSync(join(work, 'vpc-guard-records'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^2026-11-21T00-00-00-000Z-[0-9a-f-]{36}\.json$/);
    const record = JSON.parse(
      readFileSync(join(work, 'vpc-guard-records', files[0]!), 'utf8'),
    ) as RemediationRecord;
    expect(record.identity).toBe(CALLER_ARN);
    expect(record.execution).toBe('apply');
    expect(record.summary.verified).toBeGreaterThan(0);
    expect(record.summary.failed).toBe(0);
    const out = first.stdout.join('');
    for (const action of record.actions) expect(out).toContain(action.id);
    expect(out).toContain(`Record: ${join(work, 'vpc-guard-records', files[0]!)}`);
    expect(account.writes()).toEqual([]);
    expect(secondCode).toBe(1); // what is left is blocked: remove-internet-route is not allowed
    expect(second.stdout.join('')).toContain('Nothing to apply: every action is blocked');
    expect(readdirSync(join(work, 'vpc-guard-records'))).toHaveLength(1);
  });

  it('rollback shows the inverse plan, applies it only with --yes, and restores the policies', async () => {
    // Prepare: apply the demo fixes, keeping what the snapshot said before
    const { account, deps } = harness();
    const before = account.toSnapshot(CALLER, 'us-east-1');
    const policy = join(work, 'policy.yaml');
    writeFileSync(
      policy,
      readFileSync(join(REPO_ROOT, POLICY), 'utf8').replace(
        'maxChangesPerRun: 10',
        'maxChangesPerRun: 100',
      ),
    );
    // The records are signed and verified with a local key, as rollback requires.
    const key = join(work, 'record.key');
    writeFileSync(key, TEST_RECORD_KEY);
    const signing = ['--record-key-file', key];
    await main(
      ['apply', ...ESTATE, '--policy', policy, '--yes', ...signing],
      fakeContext(work),
      deps,
    );
    const [recordFile] = readdirSync(join(work, 'vpc-guard-records'));
    const recordPath = join(work, 'vpc-guard-records', recordFile!);
    account.resetCalls();
    const preview = fakeContext(work);
    const rollback = fakeContext(work);
    const args = ['rollback', recordPath, ...ESTATE.slice(4), ...signing];

    // Act
    const previewCode = await main(args, preview, deps);
    const previewWrites = account.writes().length;
    const code = await main([...args, '--yes'], rollback, deps);

    // Assess
    expect(previewCode).toBe(0);
    expect(previewWrites).toBe(0);
    expect(preview.stdout.join('')).toContain('Rollback of run');
    expect(preview.stderr.join('')).toContain('Run again with --yes');
    expect(account.writes().length).toBeGreaterThan(0);
    expect(rollback.stdout.join('')).toContain('Record: ');
    const after = account.toSnapshot(CALLER, 'us-east-1');
    const policies = (snapshot: typeof before) =>
      Object.fromEntries(snapshot.vpcEndpoints.map((e) => [e.vpcEndpointId, e.policyDocument]));
    const original = policies(before);
    for (const [id, document] of Object.entries(original)) {
      expect(policies(after)[id], id).toBe(document);
    }
    // The NAT stays deleted without --recreate-nat, and the command says so
    expect(rollback.stdout.join('')).toContain('--recreate-nat');
    expect(code).toBe(1);
  });
});
