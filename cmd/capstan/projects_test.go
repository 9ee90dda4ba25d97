package main

import (
	"encoding/json"
	"os"
	"path/filepath"
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
