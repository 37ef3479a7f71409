import type { Evaluation, Finding } from '../evaluate';
import { RULES } from '../rules/registry';
import type { RuleId, Severity } from '../rules/types';
import { escapeControlCharacters } from './ansi';
import { costDetail, costFigure, vpcPath } from './phrasing';

/** Where a snapshot came from: SARIF results point at the file that holds their VPC. */
export interface SnapshotSource {
  /** The file as the user named it, ideally relative to the repository root (code scanning wants that). */
  readonly path: string;
  readonly accountId: string;
  readonly region: string;
}

/** Options of the SARIF report. */
export interface SarifReportOptions {
  readonly generatedAt: Date;
  /** `tool.driver.semanticVersion`. @default - not recorded */
  readonly toolVersion?: string;
  /** `tool.driver.informationUri`, where your copy of vpc-guard is documented. @default - left out */
  readonly informationUri?: string;
  /**
   * The snapshot files, so each result gets a physical location (code scanning requires one).
   * @default - results carry logical locations only
   */
  readonly sources?: readonly SnapshotSource[];
}

const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

type SarifLevel = 'error' | 'warning' | 'note';

const LEVEL: Readonly<Record<Severity, SarifLevel>> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
  informational: 'note',
};

/** GitHub's scale: 9.0+ critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low. */
const SECURITY_SEVERITY: Readonly<Record<Severity, string>> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '3.0',
  informational: '0.0',
};

/** How each rule presents in code scanning: its usual severity, tags, and what to do about it. */
const RULE_PRESENTATION: Readonly<
  Record<RuleId, { severity: Severity; tags: readonly string[]; help: string }>
> = {
  'nat-gateway-forbidden': {
    severity: 'high',
    tags: ['egress', 'nat-gateway'],
    help:
      'The VPC has a NAT gateway although its profile forbids NAT egress. Delete the NAT gateway and the ' +
      'routes that point at it (vpc-guard action remove-nat), or move the VPC to a profile that allows egress.',
  },
  'internet-route-forbidden': {
    severity: 'high',
    tags: ['egress', 'route-table'],
    help:
      'A route table serving the VPC has a default route to the internet although its profile forbids it. ' +
      'Remove the route (remove-internet-route) or assign the VPC a profile that allows internet routes.',
  },
  'endpoint-missing': {
    severity: 'medium',
    tags: ['vpc-endpoint', 'private-connectivity'],
    help:
      "A VPC endpoint the profile requires is absent or not in a usable state. Create it with the profile's " +
      'endpoint policy template (create-endpoint). Interface endpoints cost per AZ-hour; gateway endpoints are free.',
  },
  'endpoint-misconfigured': {
    severity: 'medium',
    tags: ['vpc-endpoint', 'private-connectivity'],
    help:
      'A required endpoint exists but is of the wrong type, lacks private DNS, does not cover every workload ' +
      'AZ or (gateway) is not associated with every route table that serves subnets. Fix it in place ' +
      '(enable-private-dns, extend-endpoint-coverage).',
  },
  'endpoint-policy-too-broad': {
    severity: 'high',
    tags: ['vpc-endpoint', 'iam', 'data-perimeter'],
    help:
      'The endpoint policy lets untrusted identities or resources through. Scope principals (aws:PrincipalOrgID, ' +
      'aws:PrincipalAccount, named principals) and resources (aws:ResourceOrgID, aws:ResourceAccount, named ARNs), ' +
      'for example with the data-perimeter template (replace-endpoint-policy).',
  },
  'exemption-expired': {
    severity: 'medium',
    tags: ['exemption', 'governance'],
    help:
      'The exemption tag has expired or cannot be read, so the VPC is evaluated normally. Renew it with a new ' +
      '"until=YYYY-MM-DD; reason=..." value or remove the tag.',
  },
};

function pascalCase(id: string): string {
  return id
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** A file path as a SARIF URI: relative paths stay relative (forward slashes), absolute ones become file URIs. */
function toUri(path: string): string {
  const slashed = path.replace(/\\/g, '/');
  const encode = (text: string) => text.split('/').map(encodeURIComponent).join('/');
  if (/^[A-Za-z]:\//.test(slashed))
    return `file:///${slashed.slice(0, 2)}${encode(slashed.slice(2))}`;
  if (slashed.startsWith('/')) return `file://${encode(slashed)}`;
  return encode(slashed.replace(/^(\.\/)+/, ''));
}

function reportingDescriptors() {
  return RULES.map((rule) => {
    const presentation = RULE_PRESENTATION[rule.id];
    return {
      id: rule.id,
      name: pascalCase(rule.id),
      shortDescription: { text: rule.title },
      fullDescription: { text: rule.description },
      help: { text: presentation.help, markdown: presentation.help },
      defaultConfiguration: { level: LEVEL[presentation.severity] },
      properties: {
        tags: ['security', 'aws', 'vpc', ...presentation.tags],
        precision: 'high',
        'security-severity': SECURITY_SEVERITY[presentation.severity],
      },
    };
  });
}

/**
 * Plain text for a SARIF message. Viewers turn `[text](target)` in a message into a link (SARIF 2.1.0,
 * 3.11.6 "Messages with embedded links"), so a VPC name or tag value could draw one: a backslash, `[` and `]`
 * are escaped as the standard says, and control characters are shown.
 */
function sarifText(text: string): string {
  return escapeControlCharacters(text.replace(/[\\[\]]/g, (character) => `\\${character}`));
}

function sarifResult(
  evaluation: Evaluation,
  finding: Finding,
  ruleIndex: ReadonlyMap<RuleId, number>,
  artifactUri: string | undefined,
  suppressed: boolean,
) {
  const vpc = vpcPath(evaluation);
  const logicalLocations = [
    { name: evaluation.vpcId, fullyQualifiedName: vpc, kind: 'namespace' },
    ...(finding.resourceId === evaluation.vpcId
      ? []
      : [
          {
            name: finding.resourceId,
            fullyQualifiedName: `${vpc}/${finding.resourceId}`,
            kind: 'resource',
          },
        ]),
  ];
  const location =
    artifactUri === undefined
      ? { logicalLocations }
      : {
          physicalLocation: { artifactLocation: { uri: artifactUri }, region: { startLine: 1 } },
          logicalLocations,
        };
  const exemption = evaluation.exemption;
  return {
    ruleId: finding.ruleId,
    ruleIndex: ruleIndex.get(finding.ruleId) ?? -1,
    level: LEVEL[finding.severity],
    message: {
      text: sarifText(
        `${finding.message} (${vpc}${evaluation.vpcName ? ` "${evaluation.vpcName}"` : ''})`,
      ),
    },
    locations: [location],
    partialFingerprints: { 'vpcGuardFindingKey/v1': finding.key },
    ...(suppressed
      ? {
          suppressions: [
            {
              kind: 'external',
              status: 'accepted',
              justification:
                exemption.state === 'valid'
                  ? escapeControlCharacters(`exempt until ${exemption.until}: ${exemption.reason}`)
                  : 'exempt',
            },
          ],
        }
      : {}),
    properties: {
      severity: finding.severity,
      findingKey: finding.key,
      resourceId: finding.resourceId,
      profile: evaluation.profile,
      evidence: finding.evidence,
      fix: finding.fix,
      cost: finding.cost
        ? { ...finding.cost, summary: `${costFigure(finding.cost)} (${costDetail(finding.cost)})` }
        : null,
    },
  };
}

/**
 * SARIF 2.1.0 for GitHub code scanning: one run, a reporting descriptor per rule, a result per finding
 * (level from severity, `partialFingerprints` from the finding key so alerts dedupe across runs), the
 * snapshot file as the physical location plus the VPC and resource as logical locations. Findings
 * suppressed by a valid exemption are emitted with an external suppression.
 */
export function renderSarifReport(
  evaluations: readonly Evaluation[],
  options: SarifReportOptions,
): string {
  const rules = reportingDescriptors();
  const ruleIndex = new Map<RuleId, number>(RULES.map((rule, index) => [rule.id, index]));
  const sourceUri = new Map<string, string>();
  for (const source of options.sources ?? []) {
    const key = `${source.accountId}/${source.region}`;
    if (!sourceUri.has(key)) sourceUri.set(key, toUri(source.path));
  }
  const results = evaluations.flatMap((evaluation) => {
    const uri = sourceUri.get(`${evaluation.accountId}/${evaluation.region}`);
    return [
      ...evaluation.findings.map((finding) =>
        sarifResult(evaluation, finding, ruleIndex, uri, false),
      ),
      ...evaluation.suppressedFindings.map((finding) =>
        sarifResult(evaluation, finding, ruleIndex, uri, true),
      ),
    ];
  });
  const log = {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'vpc-guard',
            ...(options.informationUri === undefined
              ? {}
              : { informationUri: options.informationUri }),
            ...(options.toolVersion === undefined ? {} : { semanticVersion: options.toolVersion }),
            rules,
          },
        },
        invocations: [{ executionSuccessful: true, endTimeUtc: options.generatedAt.toISOString() }],
        results,
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
