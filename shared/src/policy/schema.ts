import * as z from 'zod';
import { AccountIdSchema, OrganizationIdSchema, REGION_PATTERN } from '../aws/shapes';

/**
 * GuardPolicy: the user's contract. Which profile each VPC follows, what each profile requires, and
 * what vpc-guard may change on its own. Objects are strict: a misspelt key is an error, never a silently
 * ignored setting.
 */

export const GUARD_POLICY_VERSION = 1;

/** Every remediation vpc-guard knows how to carry out. */
export const REMEDIATION_ACTIONS = [
  'remove-nat',
  'remove-internet-route',
  'create-endpoint',
  'enable-private-dns',
  'extend-endpoint-coverage',
  'replace-endpoint-policy',
  'release-elastic-ip',
] as const;
export const RemediationActionSchema = z.enum(REMEDIATION_ACTIONS);
export type RemediationAction = z.infer<typeof RemediationActionSchema>;

export const REMEDIATION_MODES = ['off', 'notify', 'dry-run', 'auto'] as const;

/** Endpoint policy templates vpc-guard can render for create-endpoint and replace-endpoint-policy. */
export const ENDPOINT_POLICY_TEMPLATES = ['data-perimeter', 'principal-org-only'] as const;

const SHORT_SERVICE_NAME =
  'a short service name such as "kms", "ecr.api" or "s3" (the part after "com.amazonaws.<region>.")';
/** Segments a short service name never has: they belong to the full name or to a DNS name. */
const FULL_NAME_SEGMENTS = new Set(['com', 'amazonaws', 'aws']);

const ServiceSchema = z
  .string()
  .max(64, `expected ${SHORT_SERVICE_NAME}: at most 64 characters`)
  .regex(/^[a-z0-9][a-z0-9-]*(\.[a-z0-9-]+)*$/, `expected ${SHORT_SERVICE_NAME}`)
  .refine(
    (service) =>
      service
        .split('.')
        .every((segment) => !FULL_NAME_SEGMENTS.has(segment) && !REGION_PATTERN.test(segment)),
    {
      // vpc-guard adds the prefix itself: "kms.amazonaws.com" would ask for an endpoint to
      // "com.amazonaws.<region>.kms.amazonaws.com", which no service offers.
      error: (issue) => `expected ${SHORT_SERVICE_NAME}, got ${JSON.stringify(issue.input)}`,
    },
  );

export const RequiredEndpointSchema = z.strictObject({
  /** Short service name: the part after `com.amazonaws.<region>.`. */
  service: ServiceSchema,
  type: z.enum(['Gateway', 'Interface']).default('Interface'),
  /** Overrides the profile's `privateDns` for this service (interface endpoints only). */
  privateDns: z.enum(['required', 'optional']).optional(),
});

export const EgressSchema = z.strictObject({
  natGateway: z.enum(['forbidden', 'allowed']).default('allowed'),
  internetRoute: z.enum(['forbidden', 'allowed']).default('allowed'),
});

export const EndpointsSchema = z.strictObject({
  required: z.array(RequiredEndpointSchema).default([]),
  privateDns: z.enum(['required', 'optional']).default('required'),
  coverage: z.enum(['every-workload-az', 'any-az']).default('every-workload-az'),
});

export const EndpointPolicySettingsSchema = z.strictObject({
  allowFullAccess: z.boolean().default(false),
  requirePrincipalScope: z.boolean().default(true),
  requireResourceScope: z.boolean().default(true),
  forbidWildcardActions: z.boolean().default(false),
  template: z.enum(ENDPOINT_POLICY_TEMPLATES).default('data-perimeter'),
});

export const RemediationSettingsSchema = z.strictObject({
  mode: z.enum(REMEDIATION_MODES).default('notify'),
  actions: z.array(RemediationActionSchema).default([]),
  maxChangesPerRun: z.number().int().min(0).max(1000).default(10),
});

export const ProfileSchema = z.strictObject({
  description: z.string().optional(),
  egress: EgressSchema.prefault({}),
  endpoints: EndpointsSchema.prefault({}),
  endpointPolicy: EndpointPolicySettingsSchema.prefault({}),
  remediation: RemediationSettingsSchema.prefault({}),
});

/**
 * Names every plain object answers to (`toString`, `constructor`, ...). A profile may not be called
 * that: a lookup anywhere that forgot `Object.hasOwn` would find the member instead of a profile.
 */
const RESERVED_PROFILE_NAMES: ReadonlySet<string> = new Set(
  Object.getOwnPropertyNames(Object.prototype),
);

const ProfileNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'expected a profile name of letters, digits, - and _')
  .refine((name) => !RESERVED_PROFILE_NAMES.has(name), {
    error: (issue) =>
      `expected a profile name other than ${JSON.stringify(issue.input)}, which is reserved (a member of every JavaScript object)`,
  });

const TagKeySchema = z.string().min(1).max(128);

export const GuardPolicySchema = z
  .strictObject({
    version: z.literal(GUARD_POLICY_VERSION),
    organization: z.strictObject({
      id: OrganizationIdSchema,
    }),
    profiles: z.record(ProfileNameSchema, ProfileSchema),
    assign: z.strictObject({
      /** A VPC tag whose value names the VPC's profile; it wins over the account map. */
      tag: TagKeySchema.default('vpc-guard:profile'),
      /** Account id to profile name. */
      accounts: z.record(AccountIdSchema, ProfileNameSchema).default({}),
      /** The profile of a VPC that neither its tag nor its account names. */
      default: ProfileNameSchema,
    }),
    exemptions: z
      .strictObject({
        /** A VPC tag whose value is `until=YYYY-MM-DD; reason=...`. */
        tag: TagKeySchema.default('vpc-guard:exempt'),
        /** The longest exemption accepted, in days from now; a longer one is reported as malformed. */
        maxDays: z.number().int().min(1).max(3660).default(366),
      })
      .prefault({}),
  })
  .superRefine((policy, ctx) => {
    const names = new Set(Object.keys(policy.profiles));
    const expectProfile = (name: string, path: (string | number)[]) => {
      if (!names.has(name)) {
        ctx.addIssue({
          code: 'custom',
          path,
          message: `expected the name of a profile (${[...names].map((n) => `"${n}"`).join(', ') || 'none defined'}), got "${name}"`,
        });
      }
    };
    expectProfile(policy.assign.default, ['assign', 'default']);
    for (const [account, profile] of Object.entries(policy.assign.accounts)) {
      expectProfile(profile, ['assign', 'accounts', account]);
    }
    for (const [name, profile] of Object.entries(policy.profiles)) {
      const seen = new Map<string, number>();
      profile.endpoints.required.forEach((required, index) => {
        const previous = seen.get(required.service);
        if (previous !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['profiles', name, 'endpoints', 'required', index, 'service'],
            message: `expected each service once, got "${required.service}" again (first at required[${previous}])`,
          });
        }
        seen.set(required.service, index);
        if (
          required.type === 'Gateway' &&
          required.service !== 's3' &&
          required.service !== 'dynamodb'
        ) {
          ctx.addIssue({
            code: 'custom',
            path: ['profiles', name, 'endpoints', 'required', index, 'type'],
            message: `expected "Interface" for "${required.service}": only s3 and dynamodb have gateway endpoints`,
          });
        }
      });
      if (
        profile.endpointPolicy.template === 'principal-org-only' &&
        (profile.endpointPolicy.requireResourceScope ||
          profile.endpointPolicy.forbidWildcardActions)
      ) {
        // The template leaves resources open by design: what it writes would be flagged at once.
        ctx.addIssue({
          code: 'custom',
          path: ['profiles', name, 'endpointPolicy', 'template'],
          message:
            'expected "data-perimeter" while requireResourceScope or forbidWildcardActions is true: "principal-org-only" leaves resources open, so what it writes would be flagged at once',
        });
      }
      if (profile.remediation.mode === 'auto' && profile.remediation.actions.length === 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['profiles', name, 'remediation', 'actions'],
          message: 'expected at least one action when mode is "auto" (list what may be changed)',
        });
      }
    }
  });

export type GuardPolicy = z.infer<typeof GuardPolicySchema>;
export type GuardPolicyInput = z.input<typeof GuardPolicySchema>;
export type Profile = z.infer<typeof ProfileSchema>;
export type RequiredEndpoint = z.infer<typeof RequiredEndpointSchema>;
export type EndpointPolicySettings = z.infer<typeof EndpointPolicySettingsSchema>;
export type RemediationMode = (typeof REMEDIATION_MODES)[number];
export type EndpointPolicyTemplate = (typeof ENDPOINT_POLICY_TEMPLATES)[number];
