import type { IRole } from 'aws-cdk-lib/aws-iam';
import type { Stack } from 'aws-cdk-lib';
import { GuardAlarms } from './constructs/guard-alarms';
import type { GuardService } from './constructs/guard-service';
import { SweepStateMachine } from './constructs/sweep-state-machine';
import type { DeploymentConfig } from './deployment-config';

/** What both the standalone and the hub stack end with. */
export interface GuardOperations {
  readonly sweepStateMachine: SweepStateMachine;
  readonly alarms: GuardAlarms;
}

/**
 * The sweep state machine and the operators' alarms, added last to a stack: the alarm scan must
 * see every dead-letter queue and function the stack holds, the state machine's included.
 */
export function addSweepAndAlarms(
  stack: Stack,
  props: {
    readonly config: DeploymentConfig;
    readonly service: GuardService;
    readonly evaluationRole: IRole;
  },
): GuardOperations {
  const { config, service, evaluationRole } = props;
  const sweepStateMachine = new SweepStateMachine(stack, 'Sweep', {
    config,
    role: evaluationRole,
    environment: service.pipelineEnvironment,
    logRetention: config.logRetentionDays,
  });
  const alarms = new GuardAlarms(stack, 'Alarms', { emails: config.alarmEmails });
  alarms.alarmOnStateMachine(sweepStateMachine.stateMachine);
  alarms.watch(stack);
  return { sweepStateMachine, alarms };
}
