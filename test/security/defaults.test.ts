import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { InputValidationError, parseGuardPolicy } from '@vpc-guard/shared';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { addDeployment } from '../../infra/lib/deployment';
import { loadDeploymentConfig, parseDeploymentConfig } from '../../infra/lib/deployment-config';
import { INFRA_DIR, REPO_ROOT } from '../../infra/lib/paths';
import {
  EXAMPLE_FILES,
  createTestApp,
  exampleConfig,
  exampleInput,
  shippedExampleInput,
  shippedExamplePolicyFile,
} from '../infra/support';

/**
 * Safe by default: a newcomer who copies an example deployment and edits only the account id must
 * not get endpoint policies rewritten for an organization that is not theirs, nor any write before
 * they choose it.
 */

const KINDS = ['standalone', 'hub'] as const;

/** The message of the InputValidationError `act` throws. */
function rejection(act: () => unknown): string {
  try {
    act();
  } catch (error) {
    expect(error).toBeInstanceOf(InputValidationError);
    return (error as Error).message;
  }
  throw new Error('expected the configuration to be rejected');
}

/** Every AWS Organizations id written in the examples, the deployment examples and the docs. */
function organizationIdsInExamples(): string[] {
  const files = [
    ...readdirSync(resolve(REPO_ROOT, 'examples')).map((f) => resolve(REPO_ROOT, 'examples', f)),
    ...Object.values(EXAMPLE_FILES),
    resolve(REPO_ROOT, 'README.md'),
    resolve(REPO_ROOT, 'docs', 'DEPLOY.md'),
  ];
  const ids = new Set<string>();
  for (const file of files) {
    for (const match of readFileSync(file, 'utf8').matchAll(/\bo-[a-z0-9]{10,32}\b/g)) {
      ids.add(match[0]);
    }
  }
  return [...ids].sort();
}

describe('example deployments', () => {
  it.each(KINDS)(
    'refuses the %s example with only the account changed, naming the organization field',
    (kind) => {
      // Prepare: what a newcomer does, edit the account id and nothing else.
      const data = shippedExampleInput(kind);
      if (kind === 'standalone') data['account'] = '123456789012';
      else data['hubAccount'] = '123456789012';
      // Act
      const message = rejection(() =>
        parseDeploymentConfig(data, { source: 'deployment.json', baseDir: INFRA_DIR }),
      );
      // Assess
      expect(message).toMatch(/organization(\.id|Id)/);
      expect(message).toMatch(/expected your own AWS Organizations id/);
      expect(message).toContain('o-a1b2c3d4e5');
    },
  );

  it.each(KINDS)('refuses to load the shipped %s example file as it is', (kind) => {
    expect(rejection(() => loadDeploymentConfig(EXAMPLE_FILES[kind]))).toMatch(
      /example id "o-a1b2c3d4e5"/,
    );
  });

  it('refuses every organization id used in the examples and docs, in the policy and in organizationId', () => {
    // Prepare
    const ids = organizationIdsInExamples();
    const policyText = readFileSync(shippedExamplePolicyFile('standalone'), 'utf8');
    const exampleId = parseGuardPolicy(policyText).organization.id;
    const scratch = mkdtempSync(join(tmpdir(), 'vpc-guard-example-org-'));
    expect(ids).toContain('o-a1b2c3d4e5');
    for (const id of ids) {
      const file = join(scratch, `${id}.yaml`);
      writeFileSync(file, policyText.replaceAll(exampleId, id));
      // Act
      const inPolicy = rejection(() =>
        parseDeploymentConfig(
          { mode: 'standalone', regions: ['eu-west-1'], policy: { source: 'ssm', file } },
          { source: 'deployment.json', baseDir: INFRA_DIR },
        ),
      );
      const inHub = rejection(() =>
        parseDeploymentConfig(exampleInput('hub', { organizationId: id }), {
          source: 'deployment.json',
          baseDir: INFRA_DIR,
        }),
      );
      // Assess
      expect(inPolicy).toMatch(new RegExp(`organization\\.id: expected your own .*"${id}"`));
      expect(inHub).toMatch(new RegExp(`organizationId: expected your own .*"${id}"`));
    }
  });

  it('refuses a configuration that names no policy file: the bundled one is an example', () => {
    expect(
      rejection(() =>
        parseDeploymentConfig(
          { mode: 'standalone', regions: ['eu-west-1'] },
          { source: 'deployment.json', baseDir: INFRA_DIR },
        ),
      ),
    ).toMatch(/policy\.file \(examples\/.*\) organization\.id: expected your own/);
  });

  it.each(KINDS)('publishes a %s policy in which no profile remediates', (kind) => {
    const policy = parseGuardPolicy(readFileSync(shippedExamplePolicyFile(kind), 'utf8'));
    const modes = Object.values(policy.profiles).map((profile) => profile.remediation.mode);
    expect(modes.length).toBeGreaterThan(0);
    expect(modes.filter((mode) => mode !== 'notify' && mode !== 'off')).toEqual([]);
  });
});

describe('a first deployment', () => {
  it.each(KINDS)(
    'creates the %s kill switch "on": nothing is written until an operator turns it off',
    (kind) => {
      // Prepare
      const app = createTestApp();
      const config = exampleConfig(kind, kind === 'standalone' ? { regions: ['eu-west-1'] } : {});
      // Act
      const deployment = addDeployment(app, config);
      const stack = deployment.hubStack ?? deployment.guardStacks[0]!;
      // Assess
      Template.fromStack(stack).hasResourceProperties('AWS::SSM::Parameter', {
        Name: '/vpc-guard/kill-switch',
        Value: 'on',
      });
    },
  );

  it('documents the path notify -> dry-run -> auto and turning the kill switch off, in DEPLOY.md and the README', () => {
    const deploy = readFileSync(resolve(REPO_ROOT, 'docs', 'DEPLOY.md'), 'utf8');
    const readme = readFileSync(resolve(REPO_ROOT, 'README.md'), 'utf8');
    const deploySection = readme.slice(
      readme.indexOf('## Deploy'),
      readme.indexOf('\n## ', readme.indexOf('## Deploy') + 1),
    );
    for (const text of [deploy, deploySection]) {
      expect(text).toMatch(/notify\W+dry-run\W+auto/);
      expect(text).toContain('--name /vpc-guard/kill-switch --overwrite --value off');
    }
    expect(deploy).toMatch(/## First deployment/);
  });
});
