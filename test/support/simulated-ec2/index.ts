/*
 * The simulated AWS account every AWS-facing test and benchmark runs against: an in-memory EC2
 * behind the real SDK v3 client. Start with `SimulatedAccount.fromSnapshots`.
 */
export {
  SIMULATED_EC2_OPERATIONS,
  SimulatedAccount,
  type FaultInjection,
  type SimulatedAccountOptions,
  type SimulatedCall,
  type SimulatedClientOptions,
} from './account';
export { DEFAULT_ENDPOINT_SERVICES, type EndpointServiceDefinition } from './endpoint-services';
export { DEFAULT_ENDPOINT_POLICY } from './operations/vpc-endpoints';
export { PAGE_LIMITS, type PageLimits } from './pagination';
export {
  EC2_REQUEST_BUCKETS,
  type BucketCategory,
  type BucketSpec,
  type ThrottleOptions,
} from './throttling';
