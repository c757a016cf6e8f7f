/** The run stacks' templates: what the issue requires of a site and a peering, and that code and templates agree. */
import peering from '../cloudformation/peering.json';
import site from '../cloudformation/site.json';
import { parseExperimentInput } from '../lib/cloud/input';
import { planRun } from '../lib/cloud/run';
import { siteParameters } from '../lib/cloud/sites';

type Resource = {
  Type: string;
  Properties: Record<string, unknown>;
  CreationPolicy?: unknown;
  Condition?: string;
};
const resources = site.Resources as unknown as Record<string, Resource>;
const userData = JSON.stringify(resources.Instance?.Properties.UserData);

describe('site template', () => {
  it('declares exactly the parameters the provisioning code passes', () => {
    const run = planRun(
      parseExperimentInput({}, ['ap-northeast-1', 'eu-central-1']),
      { stage: 'dev', bucket: 'b', bucketRegion: 'eu-central-1' },
      { id: 'x', startTime: '2026-11-22T00:00:00Z' },
    );

    expect(
      Object.keys(siteParameters(run, run.sites[0]!, { zoneId: 'euc1-az2', boundaryArn: 'arn:b' })).sort(),
    ).toEqual(Object.keys(site.Parameters).sort());
  });

  it('runs Amazon Linux 2023 from the public SSM parameter, IMDSv2 only, no key pair', () => {
    const instance = resources.Instance!.Properties;

    expect(site.Parameters.ImageId).toMatchObject({
      Type: 'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>',
      Default: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
    });
    expect(instance.MetadataOptions).toEqual({
      HttpTokens: 'required',
      HttpEndpoint: 'enabled',
      HttpPutResponseHopLimit: 1,
    });
    expect(instance).not.toHaveProperty('KeyName');
  });

  it('opens no inbound port but the backbone one, and that only to the forwarder VPC', () => {
    const groups = Object.values(resources).filter((r) => r.Type === 'AWS::EC2::SecurityGroup');
    const ingress = JSON.stringify(groups[0]?.Properties.SecurityGroupIngress);

    expect(groups).toHaveLength(1);
    expect(Object.values(resources).filter((r) => r.Type === 'AWS::EC2::SecurityGroupIngress')).toEqual([]);
    expect(ingress).toBe(
      JSON.stringify({
        'Fn::If': [
          'HasBackboneIngress',
          [
            {
              IpProtocol: 'tcp',
              FromPort: { Ref: 'BackbonePort' },
              ToPort: { Ref: 'BackbonePort' },
              CidrIp: { Ref: 'BackbonePeerCidr' },
              Description: 'forwarder relay over the VPC peering',
            },
          ],
          { Ref: 'AWS::NoValue' },
        ],
      }),
    );
  });

  it('installs Node 22 and chrony on the Amazon Time Sync Service before it signals completion', () => {
    expect(userData).toContain('dnf install -y nodejs22 chrony');
    expect(userData).toContain('server 169.254.169.123 prefer iburst');
    expect(userData.indexOf('node-22 --version')).toBeLessThan(userData.indexOf('signal 0'));
    expect(resources.Instance?.CreationPolicy).toEqual({ ResourceSignal: { Count: 1, Timeout: 'PT15M' } });
  });

  it('gives the instance role the permissions boundary it is handed (the only way its stack may create it)', () => {
    expect(resources.InstanceRole?.Properties).toMatchObject({
      PermissionsBoundary: { Ref: 'InstanceRoleBoundaryArn' },
    });
  });

  it('lets the instance read and write its own run’s files only, and be managed by SSM', () => {
    const role = resources.InstanceRole!.Properties as {
      ManagedPolicyArns: unknown[];
      Policies: Array<{ PolicyDocument: { Statement: unknown[] } }>;
    };

    expect(role.ManagedPolicyArns).toEqual([
      { 'Fn::Sub': 'arn:${AWS::Partition}:iam::aws:policy/AmazonSSMManagedInstanceCore' },
    ]);
    expect(role.Policies[0]?.PolicyDocument.Statement).toEqual([
      expect.objectContaining({
        Action: ['s3:GetObject', 's3:PutObject'],
        Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${ResultsBucket}/${RunPrefix}*' },
      }),
    ]);
  });
});

describe('peering template', () => {
  it('creates the connection only on the requester side, and a route to the peer on each side', () => {
    const res = peering.Resources as unknown as Record<string, Resource>;

    expect(res.PeeringConnection).toMatchObject({
      Type: 'AWS::EC2::VPCPeeringConnection',
      Condition: 'IsRequester',
    });
    expect(res.PeerRoute?.Properties).toMatchObject({
      RouteTableId: { Ref: 'RouteTableId' },
      DestinationCidrBlock: { Ref: 'PeerCidr' },
    });
    expect(Object.keys(peering.Parameters).sort()).toEqual([
      'PeerCidr',
      'PeerRegion',
      'PeerVpcId',
      'PeeringConnectionId',
      'RouteTableId',
      'Side',
      'VpcId',
    ]);
  });
});
