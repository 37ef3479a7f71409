import type { RemediationPlan } from './plan-model';

/**
 * Blocking a whole plan: what the functions do to a plan when writes are not allowed right now (the
 * kill switch is on, or no record key is configured). A pure plan transform, beside the planner.
 */

/**
 * Blocks every planned action of `plan` with `reason`, so nothing of it is written; actions already
 * blocked keep their own reason. The totals move the newly blocked actions from planned to blocked.
 */
export function blockPlan(plan: RemediationPlan, reason: string): RemediationPlan {
  let blocked = 0;
  const vpcs = plan.vpcs.map((vpc) => ({
    ...vpc,
    actions: vpc.actions.map((action) => {
      if (action.status !== 'planned') return action;
      blocked += 1;
      return { ...action, status: 'blocked' as const, blockedReason: reason };
    }),
  }));
  return {
    ...plan,
    vpcs,
    totals: {
      ...plan.totals,
      planned: plan.totals.planned - blocked,
      blocked: plan.totals.blocked + blocked,
    },
  };
}
