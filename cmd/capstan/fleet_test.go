package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

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

// TestFleetResumesAfterSIGKILL kills capstan while a fleet's children sleep
// and resumes the fleet: every target runs once (a child's PutParameter
// without Overwrite would fail a second time), and no more than
// MaxConcurrency children ever overlap, across the restart.
func TestFleetResumesAfterSIGKILL(t *testing.T) {
	motoCLI(t)
	bin := capstanBinary(t)
	db := filepath.Join(t.TempDir(), "capstan.db")
	cmd := exec.Command(bin, "run", "testdata/run-fleet-nap.yaml", "--db", db, "--output", "json",
		"--target-parameter-name", "Name", "--targets", "Key=ParameterValues,Values=a,b,c,d,e", "--max-concurrency", "2", "--lease", shortLease)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	type meta struct {
		AutomationExecutionId, ParentAutomationExecutionId, CurrentStepName string
		ExecutionStartTime                                                  time.Time
		ExecutionEndTime                                                    *time.Time
	}
	list := func() []meta {
		_, s, _ := cli(t, "executions", "list", "--db", db, "--output", "json")
		var l struct{ AutomationExecutionMetadataList []meta }
		_ = json.Unmarshal([]byte(s), &l)
		return l.AutomationExecutionMetadataList
	}
	parent := ""
	for i := 0; i < 400 && parent == ""; i++ {
		time.Sleep(50 * time.Millisecond)
		napping := 0
		for _, m := range list() {
			if m.CurrentStepName == "nap" {
				napping++
				parent = m.ParentAutomationExecutionId
			}
		}
		if napping < 2 {
			parent = ""
		}
	}
	if parent == "" {
		t.Fatalf("two children never reached their nap: %s", out.String())
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()

	code, res, errOut := resumeAfterLease(t, db, parent)
	if code != 0 {
		t.Fatalf("resume: exit %d %s %s", code, res, errOut)
	}
	if e := decodeExecution(t, res); e.AutomationExecutionStatus != "Success" {
		t.Fatalf("resumed fleet ended %s: %s", e.AutomationExecutionStatus, e.FailureMessage)
	}
	var kids []meta
	for _, m := range list() {
		if m.ParentAutomationExecutionId == parent {
			kids = append(kids, m)
		}
	}
	if len(kids) != 5 {
		t.Fatalf("%d children, want one per target (5)", len(kids))
	}
	for _, k := range kids {
		if k.ExecutionEndTime == nil {
			t.Fatalf("child %s has not ended", k.AutomationExecutionId)
		}
		overlap := 0
		for _, o := range kids {
			if !o.ExecutionStartTime.After(k.ExecutionStartTime) && o.ExecutionEndTime.After(k.ExecutionStartTime) {
				overlap++
			}
		}
		if overlap > 2 {
			t.Errorf("%d children were running when %s started; MaxConcurrency is 2", overlap, k.AutomationExecutionId)
		}
	}
}
