package targets

import (
	"context"
	"fmt"
	"strings"

	"github.com/capstan-run/capstan/internal/action"
)

// Node is one EC2 instance of the inventory, with the attributes Rundeck's
// EC2 node source gives: a name (tag Name, else the id), state, addresses,
// Region and every tag.
type Node struct {
	ID         string            `json:"InstanceId"`
	Name       string            `json:"Name"`
	State      string            `json:"State"`
	PrivateIP  string            `json:"PrivateIpAddress,omitempty"`
	PublicIP   string            `json:"PublicIpAddress,omitempty"`
	PrivateDNS string            `json:"PrivateDnsName,omitempty"`
	PublicDNS  string            `json:"PublicDnsName,omitempty"`
	Region     string            `json:"Region"`
	Tags       map[string]string `json:"Tags"`
}

// Filter is one DescribeInstances filter (tag:Env, instance-state-name...).
type Filter struct {
	Name   string
	Values []string
}

// ParseFilter reads NAME=V1,V2 (tag:Env=prod,staging).
func ParseFilter(s string) (Filter, error) {
	name, vals, ok := strings.Cut(s, "=")
	if !ok || name == "" || vals == "" {
		return Filter{}, fmt.Errorf("filter %q: expected NAME=VALUE[,VALUE...], e.g. tag:Env=prod or instance-state-name=running", s)
	}
	return Filter{Name: name, Values: strings.Split(vals, ",")}, nil
}

// Nodes lists the instances DescribeInstances returns for the filters,
// every page of them, in the order EC2 returns them. region names the
// Region the invoker calls; empty takes it from each instance's
// Availability Zone.
func Nodes(ctx context.Context, inv action.Invoker, filters []Filter, region string) ([]Node, error) {
	in := map[string]any{"MaxResults": 1000}
	if len(filters) > 0 {
		fs := make([]any, len(filters))
		for i, f := range filters {
			fs[i] = map[string]any{"Name": f.Name, "Values": toAny(f.Values)}
		}
		in["Filters"] = fs
	}
	var out []Node
	for range maxPages {
		resp, err := inv.Invoke(ctx, "ec2", "DescribeInstances", in)
		if err != nil {
			return nil, fmt.Errorf("listing EC2 instances: %w", err)
		}
		for _, res := range list(resp["Reservations"]) {
			for _, i := range list(res["Instances"]) {
				out = append(out, node(i, region))
			}
		}
		next := str(resp["NextToken"])
		if next == "" {
			return out, nil
		}
		in["NextToken"] = next
	}
	return nil, fmt.Errorf("DescribeInstances still had more pages after %d", maxPages)
}

func node(i map[string]any, region string) Node {
	n := Node{
		ID:         str(i["InstanceId"]),
		PrivateIP:  str(i["PrivateIpAddress"]),
		PublicIP:   str(i["PublicIpAddress"]),
		PrivateDNS: str(i["PrivateDnsName"]),
		PublicDNS:  str(i["PublicDnsName"]),
		Tags:       map[string]string{},
	}
	if st, ok := i["State"].(map[string]any); ok {
		n.State = str(st["Name"])
	}
	for _, t := range list(i["Tags"]) {
		n.Tags[str(t["Key"])] = str(t["Value"])
	}
	n.Name = n.Tags["Name"]
	if n.Name == "" {
		n.Name = n.ID
	}
	if region != "" {
		n.Region = region
	} else if p, ok := i["Placement"].(map[string]any); ok {
		// An Availability Zone is its Region and a letter (us-east-1a).
		az := str(p["AvailabilityZone"])
		n.Region = strings.TrimRightFunc(az, func(r rune) bool { return r >= 'a' && r <= 'z' })
	}
	return n
}
