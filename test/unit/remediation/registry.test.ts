import { describe, expect, it } from 'vitest';
import { REMEDIATION_ACTIONS } from '../../../shared/src/policy/schema';
import {
  ACTION_ORDER,
  ActionParamsSchema,
  ENDPOINT_FIXES,
  MAY_CUT_EGRESS,
  RECORD_ACTION_NAMES,
  actionDefinition,
  stepKind,
  type RollbackAction,
} from '../../../shared/src/remediation/actions/registry';

/*
 * The action registry: one definition per action of the policy's vocabulary, in execution order,
 * and everything derived from it (the plan's params schema, the record's action names, step kinds).
 */

describe('the action registry', () => {
  it('defines every action the policy can allow, once, endpoints before egress', () => {
    // Act
    const order = [...ACTION_ORDER];

    // Assess
    expect([...order].sort()).toEqual([...REMEDIATION_ACTIONS].sort());
    expect(order.indexOf('create-endpoint')).toBeLessThan(order.indexOf('remove-nat'));
    expect(order.at(-1)).toBe('release-elastic-ip');
  });

  it.each(REMEDIATION_ACTIONS.map((name) => [name]))('names %s by its own definition', (name) => {
    // Act
    const definition = actionDefinition(name);

    // Assess
    expect(definition.name).toBe(name);
    expect(definition.paramsSchema.safeParse({ action: name }).success).toBe(false);
  });

  it('runs every step kind an inverse produces, each owned once', () => {
    // Prepare
    const kinds = RECORD_ACTION_NAMES.filter(
      (name): name is RollbackAction => !(REMEDIATION_ACTIONS as readonly string[]).includes(name),
    );

    // Act / Assess
    expect(new Set(kinds).size).toBe(kinds.length);
    expect(kinds).toEqual(
      expect.arrayContaining(['recreate-route', 'recreate-nat', 'restore-endpoint-policy']),
    );
    for (const kind of kinds) expect(typeof stepKind(kind).run).toBe('function');
  });

  it('tells endpoint fixes from actions that may cut egress', () => {
    // Assess
    expect([...ENDPOINT_FIXES].sort()).toEqual([
      'create-endpoint',
      'enable-private-dns',
      'extend-endpoint-coverage',
    ]);
    expect([...MAY_CUT_EGRESS].sort()).toEqual(['remove-internet-route', 'remove-nat']);
  });

  it('refuses params of an action that does not exist', () => {
    // Act
    const result = ActionParamsSchema.safeParse({ action: 'delete-vpc' });

    // Assess
    expect(result.success).toBe(false);
  });
});
