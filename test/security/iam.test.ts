import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { addDeployment } from '../../infra/lib/deployment';
import { REPO_ROOT } from '../../infra/lib/paths';
import {
  actionsOf,
  allStatements,
  createTestApp,
  exampleConfig,
  type LocatedStatement,
  type StatementJson,
  type TemplateJson,
} from '../infra/support';

/**
 * Adversarial checks of the IAM in the synthesized templates: what a writing role could do if
 * vpc-guard's code were wrong or its credentials were taken. Every EC2 write is conditioned where
 * AWS allows it; the writes AWS cannot condition are the documented few; a `vpc-guard:protected`
 * tag denies every write; an Elastic IP cannot be released by marking it first.
 */

/** The writes AWS gives no condition to narrow (action and resource type), documented in DEPLOY.md. */
const UNCONDITIONABLE_WRITES: ReadonlyMap<string, readonly string[]> = new Map([
  ['ec2:DeleteRoute', ['route-table']],
  ['ec2:DeleteNatGateway', ['natgateway']],
  ['ec2:ModifyVpcEndpoint', ['vpc-endpoint', 'subnet', 'route-table']],
  ['ec2:CreateVpcEndpoint', ['vpc', 'subnet', 'route-table']],
  ['ec2:CreateSecurityGroup', ['vpc']],
]);

/** Calls only `rollback` makes: it runs with an operator's credentials, never a deployed role's. */
const ROLLBACK_ONLY_WRITES = [
  'ec2:CreateRoute',
  'ec2:CreateNatGateway',
  'ec2:DeleteVpcEndpoints',
  'ec2:DeleteSecurityGroup',
  'ec2:DeleteTags',
];

const PROTECTED_DENY = { Null: { 'ec2:ResourceTag/vpc-guard:protected': 'false' } };

function isEc2Write(action: string): boolean {
  return action.startsWith('ec2:') && !action.startsWith('ec2:Describe');
}

/** The EC2 resource types of a statement (`arn:...:<type>/*`), `*` for a wildcard resource. */
function resourceTypes(statement: StatementJson): string[] {
  const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
  return resources.map((resource) => {
    const text = typeof resource === 'string' ? resource : JSON.stringify(resource);
    if (text === '*') return '*';
    // The region and account are `${AWS::...}` references, which hold colons themselves.
    const type = text.includes(':ec2:') ? /:([a-z][a-z-]*)\/\*/.exec(text)?.[1] : undefined;
    return type ?? text;
  });
}

interface WritingRole {
  readonly name: string;
  readonly allows: readonly StatementJson[];
  readonly denies: readonly StatementJson[];
}

/** Every role of a template that is allowed at least one EC2 write, with its identity statements. */
function writingRoles(template: TemplateJson, label: string): WritingRole[] {
  const identity = allStatements(template).filter((l) => l.kind === 'identity');
  const roles = new Set(identity.flatMap((l) => l.roles));
  const of = (role: string, effect: 'Allow' | 'Deny'): StatementJson[] =>
    identity
      .filter((l: LocatedStatement) => l.roles.includes(role) && l.statement.Effect === effect)
      .map((l) => l.statement);
  return [...roles]
    .map((role) => ({
      name: `${label} ${role}`,
      allows: of(role, 'Allow'),
      denies: of(role, 'Deny'),
    }))
    .filter((role) => role.allows.some((s) => actionsOf(s).some(isEc2Write)));
}

/** Whether the role may call `action` on `type` under some statement (conditions aside). */
function allowsOn(role: WritingRole, action: string, type: string): StatementJson[] {
  return role.allows.filter(
    (s) => actionsOf(s).includes(action) && resourceTypes(s).some((t) => t === type || t === '*'),
  );
}

let standalone: TemplateJson;
let hub: TemplateJson;
let member: TemplateJson;
let roles: WritingRole[];

beforeAll(() => {
  // Prepare / Act: the standalone and organization examples, synthesized once.
  const standaloneApp = createTestApp();
  const standaloneStack = addDeployment(
    standaloneApp,
    exampleConfig('standalone', { regions: ['eu-west-1'] }),
  ).guardStacks[0]!;
  standalone = Template.fromStack(standaloneStack).toJSON() as TemplateJson;
  const hubApp = createTestApp();
  const deployment = addDeployment(hubApp, exampleConfig('hub'));
  hub = Template.fromStack(deployment.hubStack!).toJSON() as TemplateJson;
  member = Template.fromStack(deployment.memberStack!).toJSON() as TemplateJson;
  roles = [...writingRoles(standalone, 'standalone'), ...writingRoles(member, 'member')];
}, 120_000);

describe('IAM of the writing roles', () => {
  it('allows no EC2 write without a condition, except the writes AWS cannot condition', () => {
    const unconditioned: string[] = [];
    for (const role of roles) {
      for (const statement of role.allows) {
        if (statement.Condition !== undefined) continue;
        for (const action of actionsOf(statement).filter(isEc2Write)) {
          for (const type of resourceTypes(statement)) {
            if (!(UNCONDITIONABLE_WRITES.get(action) ?? []).includes(type)) {
              unconditioned.push(`${role.name}: ${action} on ${type}`);
            }
          }
        }
      }
    }
    expect(unconditioned).toEqual([]);
  });

  it('documents each unconditionable write in the per-action table of DEPLOY.md', () => {
    const deploy = readFileSync(resolve(REPO_ROOT, 'docs', 'DEPLOY.md'), 'utf8');
    const rows = deploy.split('\n').filter((line) => line.startsWith('| `ec2:'));
    for (const action of UNCONDITIONABLE_WRITES.keys()) {
      const row = rows.find((line) => line.startsWith(`| \`${action}\``));
      expect(row, `a table row for ${action}`).toBeDefined();
      expect(row).toMatch(/cannot/);
    }
  });

  it('holds none of the calls only rollback makes', () => {
    for (const role of roles) {
      const actions = role.allows.flatMap((s) => actionsOf(s));
      for (const action of ROLLBACK_ONLY_WRITES) {
        expect(actions, `${role.name} holds ${action}`).not.toContain(action);
      }
    }
  });

  it('denies every EC2 write it allows on a resource tagged vpc-guard:protected, in every writing role', () => {
    // The writing roles are the standalone remediation role and the member role; no hub role writes.
    expect(roles.map((r) => r.name.split(' ')[0])).toEqual(['standalone', 'member']);
    expect(writingRoles(hub, 'hub')).toEqual([]);
    for (const role of roles) {
      const allowed = new Set(role.allows.flatMap((s) => actionsOf(s)).filter(isEc2Write));
      const guards = role.denies.filter(
        (s) =>
          JSON.stringify(s.Condition) === JSON.stringify(PROTECTED_DENY) &&
          JSON.stringify(s.Resource) === '"*"',
      );
      const denied = new Set(guards.flatMap((s) => actionsOf(s)));
      expect(
        [...allowed].filter((a) => !denied.has(a)),
        role.name,
      ).toEqual([]);
    }
  });

  it('cannot release an Elastic IP in two calls: no role both marks and releases addresses', () => {
    for (const role of roles) {
      const marks = allowsOn(role, 'ec2:CreateTags', 'elastic-ip');
      const releases = allowsOn(role, 'ec2:ReleaseAddress', 'elastic-ip');
      expect(marks.length > 0 && releases.length > 0, role.name).toBe(false);
    }
  });

  it('creates endpoints only to AWS services, tagged as vpc-guard created them', () => {
    for (const role of roles) {
      const creates = allowsOn(role, 'ec2:CreateVpcEndpoint', 'vpc-endpoint');
      expect(creates.length, role.name).toBeGreaterThan(0);
      for (const statement of creates) {
        expect(statement.Condition?.['StringEquals']).toMatchObject({
          'aws:RequestTag/vpc-guard:managed': 'true',
        });
        const names = statement.Condition?.['StringLike']?.['ec2:VpceServiceName'];
        expect(JSON.stringify(names), role.name).toMatch(/com\.amazonaws\./);
        // A PrivateLink service of another account (com.amazonaws.vpce.<region>.vpce-svc-...) is out.
        const outside = JSON.stringify(statement.Condition?.['StringNotLike'] ?? {});
        const regional = JSON.stringify(names).includes('AWS::Region');
        expect(regional || outside.includes('com.amazonaws.vpce.'), role.name).toBe(true);
      }
    }
  });

  it('attaches and opens only security groups vpc-guard created', () => {
    const managed = { 'ec2:ResourceTag/vpc-guard:managed': 'true' };
    for (const role of roles) {
      for (const action of ['ec2:CreateVpcEndpoint', 'ec2:AuthorizeSecurityGroupIngress']) {
        const statements = allowsOn(role, action, 'security-group');
        expect(statements.length, `${role.name} ${action}`).toBeGreaterThan(0);
        for (const statement of statements) {
          expect(statement.Condition?.['StringEquals'], `${role.name} ${action}`).toMatchObject(
            managed,
          );
        }
      }
      expect(allowsOn(role, 'ec2:ModifyVpcEndpoint', 'security-group'), role.name).toEqual([]);
    }
  });

  it('writes only the tags vpc-guard sets: its own at creation, the release marks on Elastic IPs', () => {
    for (const role of roles) {
      const tagging = role.allows.filter((s) => actionsOf(s).includes('ec2:CreateTags'));
      expect(tagging.length, role.name).toBeGreaterThan(0);
      for (const statement of tagging) {
        const keys = statement.Condition?.['ForAllValues:StringEquals']?.['aws:TagKeys'];
        expect(keys, `${role.name} ${statement.Sid ?? ''}`).toBeDefined();
        expect(statement.Condition?.['Null']).toEqual({ 'aws:TagKeys': 'false' });
        const allowedKeys = resourceTypes(statement).includes('elastic-ip')
          ? ['vpc-guard:released-from', 'vpc-guard:released-from-vpc']
          : ['vpc-guard:managed', 'Name'];
        expect([...(keys as string[])].sort()).toEqual([...allowedKeys].sort());
      }
    }
  });
});

describe('IAM with Elastic IP release granted', () => {
  it('releases only addresses marked as left by a NAT gateway, and is then documented as a residual risk', () => {
    // Prepare
    const app = createTestApp();
    const config = exampleConfig('standalone', { regions: ['eu-west-1'], releaseElasticIps: true });
    // Act
    const json = Template.fromStack(
      addDeployment(app, config).guardStacks[0]!,
    ).toJSON() as TemplateJson;
    // Assess
    const [role] = writingRoles(json, 'standalone');
    const releases = allowsOn(role!, 'ec2:ReleaseAddress', 'elastic-ip');
    expect(releases).toHaveLength(1);
    expect(releases[0]!.Condition).toEqual({
      StringLike: {
        'ec2:ResourceTag/vpc-guard:released-from': 'nat-*',
        'ec2:ResourceTag/vpc-guard:released-from-vpc': 'vpc-*',
      },
    });
    const denied = role!.denies.flatMap((s) => actionsOf(s));
    expect(denied).toContain('ec2:ReleaseAddress');
    const deploy = readFileSync(resolve(REPO_ROOT, 'docs', 'DEPLOY.md'), 'utf8');
    expect(deploy).toMatch(/releaseElasticIps/);
  });
});

describe('the record-signing key', () => {
  /** The key policy's statements of the template's one HMAC key. */
  function recordKeyStatements(template: TemplateJson): StatementJson[] {
    const keys = Object.values(template.Resources).filter(
      (resource) =>
        resource.Type === 'AWS::KMS::Key' && resource.Properties?.KeySpec === 'HMAC_256',
    );
    expect(keys).toHaveLength(1);
    const policy = keys[0]!.Properties!.KeyPolicy as { Statement: StatementJson[] };
    return policy.Statement;
  }

  it.each([
    ['standalone', () => standalone],
    ['hub', () => hub],
  ])('lets only the functions sign records in the %s template', (_label, template) => {
    // Act
    const statements = recordKeyStatements(template());

    // Assess: GenerateMac is granted once, to named roles, never to the account (IAM delegation).
    const signing = statements.filter((s) => actionsOf(s).some((a) => a === 'kms:GenerateMac'));
    expect(signing).toHaveLength(1);
    expect(JSON.stringify(signing[0]!.Principal)).not.toContain(':root');
    for (const statement of statements) {
      expect(actionsOf(statement)).not.toContain('kms:*');
    }
    const verifying = statements.filter((s) => actionsOf(s).includes('kms:VerifyMac'));
    expect(verifying.every((s) => !actionsOf(s).includes('kms:GenerateMac'))).toBe(true);
  });

  it('keeps the key when the stack is deleted: it is what tells a real record from a forged one', () => {
    // Act
    const keys = Object.values(standalone.Resources).filter(
      (resource) =>
        resource.Type === 'AWS::KMS::Key' && resource.Properties?.KeySpec === 'HMAC_256',
    );

    // Assess
    expect((keys[0] as { DeletionPolicy?: string } | undefined)?.DeletionPolicy).toBe('Retain');
  });
});
