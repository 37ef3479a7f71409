/**
 * The EC2 API calls that change what vpc-guard judges (AWS-FACTS.md, "EventBridge"): the EventBridge
 * rules forward exactly these, and the api-event function accepts exactly these, so one list serves
 * both and they cannot drift apart.
 */
export const EC2_API_CALL_EVENT_NAMES = [
  'CreateNatGateway',
  'DeleteNatGateway',
  'CreateVpcEndpoint',
  'ModifyVpcEndpoint',
  'DeleteVpcEndpoints',
  'CreateRoute',
  'ReplaceRoute',
  'DeleteRoute',
  'AttachInternetGateway',
  'AssociateRouteTable',
  'CreateSubnet',
] as const;

/** One of {@link EC2_API_CALL_EVENT_NAMES}. */
export type Ec2ApiCallEventName = (typeof EC2_API_CALL_EVENT_NAMES)[number];
