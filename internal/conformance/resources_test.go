package conformance

import (
	"fmt"
	"strings"

	"github.com/capstan-run/capstan/internal/awsapi"
)

// The helpers below create, in moto, the resources the runbooks' parameters
// name, and read them back for the checks.

// dig follows a path of map keys and list indexes through a decoded response.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func str(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func (a *account) ami() string {
	out := a.call("ec2", "DescribeImages", map[string]any{"Owners": []any{"amazon"}})
	return str(dig(out, "Images", 0, "ImageId"))
}

func (a *account) instance() string {
	out := a.call("ec2", "RunInstances", map[string]any{"ImageId": a.ami(), "MinCount": 1, "MaxCount": 1, "InstanceType": "t3.micro"})
	return str(dig(out, "Instances", 0, "InstanceId"))
}

func (a *account) describeInstance(id string) map[string]any {
	out := a.call("ec2", "DescribeInstances", map[string]any{"InstanceIds": []any{id}})
	m, _ := dig(out, "Reservations", 0, "Instances", 0).(map[string]any)
	return m
}

func (a *account) instanceState(id string) string {
	return str(dig(a.describeInstance(id), "State", "Name"))
}

func (a *account) vpc() string {
	return str(dig(a.call("ec2", "CreateVpc", map[string]any{"CidrBlock": "10.0.0.0/16"}), "Vpc", "VpcId"))
}

func (a *account) subnet(vpc string) string {
	return str(dig(a.call("ec2", "CreateSubnet", map[string]any{"VpcId": vpc, "CidrBlock": "10.0.1.0/24", "AvailabilityZone": "us-east-1a"}), "Subnet", "SubnetId"))
}

func (a *account) securityGroup(vpc, name string) string {
	return str(a.call("ec2", "CreateSecurityGroup", map[string]any{"GroupName": name, "Description": name, "VpcId": vpc})["GroupId"])
}

func (a *account) volume() string {
	return str(a.call("ec2", "CreateVolume", map[string]any{"AvailabilityZone": "us-east-1a", "Size": 8})["VolumeId"])
}

func (a *account) snapshot(vol string) string {
	return str(a.call("ec2", "CreateSnapshot", map[string]any{"VolumeId": vol})["SnapshotId"])
}

func (a *account) bucket(name string) string {
	a.call("s3", "CreateBucket", map[string]any{"Bucket": name})
	return name
}

func (a *account) queue(name string) string {
	return str(a.call("sqs", "CreateQueue", map[string]any{"QueueName": name})["QueueUrl"])
}

func (a *account) queueAttributes(url string) map[string]any {
	out := a.call("sqs", "GetQueueAttributes", map[string]any{"QueueUrl": url, "AttributeNames": []any{"All"}})
	m, _ := out["Attributes"].(map[string]any)
	return m
}

func (a *account) topic(name string) string {
	return str(a.call("sns", "CreateTopic", map[string]any{"Name": name})["TopicArn"])
}

// kmsKey returns a new key's id and ARN.
func (a *account) kmsKey() (id, arn string) {
	out := a.call("kms", "CreateKey", map[string]any{})
	return str(dig(out, "KeyMetadata", "KeyId")), str(dig(out, "KeyMetadata", "Arn"))
}

func (a *account) table(name string) string {
	a.call("dynamodb", "CreateTable", map[string]any{
		"TableName":            name,
		"AttributeDefinitions": []any{map[string]any{"AttributeName": "id", "AttributeType": "S"}},
		"KeySchema":            []any{map[string]any{"AttributeName": "id", "KeyType": "HASH"}},
		"BillingMode":          "PAY_PER_REQUEST",
	})
	return name
}

// dbInstance creates an RDS instance and returns its identifier and its
// DbiResourceId.
func (a *account) dbInstance(id string, extra map[string]any) (string, string) {
	in := map[string]any{"DBInstanceIdentifier": id, "DBInstanceClass": "db.t3.micro", "Engine": "mysql",
		"MasterUsername": "admin", "MasterUserPassword": "password123", "AllocatedStorage": 20}
	for k, v := range extra {
		in[k] = v
	}
	out := a.call("rds", "CreateDBInstance", in)
	return id, str(dig(out, "DBInstance", "DbiResourceId"))
}

func (a *account) describeDB(id string) map[string]any {
	out := a.call("rds", "DescribeDBInstances", map[string]any{"DBInstanceIdentifier": id})
	m, _ := dig(out, "DBInstances", 0).(map[string]any)
	return m
}

func (a *account) trail(name, bucket string) string {
	return str(a.call("cloudtrail", "CreateTrail", map[string]any{"Name": name, "S3BucketName": bucket})["TrailARN"])
}

func (a *account) getTrail(name string) map[string]any {
	m, _ := a.call("cloudtrail", "GetTrail", map[string]any{"Name": name})["Trail"].(map[string]any)
	return m
}

func (a *account) classicLB(name string) string {
	a.call("elb", "CreateLoadBalancer", map[string]any{"LoadBalancerName": name, "AvailabilityZones": []any{"us-east-1a"},
		"Listeners": []any{map[string]any{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 80}}})
	return name
}

func (a *account) iamUser(name string) string {
	return str(dig(a.call("iam", "CreateUser", map[string]any{"UserName": name}), "User", "UserId"))
}

func (a *account) iamRole(name string) (id, arn string) {
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	out := a.call("iam", "CreateRole", map[string]any{"RoleName": name, "AssumeRolePolicyDocument": doc})
	return str(dig(out, "Role", "RoleId")), str(dig(out, "Role", "Arn"))
}

// errorCode is the AWS error code of a call that is expected to fail, or ""
// when it succeeds.
func (a *account) errorCode(service, op string, in map[string]any) string {
	_, err := a.inv.Invoke(a.ctx, service, op, in)
	if err == nil {
		return ""
	}
	if c := awsapi.ErrorCode(err); c != "" {
		return c
	}
	return strings.TrimSpace(err.Error())
}
