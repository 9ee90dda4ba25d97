package policy

import (
	"strings"
)

// Scope is the account, region and partition resource ARNs are built in.
// An empty field becomes "*" in the ARNs (any account, any region).
type Scope struct {
	Partition string
	Region    string
	Account   string
}

func (s Scope) partition() string {
	if s.Partition == "" {
		return "aws"
	}
	return s.Partition
}

func (s Scope) region() string  { return orAny(s.Region) }
func (s Scope) account() string { return orAny(s.Account) }

func orAny(s string) string {
	if s == "" {
		return "*"
	}
	return s
}

// resourceRule narrows the actions of one IAM service prefix: members are
// the request or input members that name the resource, tried in order, and
// arn builds the resource's ARN from one literal value. applies says which
// of the service's actions accept a resource (nil: all of them).
type resourceRule struct {
	members []string
	arn     func(sc Scope, v string) string
	applies func(op string) bool
}

// rules hold what the inputs say about resources, by IAM prefix. The
// actions come from the action declarations; this table only knows which
// request member names which resource and how its ARN is spelt.
var rules = map[string][]resourceRule{
	"ec2": {{
		members: []string{"InstanceIds", "InstanceId"},
		arn: func(sc Scope, v string) string {
			return "arn:" + sc.partition() + ":ec2:" + sc.region() + ":" + sc.account() + ":instance/" + v
		},
		// EC2's Describe actions accept no resource but "*".
		applies: notPrefix("Describe"),
	}},
	// Object actions are narrowed by s3Objects, with the key.
	"s3": {{
		members: []string{"Bucket", "BucketName"},
		arn: func(sc Scope, v string) string {
			return "arn:" + sc.partition() + ":s3:::" + v
		},
		applies: notExact("ListAllMyBuckets"),
	}},
	"ssm": {{
		members: []string{"Name", "Names"},
		arn: func(sc Scope, v string) string {
			return "arn:" + sc.partition() + ":ssm:" + sc.region() + ":" + sc.account() + ":parameter/" + strings.TrimPrefix(v, "/")
		},
		applies: func(op string) bool {
			return strings.Contains(op, "Parameter") && !strings.HasPrefix(op, "DescribeParameters")
		},
	}},
	"iam": {
		{
			members: []string{"InstanceProfileName"},
			arn: func(sc Scope, v string) string {
				return "arn:" + sc.partition() + ":iam::" + sc.account() + ":instance-profile/" + v
			},
			applies: notExact("PassRole"),
		},
		{
			members: []string{"RoleName"},
			arn: func(sc Scope, v string) string {
				return "arn:" + sc.partition() + ":iam::" + sc.account() + ":role/" + v
			},
			applies: notExact("PassRole"),
		},
		{
			members: []string{"UserName"},
			arn: func(sc Scope, v string) string {
				return "arn:" + sc.partition() + ":iam::" + sc.account() + ":user/" + v
			},
			applies: notExact("PassRole"),
		},
	},
	"lambda": {{
		members: []string{"FunctionName"},
		arn: func(sc Scope, v string) string {
			if strings.HasPrefix(v, "arn:") {
				return v
			}
			return "arn:" + sc.partition() + ":lambda:" + sc.region() + ":" + sc.account() + ":function:" + v
		},
	}},
	"sns":    {{members: []string{"TopicArn", "NotificationArn"}, arn: arnOnly}},
	"states": {{members: []string{"stateMachineArn", "StateMachineArn", "executionArn"}, arn: arnOnly}},
	"cloudformation": {{
		members: []string{"StackName"},
		arn: func(sc Scope, v string) string {
			if strings.HasPrefix(v, "arn:") {
				return v
			}
			return "arn:" + sc.partition() + ":cloudformation:" + sc.region() + ":" + sc.account() + ":stack/" + v + "/*"
		},
	}},
	"logs": {{
		members: []string{"logGroupName"},
		arn: func(sc Scope, v string) string {
			return "arn:" + sc.partition() + ":logs:" + sc.region() + ":" + sc.account() + ":log-group:" + v + ":*"
		},
	}},
	"dynamodb": {{
		members: []string{"TableName"},
		arn: func(sc Scope, v string) string {
			return "arn:" + sc.partition() + ":dynamodb:" + sc.region() + ":" + sc.account() + ":table/" + v
		},
	}},
}

// roleInputs name a role that a step hands to a service (iam:PassRole).
var roleInputs = []string{"ServiceRoleArn", "RoleARN", "RoleArn", "roleArn", "ExecutionRoleArn", "IamRoleArn"}

func arnOnly(_ Scope, v string) string {
	if strings.HasPrefix(v, "arn:") {
		return v
	}
	return ""
}

func notPrefix(p string) func(string) bool {
	return func(op string) bool { return !strings.HasPrefix(op, p) }
}

func notExact(name string) func(string) bool {
	return func(op string) bool { return op != name }
}

// resources returns the resources one IAM action of a step may touch: the
// ARNs its literal inputs fix, or "*" when they fix none.
func resources(sc Scope, iamAction string, inputs map[string]any) []string {
	prefix, op, _ := strings.Cut(iamAction, ":")
	if iamAction == "iam:PassRole" {
		for _, k := range roleInputs {
			if vs, ok := literals(inputs[k]); ok {
				return vs
			}
		}
		return []string{"*"}
	}
	if prefix == "s3" && strings.Contains(op, "Object") {
		return s3Objects(sc, inputs)
	}
	for _, r := range rules[prefix] {
		if r.applies != nil && !r.applies(op) {
			continue
		}
		for _, m := range r.members {
			vs, ok := literals(inputs[m])
			if !ok {
				continue
			}
			out := make([]string, 0, len(vs))
			for _, v := range vs {
				a := r.arn(sc, v)
				if a == "" {
					return []string{"*"}
				}
				out = append(out, a)
			}
			return out
		}
	}
	return []string{"*"}
}

// s3Objects narrows object actions to bucket/key, or bucket/* when the key
// is not fixed.
func s3Objects(sc Scope, inputs map[string]any) []string {
	bucket, ok := literals(inputs["Bucket"])
	if !ok || len(bucket) != 1 {
		return []string{"*"}
	}
	key := "*"
	if k, ok := literals(inputs["Key"]); ok && len(k) == 1 {
		key = k[0]
	}
	return []string{"arn:" + sc.partition() + ":s3:::" + bucket[0] + "/" + key}
}

// literals returns a string or a list of strings that holds no template and
// no wildcard, the only values that fix a resource.
func literals(v any) ([]string, bool) {
	var out []string
	switch x := v.(type) {
	case string:
		out = []string{x}
	case []string:
		out = x
	case []any:
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
	default:
		return nil, false
	}
	if len(out) == 0 {
		return nil, false
	}
	for _, s := range out {
		if s == "" || strings.Contains(s, "{{") || strings.ContainsAny(s, "*?") {
			return nil, false
		}
	}
	return out, true
}
