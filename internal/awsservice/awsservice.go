// Package awsservice is the table of AWS services capstan can call: the name
// a runbook uses (boto3's client name, as SSM's aws:executeAwsApi accepts
// it), the IAM action prefix, the endpoint service id, the aws-sdk-go-v2
// package and the exact operation names of the API model. It imports no SDK
// so validation and policy derivation can use it cheaply.
//
// The table (services.json.gz) is generated from botocore's models by
// internal/awsmodel/gen and read on first use.
package awsservice

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"unicode"
)

//go:embed services.gz
var servicesGz []byte

// table is the decoded services.gz.
type table struct {
	Botocore string
	Services []Service
}

// loadTable decodes the embedded table once.
var loadTable = sync.OnceValue(decodeTable)

// decodeTable decodes the embedded table: the botocore version on the first
// line, then one tab-separated line per service (see internal/awsmodel/gen).
// The data is generated and embedded, so a failure is a broken build,
// reported as such.
func decodeTable() *table {
	zr, err := gzip.NewReader(bytes.NewReader(servicesGz))
	if err != nil {
		panic(fmt.Sprintf("awsservice: the embedded service table is corrupt (rebuild capstan): %v", err))
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		panic(fmt.Sprintf("awsservice: the embedded service table is corrupt (rebuild capstan): %v", err))
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	t := &table{Botocore: lines[0], Services: make([]Service, 0, len(lines)-1)}
	for _, line := range lines[1:] {
		f := strings.Split(line, "\t")
		if len(f) != 8 {
			panic(fmt.Sprintf("awsservice: the embedded service table is corrupt (rebuild capstan): %.40q", line))
		}
		s := Service{Name: f[0], IAMPrefix: f[1], EndpointID: f[2], SDKPackage: f[3], Protocol: f[4], APIVersion: f[5]}
		if f[6] != "" {
			s.Operations = strings.Split(f[6], ",")
		}
		if f[7] != "" {
			s.methods = map[string]string{}
			for _, kv := range strings.Split(f[7], ",") {
				op, method, _ := strings.Cut(kv, "=")
				s.methods[op] = method
			}
		}
		t.Services = append(t.Services, s)
	}
	return t
}

// BotocoreVersion returns the botocore release the table was generated
// from.
func BotocoreVersion() string { return loadTable().Botocore }

// Service describes one AWS service.
type Service struct {
	// Name is boto3's client name, the one runbooks use: "ec2", "logs",
	// "elbv2", "stepfunctions".
	Name string
	// IAMPrefix is the service prefix of its IAM actions: "ec2",
	// "elasticloadbalancing" for elbv2, "states" for stepfunctions.
	IAMPrefix string
	// EndpointID is the model's serviceId, which names the
	// AWS_ENDPOINT_URL_<ID> variable (spaces become underscores, upper case).
	EndpointID string
	// SDKPackage is the aws-sdk-go-v2 service package name.
	SDKPackage string
	// Protocol is the wire protocol capstan speaks to it (query, json,
	// rest-json, rest-xml, ec2, smithy-rpc-v2-cbor).
	Protocol string
	// APIVersion is the model's API version.
	APIVersion string
	// Operations are the model's operation names, sorted.
	Operations []string
	// methods holds the HTTP method of each operation of the services
	// whose IAM actions are named after it (API Gateway).
	methods map[string]string
}

// EndpointEnv returns the environment variable that overrides this
// service's endpoint, e.g. AWS_ENDPOINT_URL_CLOUDWATCH_LOGS.
func (s Service) EndpointEnv() string {
	return "AWS_ENDPOINT_URL_" + strings.ToUpper(strings.ReplaceAll(s.EndpointID, " ", "_"))
}

// Operation returns the model's spelling of api for this service, accepting
// the operation name in any case, boto3's snake_case and camelCase.
func (s Service) Operation(api string) (string, bool) {
	op, ok := opsOf(s)[opKey(api)]
	return op, ok
}

// serviceOps indexes each service's operations by normalised key, built
// per service on first use: a run calls a few of 424 services.
var serviceOps sync.Map // service name → map[string]string

func opsOf(s Service) map[string]string {
	if idx, ok := serviceOps.Load(s.Name); ok {
		return idx.(map[string]string)
	}
	idx := make(map[string]string, len(s.Operations))
	for _, op := range s.Operations {
		idx[opKey(op)] = op
	}
	actual, _ := serviceOps.LoadOrStore(s.Name, idx)
	return actual.(map[string]string)
}

// byName indexes the services by normalised name, built on first use, not
// at start-up: most commands never look a service up.
var byName = sync.OnceValue(func() map[string]int {
	services := loadTable().Services
	x := make(map[string]int, 3*len(services))
	for i, s := range services {
		x[nameKey(s.Name)] = i
	}
	// SDK package names and endpoint ids are accepted too, so
	// "cloudwatchlogs", "CloudWatch Logs" and "sfn" resolve.
	for i, s := range services {
		for _, alt := range []string{s.SDKPackage, s.EndpointID} {
			if _, taken := x[nameKey(alt)]; !taken {
				x[nameKey(alt)] = i
			}
		}
	}
	return x
})

// allOps indexes every operation of every service by its normalised key,
// for OperationName, which is not told the service; built on its first use.
var allOps = sync.OnceValue(func() map[string]string {
	x := map[string]string{}
	for _, s := range loadTable().Services {
		for _, op := range s.Operations {
			x[opKey(op)] = op
		}
	}
	return x
})

// nameKey folds case and ignores '-', '_' and spaces so "waf-regional",
// "WAF Regional" and "Codedeploy" all find their service.
func nameKey(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == '-' || r == '_' || r == ' ' {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

func opKey(s string) string {
	return strings.ToLower(strings.ReplaceAll(s, "_", ""))
}

// Lookup finds a service by the name SSM accepts, in any case.
func Lookup(name string) (Service, bool) {
	i, ok := byName()[nameKey(name)]
	if !ok {
		return Service{}, false
	}
	return loadTable().Services[i], true
}

// All returns every service, sorted by name.
func All() []Service {
	services := loadTable().Services
	out := make([]Service, len(services))
	copy(out, services)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Names returns the names of every service, sorted.
func Names() []string {
	services := loadTable().Services
	out := make([]string, len(services))
	for i, s := range services {
		out[i] = s.Name
	}
	sort.Strings(out)
	return out
}

// OperationName returns the model's spelling of an operation given in any
// spelling SSM accepts: "describe_instances", "describeInstances" and
// "DescribeInstances" all give "DescribeInstances", and boto3's
// "describe_iam_instance_profile_associations" gives
// "DescribeIamInstanceProfileAssociations". A name no supported service
// defines is converted by rule (snake_case words capitalised).
func OperationName(api string) string {
	if op, ok := allOps()[opKey(api)]; ok {
		return op
	}
	var b strings.Builder
	upper := true
	for _, r := range api {
		if r == '_' {
			upper = true
			continue
		}
		if upper {
			r = unicode.ToUpper(r)
			upper = false
		}
		b.WriteRune(r)
	}
	return b.String()
}
