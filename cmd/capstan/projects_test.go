package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// projectsConfig writes a configuration with two projects besides default.
func projectsConfig(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "config.yaml")
	body := `region: eu-west-1
projects:
  audit:
    region: us-east-2
    assumeRoles:
      - arn: arn:aws:iam::111111111111:role/Audit
        externalId: ext-secret
  legacy:
    credentials:
      provider: static
      accessKeyId: AKIAEXAMPLE
      secretKey: key:aws/legacy/secret
`
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestProjectsList(t *testing.T) {
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	dir := t.TempDir()
	cfg := projectsConfig(t, dir)
	db := filepath.Join(dir, "capstan.db")

	code, out, errOut := cli(t, "projects", "list", "--db", db, "--config", cfg)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[1], "default ") || !strings.HasPrefix(lines[2], "audit ") || !strings.HasPrefix(lines[3], "legacy ") {
		t.Fatalf("want default, audit, legacy in that order:\n%s", out)
	}
	for _, want := range []string{"us-east-2", "arn:aws:iam::111111111111:role/Audit", "static", "eu-west-1"} {
		if !strings.Contains(out, want) {
			t.Errorf("listing lacks %q:\n%s", want, out)
		}
	}

	code, out, errOut = cli(t, "projects", "list", "--db", db, "--config", cfg, "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, secret := range []string{"ext-secret", "key:aws/legacy/secret"} {
		if strings.Contains(out, secret) {
			t.Errorf("the listing shows %q:\n%s", secret, out)
		}
	}
	var got struct {
		Projects []struct {
			Name, Credentials, Region string
			AssumeRoles               []string
		}
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Projects) != 3 || got.Projects[1].Name != "audit" || got.Projects[1].Region != "us-east-2" || got.Projects[1].Credentials != "default" ||
		len(got.Projects[1].AssumeRoles) != 1 || got.Projects[2].Credentials != "static" || got.Projects[2].Region != "eu-west-1" {
		t.Fatalf("unexpected projects: %+v", got.Projects)
	}
}

// TestProjectsRunWithTheirSettings runs one runbook in three projects
// against moto: each execution's calls land in its project's Region, the
// audit project's in account 111111111111 through its assume-role chain,
// and global:REGION is the project's Region.
func TestProjectsRunWithTheirSettings(t *testing.T) {
	motoCLI(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	body := `region: eu-west-1
projects:
  west:
    region: us-west-2
  audit:
    region: us-east-2
    assumeRoles:
      - arn: arn:aws:iam::111111111111:role/Audit
`
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "capstan.db")
	run := func(args ...string) executionJSON {
		t.Helper()
		code, out, errOut := cli(t, append([]string{"run", "--db", db, "--config", cfg, "--output", "json"}, args...)...)
		if code != 0 {
			t.Fatalf("run %v: exit %d: %s %s", args, code, out, errOut)
		}
		return decodeExecution(t, out)
	}
	for _, tc := range []struct {
		project, account, region string
	}{
		{"", "123456789012", "eu-west-1"},
		{"west", "123456789012", "us-west-2"},
		{"audit", "111111111111", "us-east-2"},
	} {
		args := []string{"testdata/where.yaml"}
		if tc.project != "" {
			args = append(args, "--project", tc.project)
		}
		e := run(args...)
		want := map[string][]string{
			"Who.Account":  {tc.account},
			"Where.Region": {tc.region},
			"Mark.Arn":     {"arn:aws:ssm:" + tc.region + ":" + tc.account + ":parameter/where/" + tc.region},
		}
		if !reflect.DeepEqual(e.Outputs, want) {
			t.Errorf("project %q: outputs %v, want %v", tc.project, e.Outputs, want)
		}
	}

	// A stored runbook of a project runs there without --project, and
	// nowhere else.
	if code, out, errOut := cli(t, "docs", "put", "testdata/where.yaml", "--name", "Where", "--project", "audit", "--db", db, "--config", cfg); code != 0 || !strings.Contains(out, "in project audit") {
		t.Fatalf("docs put --project audit: exit %d: %s %s", code, out, errOut)
	}
	if e := run("Where"); e.Outputs["Who.Account"][0] != "111111111111" || e.Outputs["Where.Region"][0] != "us-east-2" {
		t.Errorf("runbook of audit run without --project: %v", e.Outputs)
	}
	code, _, errOut := cli(t, "run", "Where", "--project", "west", "--db", db, "--config", cfg)
	if code != 2 || !strings.Contains(errOut, "runbook Where belongs to project audit") {
		t.Errorf("running audit's runbook in west: exit %d: %s", code, errOut)
	}
	code, _, errOut = cli(t, "run", "Where", "--project", "nope", "--db", db, "--config", cfg)
	if code != 2 || !strings.Contains(errOut, `unknown project "nope"`) || !strings.Contains(errOut, "[default, audit, west]") {
		t.Errorf("an unknown project: exit %d: %s", code, errOut)
	}

	// A child execution runs in its parent's project: a runbook of default
	// started in audit by a parent of audit calls AWS as audit.
	if code, out, errOut := cli(t, "docs", "put", "testdata/where.yaml", "--name", "Where-Any", "--db", db, "--config", cfg); code != 0 {
		t.Fatalf("docs put Where-Any: exit %d: %s %s", code, out, errOut)
	}
	parent := run("testdata/where-child.yaml", "--project", "audit")
	if parent.AutomationExecutionStatus != "Success" || len(parent.StepExecutions) != 1 || len(parent.StepExecutions[0].Outputs["ExecutionId"]) != 1 {
		t.Fatalf("parent: %+v", parent)
	}
	code, out, errOut := cli(t, "executions", "get", parent.StepExecutions[0].Outputs["ExecutionId"][0], "--db", db, "--config", cfg, "--output", "json")
	if code != 0 {
		t.Fatalf("executions get child: exit %d: %s", code, errOut)
	}
	if child := decodeExecution(t, out); child.Outputs["Who.Account"][0] != "111111111111" || child.Outputs["Where.Region"][0] != "us-east-2" {
		t.Errorf("child of an audit parent: %v, want audit's account and Region", child.Outputs)
	}

	// executions list --project shows that project's executions only.
	code, out, errOut = cli(t, "executions", "list", "--project", "audit", "--db", db, "--config", cfg, "--output", "json")
	if code != 0 {
		t.Fatalf("executions list: exit %d: %s", code, errOut)
	}
	var list struct {
		AutomationExecutionMetadataList []struct{ DocumentName string }
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range list.AutomationExecutionMetadataList {
		names = append(names, m.DocumentName)
	}
	if !reflect.DeepEqual(names, []string{"Where-Any", "where-child", "Where", "where"}) {
		t.Errorf("executions of audit: %v, want the child, its parent, Where and where", names)
	}
	code, out, _ = cli(t, "executions", "list", "--project", "audit", "--db", db, "--config", cfg)
	if code != 0 || strings.Count(out, " audit ") != 4 {
		t.Errorf("executions list --project audit: exit %d, want four rows naming the project:\n%s", code, out)
	}

	// docs list --project shows that project's runbooks; the built-in
	// library is the default project's.
	code, out, errOut = cli(t, "docs", "list", "--project", "audit", "--db", db, "--config", cfg)
	if code != 0 {
		t.Fatalf("docs list --project audit: exit %d: %s", code, errOut)
	}
	if rows := strings.Split(strings.TrimSpace(out), "\n"); len(rows) != 2 || !strings.HasPrefix(rows[1], "Where ") || !strings.Contains(rows[1], " audit ") {
		t.Errorf("docs list --project audit:\n%s\nwant the header and Where of audit", out)
	}
	code, out, _ = cli(t, "docs", "list", "--project", "default", "--db", db, "--config", cfg)
	if code != 0 || strings.Contains(out, "Where ") || !strings.Contains(out, "Where-Any") || !strings.Contains(out, "AWS-RestartEC2Instance") {
		t.Errorf("docs list --project default: exit %d; want Where-Any and the library, not Where:\n%s", code, out)
	}
}

// TestProjectKeysLocal: on the local CLI too, a runbook reads only its
// project's keys; a key of another project fails the step naming the key
// and both projects.
func TestProjectKeysLocal(t *testing.T) {
	t.Setenv("CAPSTAN_MASTER_KEY", "")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	dir := t.TempDir()
	cfg := projectsConfig(t, dir)
	db := filepath.Join(dir, "capstan.db")
	for _, k := range []struct{ project, path, value string }{{"", "shared/nap", "PT0S"}, {"audit", "audit/nap", "PT0S"}} {
		args := []string{"keys", "put", k.path, "--db", db, "--config", cfg}
		if k.project != "" {
			args = append(args, "--project", k.project)
		}
		if code, _, errOut := runKeys(t, k.value, args...); code != 0 {
			t.Fatalf("keys put %s: exit %d: %s", k.path, code, errOut)
		}
	}
	if code, out, _ := runKeys(t, "", "keys", "list", "--project", "audit", "--db", db, "--config", cfg); code != 0 || out != "audit/nap\n" {
		t.Errorf("keys list --project audit: exit %d: %q", code, out)
	}
	nap := func(key string) string {
		return writeRunbook(t, "nap.yaml", "schemaVersion: '0.3'\nmainSteps:\n  - name: Nap\n    action: aws:sleep\n    inputs:\n      Duration: '{{ key:"+key+" }}'\n")
	}
	for _, tc := range []struct {
		project, key string
		ok           bool
	}{
		{"audit", "audit/nap", true},
		{"", "shared/nap", true},
		{"audit", "shared/nap", false},
		{"", "audit/nap", false},
	} {
		args := []string{"run", nap(tc.key), "--db", db, "--config", cfg, "--output", "json"}
		if tc.project != "" {
			args = append(args, "--project", tc.project)
		}
		code, out, errOut := cli(t, args...)
		if tc.ok {
			if code != 0 {
				t.Errorf("project %q reading %s: exit %d: %s %s", tc.project, tc.key, code, out, errOut)
			}
			continue
		}
		e := decodeExecution(t, out)
		owner, reader := "default", "default"
		if tc.key == "audit/nap" {
			owner = "audit"
		}
		if tc.project != "" {
			reader = tc.project
		}
		want := "key " + tc.key + " belongs to project " + owner + ": an execution of project " + reader
		if code != 1 || e.AutomationExecutionStatus != "Failed" || len(e.StepExecutions) != 1 || !strings.Contains(e.StepExecutions[0].FailureMessage, want) {
			t.Errorf("project %q reading %s: exit %d, %s, steps %+v; want the step failed with %q", tc.project, tc.key, code, e.AutomationExecutionStatus, e.StepExecutions, want)
		}
	}
}

// TestServeWarnsOfProjectsWithoutRegion: at start, the server names each
// project whose executions could not call AWS.
func TestServeWarnsOfProjectsWithoutRegion(t *testing.T) {
	motoCLI(t)
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	bin := capstanBinary(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("projects:\n  ops: {}\n  audit:\n    region: us-east-2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, cmd, out := startServe(t, bin, "--db", filepath.Join(dir, "capstan.db"), "--config", cfg, "--insecure-no-auth")
	stopServe(t, cmd, out)
	if !strings.Contains(out.String(), "WARNING: project ops: no AWS region set") || !strings.Contains(out.String(), "projects.ops.region") {
		t.Errorf("no warning naming project ops: %s", out.String())
	}
	if strings.Contains(out.String(), "project audit:") {
		t.Errorf("a warning about audit, which has a region: %s", out.String())
	}
}
