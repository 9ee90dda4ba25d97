package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunScriptCallsAWSAsTheRunbookRole runs a boto3 script against moto: the
// script's calls reach the endpoint capstan uses, signed with the runbook's
// assumed role, and its result feeds the step's selectors.
func TestRunScriptCallsAWSAsTheRunbookRole(t *testing.T) {
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		t.Fatalf("this test needs python3 with boto3: %v", err)
	}
	moto := motoCLI(t)
	db := filepath.Join(t.TempDir(), "capstan.db")
	code, out, errOut := cli(t, "run", "testdata/run-script-boto3.yaml", "--db", db, "--output", "json")
	if code != 0 {
		t.Fatalf("run: exit %d %s %s", code, out, errOut)
	}
	e := decodeExecution(t, out)
	if got := e.Outputs["whoami.Arn"]; len(got) != 1 || !strings.Contains(got[0], ":assumed-role/capstan-script/") {
		t.Errorf("whoami.Arn = %v, want the runbook's assumed role", got)
	}
	if got := e.Outputs["whoami.Account"]; len(got) != 1 || got[0] != "123456789012" {
		t.Errorf("whoami.Account = %v, want moto's account", got)
	}
	// The queue the script created is in the moto capstan talks to.
	if got := e.Outputs["whoami.QueueUrl"]; len(got) != 1 || !strings.HasPrefix(got[0], moto.URL+"/") {
		t.Errorf("whoami.QueueUrl = %v, want a queue of the moto at %s", got, moto.URL)
	}
}
