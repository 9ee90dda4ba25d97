package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/capstan-run/capstan/internal/awsapi"
)

const fleetRunbook = `schemaVersion: '0.3'
parameters:
  InstanceId: {type: String}
mainSteps:
  - name: mark
    action: aws:createTags
    inputs:
      ResourceType: EC2
      ResourceIds: ['{{ InstanceId }}']
      Tags: [{Key: Patched, Value: 'yes'}]
`

// launchEnv starts n moto instances tagged Env=env and Name=name.
func launchEnv(t *testing.T, n int, env, name string) {
	t.Helper()
	cfg, err := awsapi.LoadConfig(context.Background(), awsapi.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tags := []any{map[string]any{"Key": "Env", "Value": env}, map[string]any{"Key": "Name", "Value": name}}
	_, err = awsapi.New(cfg, awsapi.Options{Limiters: &awsapi.Limiters{}}).Invoke(context.Background(), "ec2", "RunInstances", map[string]any{
		"ImageId": "ami-12c6146b", "MinCount": n, "MaxCount": n, "TagSpecifications": []any{map[string]any{"ResourceType": "instance", "Tags": tags}}})
	if err != nil {
		t.Fatal(err)
	}
}

func TestRunFleetAndNodes(t *testing.T) {
	motoCLI(t)
	launchEnv(t, 3, "prod", "web")
	launchEnv(t, 1, "dev", "test")
	dir := t.TempDir()
	db := filepath.Join(dir, "capstan.db")
	book := filepath.Join(dir, "patch.yaml")
	if err := os.WriteFile(book, []byte(fleetRunbook), 0o600); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := cli(t, "nodes", "--db", db, "--filter", "tag:Env=prod", "--output", "json")
	if code != 0 {
		t.Fatalf("nodes: exit %d: %s", code, errOut)
	}
	var nodes struct {
		Nodes []struct {
			InstanceId, Name, State, PrivateIpAddress, Region string
			Tags                                              map[string]string
		}
	}
	if err := json.Unmarshal([]byte(out), &nodes); err != nil {
		t.Fatal(err)
	}
	if len(nodes.Nodes) != 3 || nodes.Nodes[0].Name != "web" || nodes.Nodes[0].Tags["Env"] != "prod" || nodes.Nodes[0].Region != "us-east-1" || nodes.Nodes[0].PrivateIpAddress == "" {
		t.Errorf("nodes --filter tag:Env=prod: %+v", nodes.Nodes)
	}

	code, out, errOut = cli(t, "run", book, "--db", db, "--target-parameter-name", "InstanceId", "--targets", "Key=tag:Env,Values=prod", "--max-concurrency", "20%", "--max-errors", "1")
	if code != 0 {
		t.Fatalf("run: exit %d; stdout %s; stderr %s", code, out, errOut)
	}
	for _, want := range []string{"targets: 3 (i-", "children: 2 pending, 1 running, 0 succeeded, 0 failed (of 3)", "children: 0 pending, 0 running, 3 succeeded, 0 failed (of 3)", "Success in"} {
		if !strings.Contains(out, want) {
			t.Errorf("run output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = cli(t, "nodes", "--db", db, "--filter", "tag:Patched=yes")
	if code != 0 || strings.Count(out, "Env=prod,Name=web,Patched=yes") != 3 || strings.Contains(out, "Env=dev") {
		t.Errorf("instances patched by the fleet (exit %d):\n%s\nwant the 3 prod ones", code, out)
	}

	for _, bad := range [][]string{
		{"--target-parameter-name", "InstanceId", "--targets", "Key=tag:Env"},
		{"--target-parameter-name", "InstanceId", "--targets", "Key=tag:Env,Values=prod", "--targets", "Key=tag:Team,Values=a"},
		{"--target-parameter-name", "InstanceId", "--targets", "Key=tag:Env,Values=prod", "--max-concurrency", "0"},
	} {
		code, _, errOut = cli(t, append([]string{"run", book, "--db", db}, bad...)...)
		if code != 2 || !strings.Contains(errOut, "capstan:") {
			t.Errorf("run %v: exit %d, stderr %q; want bad usage (2) with a message", bad, code, errOut)
		}
	}
	if code, _, errOut = cli(t, "nodes", "--db", db, "--filter", "tag:Env"); code != 2 || !strings.Contains(errOut, "expected NAME=VALUE") {
		t.Errorf("nodes with a bad filter: exit %d, %q", code, errOut)
	}
}
