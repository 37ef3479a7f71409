import * as z from 'zod';
import { REMEDIATION_ACTIONS, type RemediationAction } from '../../policy/schema';
import { createEndpoint } from './create-endpoint';
import { enablePrivateDns } from './enable-private-dns';
import { extendEndpointCoverage } from './extend-endpoint-coverage';
import { releaseElasticIp } from './release-elastic-ip';
import { removeInternetRoute } from './remove-internet-route';
import { removeNat } from './remove-nat';
import { replaceEndpointPolicy } from './replace-endpoint-policy';
import type { RemediationActionDefinition, StepKind } from './types';

/**
 * Every remediation action, in the order they run inside a VPC: workloads get their endpoints
 * before their egress is cut, and an Elastic IP is released last. Adding an action is one file in
 * this folder and one line here (and its name in the policy's `REMEDIATION_ACTIONS`, the vocabulary
 * operators write in `remediation.actions`). Everything else (the plan file's schema, the record's,
 * the rollback step kinds, dispatch) is derived from this list.
 */
const ACTION_LIST = [
  createEndpoint,
  extendEndpointCoverage,
  enablePrivateDns,
  replaceEndpointPolicy,
  removeInternetRoute,
  removeNat,
  releaseElasticIp,
] as const;

type AnyActionDefinition = (typeof ACTION_LIST)[number];

/** The parameters of any planned action, one variant per action (each from its own schema). */
export type ActionParams = z.infer<AnyActionDefinition['paramsSchema']>;

type KindsOf<D> = D extends { readonly inverse: { readonly kinds: infer K } } ? K[keyof K] : never;
type KindParams<K> = K extends StepKind<infer Q> ? Q : never;

/** What one rollback step does, with everything it needs to do it: one variant per step kind. */
export type RollbackParams = KindParams<KindsOf<AnyActionDefinition>>;

/** The kinds of rollback steps, each owned by the action whose inverse it is. */
export type RollbackAction = RollbackParams['action'];

/**
 * An action seen through the union of all parameters; only ever called with its own. Its step kinds
 * are looked up by {@link stepKind}.
 */
export type ActionDefinition = RemediationActionDefinition<
  RemediationAction,
  z.ZodType<ActionParams>,
  RollbackParams,
  never
>;

/** The parameters of a planned action, as a saved plan is checked: by `action`, strictly. */
export const ActionParamsSchema = z.discriminatedUnion(
  'action',
  // The list's own schemas, in its order (`map` loses only that the list is not empty).
  ACTION_LIST.map((definition) => definition.paramsSchema) as [
    AnyActionDefinition['paramsSchema'],
    ...AnyActionDefinition['paramsSchema'][],
  ],
);

const BY_NAME: ReadonlyMap<string, ActionDefinition> = new Map(
  ACTION_LIST.map((definition): [string, ActionDefinition] => [definition.name, definition]),
);

const STEP_KINDS: ReadonlyMap<string, StepKind<RollbackParams>> = new Map(
  ACTION_LIST.flatMap((definition) => {
    // Each kind runs with its own params: the map is only read by a step's own `action`.
    const kinds: Readonly<Record<string, StepKind<RollbackParams>>> = definition.inverse.kinds;
    return Object.entries(kinds);
  }),
);

// The policy's vocabulary and this list must match, and a step kind has one owner.
for (const name of REMEDIATION_ACTIONS) {
  if (!BY_NAME.has(name)) throw new Error(`remediation action "${name}" has no definition`);
}
if (STEP_KINDS.size !== ACTION_LIST.reduce((n, d) => n + Object.keys(d.inverse.kinds).length, 0)) {
  throw new Error('a rollback step kind is owned by two actions');
}

/** Every action, in execution order. */
export const ACTION_ORDER: readonly RemediationAction[] = ACTION_LIST.map((d) => d.name);

/** The action with this name. */
export function actionDefinition(name: RemediationAction): ActionDefinition {
  const definition = BY_NAME.get(name);
  if (!definition) throw new Error(`no remediation action "${name}"`);
  return definition;
}

/** The step kind with this name. */
export function stepKind(name: RollbackAction): StepKind<RollbackParams> {
  const kind = STEP_KINDS.get(name);
  if (!kind) throw new Error(`no rollback step kind "${name}"`);
  return kind;
}

/** Actions that put the VPC's endpoints in place; they run before egress is removed. */
export const ENDPOINT_FIXES: ReadonlySet<RemediationAction> = new Set(
  ACTION_LIST.filter((d) => d.fixesEndpoint).map((d) => d.name),
);

/** Actions that may take a workload's way out (a NAT, an internet route). */
export const MAY_CUT_EGRESS: ReadonlySet<RemediationAction> = new Set(
  ACTION_LIST.filter((d) => d.cutsEgress !== undefined).map((d) => d.name),
);

/** Every action name a record may hold: the actions, then the rollback step kinds. */
export const RECORD_ACTION_NAMES = [...REMEDIATION_ACTIONS, ...STEP_KINDS.keys()] as [
  RemediationAction | RollbackAction,
  ...(RemediationAction | RollbackAction)[],
];

/** True when applying any planned action of these needs the VPC's DNS attributes described. */
export function needsDnsAttributes(
  actions: readonly { readonly status: string; readonly params: ActionParams }[],
): boolean {
  return actions.some(
    (a) =>
      a.status === 'planned' &&
      (actionDefinition(a.params.action).needsDnsAttributes?.(a.params) ?? false),
  );
}
