package enginebench

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Direct makes the runbook's ten calls with the typed SDK clients, the way a
// hand-written Go program would, clients made once per run as a program
// makes them once.
func Direct(ctx context.Context, cfg aws.Config, name string) error {
	ssmc, stsc, ec2c := ssm.NewFromConfig(cfg), sts.NewFromConfig(cfg), ec2.NewFromConfig(cfg)
	iamc, logsc := iam.NewFromConfig(cfg), cloudwatchlogs.NewFromConfig(cfg)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := ssmc.PutParameter(ctx, &ssm.PutParameterInput{Name: &name, Value: aws.String("v1"), Type: ssmtypes.ParameterTypeString, Overwrite: aws.Bool(true)}); err != nil {
		return err
	}
	if _, err := ssmc.GetParameter(ctx, &ssm.GetParameterInput{Name: &name}); err != nil {
		return err
	}
	if _, err := ssmc.DescribeParameters(ctx, &ssm.DescribeParametersInput{}); err != nil {
		return err
	}
	if _, err := stsc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		return err
	}
	vpcs, err := ec2c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	if err != nil {
		return err
	}
	filter := []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{*vpcs.Vpcs[0].VpcId}}}
	if _, err := ec2c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: filter}); err != nil {
		return err
	}
	if _, err := ec2c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{}); err != nil {
		return err
	}
	if _, err := iamc.ListRoles(ctx, &iam.ListRolesInput{}); err != nil {
		return err
	}
	if _, err := s3c.ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
		return err
	}
	_, err = logsc.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/capstan")})
	return err
}
