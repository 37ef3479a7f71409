import { asffFindingId, importToSecurityHub, renderAsffFindings } from '@vpc-guard/shared';
import { kindOfCode } from '../pipeline-report';
import { transitionsOf, type OutboxSink } from './sink';

/**
 * Security Hub (SECURITY_HUB): one ASFF finding per alert, imported into the account and region of
 * the finding (the default product takes only the caller's own findings). A finding Security Hub
 * did not reject is an alert taken.
 */
export const securityHubSink: OutboxSink<'securityhub', 'security-hub', 'securityHub'> = {
  name: 'securityhub',
  stage: 'security-hub',
  publishedAs: 'securityHub',
  configured: (config) => config.securityHub,
  send: async (deps, { alerts, evaluations, where, failures }) => {
    const findings = renderAsffFindings(transitionsOf(alerts), evaluations, {
      accountId: where.accountId,
      region: where.region,
    });
    const result = await importToSecurityHub(
      deps.securityHubFor(where.accountId, where.region),
      findings,
    );
    failures.addBatch('security-hub', where, result.failed, (first, count) => ({
      kind: kindOfCode(first.errorCode),
      message: `${count} of ${findings.length} findings not imported: ${first.errorCode}: ${first.errorMessage}`,
    }));
    const rejected = new Set(result.failed.map((failed) => failed.id));
    // A rejection without an id cannot be told apart: then no alert counts as taken.
    const taken = rejected.has('?')
      ? []
      : alerts.filter((alert) => !rejected.has(asffFindingId(alert.key))).map((a) => a.key);
    return { published: result.imported, taken };
  },
};
