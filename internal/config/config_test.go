package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const sample = `# system
credentials:
  provider: ec2
assumeRoles:
  - arn: arn:aws:iam::123456789012:role/capstan-base
region: eu-west-1
keys:
  masterKeyFile: /etc/capstan/master.key
db: /var/lib/capstan/capstan.db
serve:
  addr: 127.0.0.1:8080
projects:
  audit:
    assumeRoles:
      - arn: arn:aws:iam::123456789012:role/hop1
        sessionName: capstan-audit
      - arn: arn:aws:iam::111111111111:role/PerformSecurityAudit
        externalId: ext-1
        durationSeconds: 3600
    region: us-east-2
  legacy:
    credentials:
      provider: static
      accessKeyId: AKIAEXAMPLE
      secretKey: key:aws/legacy/secret
  noregion: {}
`

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestResolve(t *testing.T) {
	c, err := Load(writeFile(t, sample))
	if err != nil {
		t.Fatal(err)
	}
	if c.DB != "/var/lib/capstan/capstan.db" || c.Serve.Addr != "127.0.0.1:8080" || c.Keys.MasterKeyFile != "/etc/capstan/master.key" {
		t.Fatalf("storage settings not read: %+v", c)
	}
	base := AssumeRole{ARN: "arn:aws:iam::123456789012:role/capstan-base"}
	tests := []struct {
		name    string
		project string
		flags   Overrides
		want    Profile
	}{
		{"system only", "", Overrides{},
			Profile{Credentials: Credentials{Provider: "ec2"}, AssumeRoles: []AssumeRole{base}, Region: "eu-west-1"}},
		{"project overrides chain and region", "audit", Overrides{},
			Profile{Project: "audit", Credentials: Credentials{Provider: "ec2"}, Region: "us-east-2", AssumeRoles: []AssumeRole{
				{ARN: "arn:aws:iam::123456789012:role/hop1", SessionName: "capstan-audit"},
				{ARN: "arn:aws:iam::111111111111:role/PerformSecurityAudit", ExternalID: "ext-1", DurationSeconds: 3600},
			}}},
		{"project replaces provider", "legacy", Overrides{},
			Profile{Project: "legacy", Credentials: Credentials{Provider: "static", AccessKeyID: "AKIAEXAMPLE", SecretKey: "key:aws/legacy/secret"},
				AssumeRoles: []AssumeRole{base}, Region: "eu-west-1"}},
		{"flags override both", "audit", Overrides{Region: "ap-south-1", Credentials: Credentials{Provider: "profile", Profile: "dev"},
			AssumeRoles: []AssumeRole{{ARN: "arn:aws:iam::222222222222:role/x"}}, EndpointURL: "http://127.0.0.1:5000"},
			Profile{Project: "audit", Credentials: Credentials{Provider: "profile", Profile: "dev"}, Region: "ap-south-1",
				AssumeRoles: []AssumeRole{{ARN: "arn:aws:iam::222222222222:role/x"}}, EndpointURL: "http://127.0.0.1:5000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Resolve(tt.project, tt.flags)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	c, err := Parse("c.yaml", []byte("projects:\n  p: {}\n"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		project string
		flags   Overrides
		is      error
		want    []string
	}{
		{"missing region names three places", "p", Overrides{}, ErrNoRegion, []string{"--region", "projects.p.region", "region: (system)", "c.yaml"}},
		{"unknown project", "nope", Overrides{Region: "us-east-1"}, ErrUnknownProject, []string{`"nope"`, "[default, p]", "c.yaml"}},
		{"unknown provider flag", "", Overrides{Region: "us-east-1", Credentials: Credentials{Provider: "vault"}}, nil,
			[]string{`unknown credentials provider "vault"`, "default, ec2, ecs, static, profile"}},
		{"malformed assume-role flag", "", Overrides{Region: "us-east-1", AssumeRoles: []AssumeRole{{ARN: "role/x"}}}, nil,
			[]string{`malformed role ARN "role/x"`, RoleARNPattern}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Resolve(tt.project, tt.flags)
			if err == nil {
				t.Fatal("want an error")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, body string
		want       []string
	}{
		{"unknown top-level key", "region: us-east-1\nregoin: x\n", []string{"c.yaml:2:", "regoin", "not a known setting"}},
		{"unknown nested key", "projects:\n  a:\n    credentials:\n      provder: ec2\n", []string{"c.yaml:4:", "provder"}},
		{"unknown provider", "credentials:\n  provider: vault\n", []string{"c.yaml", `"vault"`, "use one of default, ec2, ecs, static, profile"}},
		{"secret inline", "credentials:\n  provider: static\n  accessKeyId: AKIA\n  secretKey: wJalrXUtnFEMI\n", []string{"key:PATH", "capstan keys put"}},
		{"static without secret", "credentials:\n  provider: static\n  accessKeyId: AKIA\n", []string{"needs secretKey"}},
		{"profile without name", "credentials:\n  provider: profile\n", []string{"needs profile: NAME"}},
		{"bad arn in project", "projects:\n  x:\n    assumeRoles:\n      - arn: arn:aws:iam::12:role/r\n", []string{"project x assumeRoles[0]", "malformed role ARN", RoleARNPattern}},
		{"bad duration", "assumeRoles:\n  - arn: arn:aws:iam::123456789012:role/r\n    durationSeconds: 60\n", []string{"between 900 and 43200"}},
		{"wrong type", "region: [a]\n", []string{"c.yaml:1:"}},
		{"retry delay not a duration", "retries:\n  delay: 5\n", []string{"c.yaml:2:", `"5" is not a duration`, "500ms"}},
		{"retry attempts out of range", "projects:\n  p:\n    retries: {maxAttempts: 1000}\n", []string{"project p retries", "maxAttempts 1000", "1 to 100"}},
		{"retry delay beyond max", "retries: {delay: 30s, maxDelay: 20s}\n", []string{"delay 30s is longer than maxDelay 20s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tt.body))
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func TestRetriesLayer(t *testing.T) {
	c, err := Parse("c.yaml", []byte("region: eu-west-1\nretries: {maxAttempts: 5, delay: 1s, maxDelay: 40s}\nprojects:\n  calm:\n    retries: {maxAttempts: 2}\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		project string
		flags   Retries
		want    Retries
	}{
		{"", Retries{}, Retries{MaxAttempts: 5, Delay: Duration(time.Second), MaxDelay: Duration(40 * time.Second)}},
		{"calm", Retries{}, Retries{MaxAttempts: 2, Delay: Duration(time.Second), MaxDelay: Duration(40 * time.Second)}},
		{"calm", Retries{Delay: Duration(10 * time.Millisecond)}, Retries{MaxAttempts: 2, Delay: Duration(10 * time.Millisecond), MaxDelay: Duration(40 * time.Second)}},
	} {
		p, err := c.Resolve(tt.project, Overrides{Retries: tt.flags})
		if err != nil {
			t.Fatal(err)
		}
		if p.Retries != tt.want {
			t.Errorf("project %q flags %+v: retries %+v, want %+v", tt.project, tt.flags, p.Retries, tt.want)
		}
	}
}

func TestLoadPaths(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	if got, want := DefaultPath(), filepath.Join(dir, "capstan", "config.yaml"); got != want {
		t.Fatalf("DefaultPath = %q, want %q", got, want)
	}
	c, err := Load("")
	if err != nil {
		t.Fatalf("missing default file: %v", err)
	}
	if _, err := c.Resolve("", Overrides{}); !errors.Is(err, ErrNoRegion) {
		t.Fatalf("empty config resolved without a region: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "absent.yaml")); err == nil || !strings.Contains(err.Error(), "absent.yaml") {
		t.Fatalf("missing explicit file: got %v, want an error naming it", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "capstan"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(DefaultPath(), []byte("region: sa-east-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = Load("")
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Resolve("", Overrides{})
	if err != nil || p.Region != "sa-east-1" {
		t.Fatalf("default file not read: %+v, %v", p, err)
	}
	if c, err := Parse("empty.yaml", nil); err != nil || c.Region != "" {
		t.Fatalf("empty file: %+v, %v", c, err)
	}
}
