// Package targets resolves the targets of a rate-controlled run (SSM's
// Targets and TargetMaps) into the list of values that each get a child
// execution, and holds SSM's MaxConcurrency / MaxErrors arithmetic and the
// EC2 node inventory used to pick targets.
package targets

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/capstan-run/capstan/internal/action"
)

// Target is one entry of SSM's Targets: a key and its values.
type Target struct {
	Key    string   `json:"Key"`
	Values []string `json:"Values"`
}

// The target keys SSM Automation accepts besides tag:KEY.
const (
	KeyParameterValues = "ParameterValues"
	KeyResourceGroup   = "ResourceGroup"
	KeyEC2Instance     = "AWS::EC2::Instance"
	KeyInstanceIDs     = "InstanceIds"
)

// SSM's limits on StartAutomationExecution (API_StartAutomationExecution,
// API_Target).
const (
	MaxTargets      = 5
	MaxTargetValues = 50
	MaxTargetMaps   = 300
)

// InvalidError is a request SSM refuses with
// InvalidAutomationExecutionParametersException.
type InvalidError struct {
	Message string
}

func (e *InvalidError) Error() string { return e.Message }

func invalid(format string, args ...any) error {
	return &InvalidError{Message: fmt.Sprintf(format, args...)}
}

// Validate checks a request's targets as SSM does before anything runs:
// Targets and TargetMaps exclude each other, Targets needs a
// TargetParameterName, keys are SSM's, and at most one tag or resource group
// is named.
func Validate(parameterName string, list []Target, maps []map[string][]string) error {
	if len(list) > 0 && len(maps) > 0 {
		return invalid("Targets and TargetMaps cannot be specified together")
	}
	if len(list) > MaxTargets {
		return invalid("Targets has %d entries; at most %d are allowed", len(list), MaxTargets)
	}
	if len(maps) > MaxTargetMaps {
		return invalid("TargetMaps has %d maps; at most %d are allowed", len(maps), MaxTargetMaps)
	}
	if len(list) > 0 && parameterName == "" {
		return invalid("TargetParameterName is required when Targets are specified")
	}
	grouping := 0
	for i, t := range list {
		switch {
		case strings.HasPrefix(t.Key, "tag:") && len(t.Key) > len("tag:"):
			grouping++
		case t.Key == KeyResourceGroup:
			grouping++
		case t.Key == KeyParameterValues:
		case t.Key == KeyEC2Instance, t.Key == KeyInstanceIDs:
			if !slices.Equal(t.Values, []string{"*"}) {
				return invalid("Targets[%d]: key %s takes the single value *, got %q", i, t.Key, t.Values)
			}
		default:
			return invalid("Targets[%d]: target key %q is not one of ParameterValues, ResourceGroup, tag:<key>, AWS::EC2::Instance, InstanceIds", i, t.Key)
		}
		if len(t.Values) == 0 {
			return invalid("Targets[%d] (%s) has no values", i, t.Key)
		}
		if len(t.Values) > MaxTargetValues {
			return invalid("Targets[%d] (%s) has %d values; at most %d are allowed", i, t.Key, len(t.Values), MaxTargetValues)
		}
	}
	if grouping > 1 {
		return invalid("Only one resource group or tag can be specified at a time")
	}
	for i, m := range maps {
		if len(m) == 0 {
			return invalid("TargetMaps[%d] is empty", i)
		}
	}
	return nil
}

// Resolve lists the target values of Targets, in the order SSM's APIs return
// them, without duplicates: ParameterValues as given, tag:KEY through the
// Resource Groups Tagging API (any resource type, its id taken from the ARN),
// ResourceGroup through ListGroupResources, and AWS::EC2::Instance or
// InstanceIds * as every instance that is not terminated. Every API is read
// to its last page.
func Resolve(ctx context.Context, inv action.Invoker, list []Target) ([]string, error) {
	typed, err := ResolveTyped(ctx, inv, list)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(typed))
	for i, r := range typed {
		out[i] = r.Value
	}
	return out, nil
}

// Resolved is one target with its resource type: AWS::EC2::Instance for
// the EC2 keys, the tagging API's service:type (ec2:instance, s3:bucket)
// for a resource found by tag or group, ParameterValues for a given value.
type Resolved struct {
	Value, Type string
}

// ResolveTyped is Resolve with each target's resource type, for previews.
func ResolveTyped(ctx context.Context, inv action.Invoker, list []Target) ([]Resolved, error) {
	seen := map[string]bool{}
	var out []Resolved
	add := func(r Resolved) {
		if r.Value != "" && !seen[r.Value] {
			seen[r.Value] = true
			out = append(out, r)
		}
	}
	for _, t := range list {
		var vals []Resolved
		var err error
		switch {
		case t.Key == KeyParameterValues:
			for _, v := range t.Values {
				vals = append(vals, Resolved{Value: v, Type: KeyParameterValues})
			}
		case strings.HasPrefix(t.Key, "tag:"):
			vals, err = byTag(ctx, inv, strings.TrimPrefix(t.Key, "tag:"), t.Values)
		case t.Key == KeyResourceGroup:
			for _, g := range t.Values {
				var more []Resolved
				more, err = byGroup(ctx, inv, g)
				if err != nil {
					break
				}
				vals = append(vals, more...)
			}
		case t.Key == KeyEC2Instance, t.Key == KeyInstanceIDs:
			var nodes []Node
			nodes, err = Nodes(ctx, inv, nil, "")
			for _, n := range nodes {
				if n.State != "terminated" && n.State != "shutting-down" {
					vals = append(vals, Resolved{Value: n.ID, Type: KeyEC2Instance})
				}
			}
		default:
			err = invalid("target key %q is not one of ParameterValues, ResourceGroup, tag:<key>, AWS::EC2::Instance, InstanceIds", t.Key)
		}
		if err != nil {
			return nil, fmt.Errorf("resolving target %s: %w", t.Key, err)
		}
		for _, v := range vals {
			add(v)
		}
	}
	return out, nil
}

// maxPages bounds every paginated read: a service that keeps answering with
// a next token cannot hold a run forever.
const maxPages = 10000

func byTag(ctx context.Context, inv action.Invoker, key string, values []string) ([]Resolved, error) {
	var out []Resolved
	in := map[string]any{"TagFilters": []any{map[string]any{"Key": key, "Values": toAny(values)}}, "ResourcesPerPage": 100}
	for range maxPages {
		resp, err := inv.Invoke(ctx, "resourcegroupstaggingapi", "GetResources", in)
		if err != nil {
			return nil, err
		}
		for _, r := range list(resp["ResourceTagMappingList"]) {
			out = append(out, fromARN(str(r["ResourceARN"])))
		}
		next := str(resp["PaginationToken"])
		if next == "" {
			return out, nil
		}
		in["PaginationToken"] = next
	}
	return nil, fmt.Errorf("GetResources still had more pages after %d", maxPages)
}

func byGroup(ctx context.Context, inv action.Invoker, group string) ([]Resolved, error) {
	var out []Resolved
	in := map[string]any{"Group": group, "MaxResults": 50}
	for range maxPages {
		resp, err := inv.Invoke(ctx, "resource-groups", "ListGroupResources", in)
		if err != nil {
			return nil, fmt.Errorf("resource group %s: %w", group, err)
		}
		items := list(resp["Resources"])
		if len(items) > 0 {
			for _, r := range items {
				id, _ := r["Identifier"].(map[string]any)
				out = append(out, fromARN(str(id["ResourceArn"])))
			}
		} else {
			for _, r := range list(resp["ResourceIdentifiers"]) {
				out = append(out, fromARN(str(r["ResourceArn"])))
			}
		}
		next := str(resp["NextToken"])
		if next == "" {
			return out, nil
		}
		in["NextToken"] = next
	}
	return nil, fmt.Errorf("ListGroupResources still had more pages after %d", maxPages)
}

func fromARN(arn string) Resolved {
	return Resolved{Value: ResourceID(arn), Type: ResourceType(arn)}
}

// ResourceType names an ARN's resource type as the tagging API does:
// service:type (ec2:instance), or the service alone when the ARN has no
// type (s3 for a bucket).
func ResourceType(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	res := parts[5]
	if i := strings.IndexAny(res, "/:"); i >= 0 {
		return parts[2] + ":" + res[:i]
	}
	return parts[2]
}

// ResourceID is the id SSM passes to a child for a resource ARN: the part
// after the resource type (i-0abc for arn:aws:ec2:...:instance/i-0abc, the
// bucket name for arn:aws:s3:::bucket).
func ResourceID(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return arn
	}
	res := parts[5]
	if i := strings.LastIndexByte(res, '/'); i >= 0 {
		return res[i+1:]
	}
	if i := strings.IndexByte(res, ':'); i >= 0 {
		return res[i+1:]
	}
	return res
}

func list(v any) []map[string]any {
	items, _ := v.([]any)
	out := make([]map[string]any, 0, len(items))
	for _, it := range items {
		if m, ok := it.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
