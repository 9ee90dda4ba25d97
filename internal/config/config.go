// Package config reads capstan's configuration file: a system section with
// credentials, assumed roles, region and storage settings, and named projects
// that override the system section. Flags override both (see Resolve).
//
// The format is documented in docs/config.md.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Provider kinds accepted in credentials.provider and --credentials.
const (
	ProviderDefault = "default" // the standard AWS chain: env, shared files, SSO, ECS, IMDS
	ProviderEC2     = "ec2"     // the instance role through IMDSv2
	ProviderECS     = "ecs"     // the container credentials endpoint
	ProviderStatic  = "static"  // an access key id with its secret in key storage
	ProviderProfile = "profile" // a named profile of the shared AWS config files
)

// Providers lists every provider kind, in the order the docs present them.
var Providers = []string{ProviderDefault, ProviderEC2, ProviderECS, ProviderStatic, ProviderProfile}

// Config is the whole configuration file.
type Config struct {
	// Path is the file the configuration came from; empty for a missing default file.
	Path string `yaml:"-"`

	Settings `yaml:",inline"`
	Keys     Keys                `yaml:"keys"`
	DB       string              `yaml:"db"`
	Serve    Serve               `yaml:"serve"`
	Projects map[string]Settings `yaml:"projects"`
}

// Settings are what both the system section and a project may set.
type Settings struct {
	Credentials Credentials  `yaml:"credentials"`
	AssumeRoles []AssumeRole `yaml:"assumeRoles"`
	Region      string       `yaml:"region"`
	EndpointURL string       `yaml:"endpointURL"`
	Retries     Retries      `yaml:"retries"`
}

// Retries bounds the retries of throttled and transient AWS calls (Ansible's
// backoff_retries, backoff_delay and backoff_max_delay). Zero fields are not
// set here.
type Retries struct {
	// MaxAttempts counts the first attempt: 1 disables retries.
	MaxAttempts int `yaml:"maxAttempts"`
	// Delay is the backoff before the first retry; it doubles with each
	// retry, with full jitter.
	Delay Duration `yaml:"delay"`
	// MaxDelay caps one backoff.
	MaxDelay Duration `yaml:"maxDelay"`
}

// Duration is a time.Duration written as Go writes it: 500ms, 20s, 1m30s.
type Duration time.Duration

// UnmarshalYAML reads a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil || n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: %q is not a duration: write it like 500ms, 20s or 1m30s", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

func (r Retries) validate() error {
	switch {
	case r.MaxAttempts < 0 || r.MaxAttempts > 100:
		return fmt.Errorf("maxAttempts %d: expected 1 to 100 (1 disables retries)", r.MaxAttempts)
	case r.Delay < 0:
		return fmt.Errorf("delay %s: expected a positive duration", time.Duration(r.Delay))
	case r.MaxDelay < 0:
		return fmt.Errorf("maxDelay %s: expected a positive duration", time.Duration(r.MaxDelay))
	case r.MaxDelay > 0 && r.Delay > r.MaxDelay:
		return fmt.Errorf("delay %s is longer than maxDelay %s", time.Duration(r.Delay), time.Duration(r.MaxDelay))
	}
	return nil
}

// Credentials selects the base credential provider.
type Credentials struct {
	// Provider is one of Providers; empty means "not set here".
	Provider string `yaml:"provider"`
	// Profile names a shared-config profile (provider profile).
	Profile string `yaml:"profile"`
	// AccessKeyID is the access key id of provider static; not a secret.
	AccessKeyID string `yaml:"accessKeyId"`
	// SecretKey is a key-storage reference "key:PATH" to the secret access key.
	SecretKey string `yaml:"secretKey"`
	// SessionTokenKey is an optional key-storage reference to a session token.
	SessionTokenKey string `yaml:"sessionTokenKey"`
}

// AssumeRole is one hop of an assume-role chain.
type AssumeRole struct {
	ARN         string `yaml:"arn"`
	ExternalID  string `yaml:"externalId"`
	SessionName string `yaml:"sessionName"`
	// DurationSeconds is the session length; 0 means the STS default of 900.
	DurationSeconds int `yaml:"durationSeconds"`
}

// Keys configures key storage.
type Keys struct {
	// MasterKeyFile holds the base64 master key; default: master.key beside the database.
	MasterKeyFile string `yaml:"masterKeyFile"`
}

// Serve configures `capstan serve`.
type Serve struct {
	Addr string `yaml:"addr"`
	// Retain deletes finished executions older than this ("30d", "36h");
	// empty keeps them all.
	Retain string `yaml:"retain"`
	// LogBucket (s3://BUCKET/PREFIX/) receives each finished execution's
	// record; LogGroup (a CloudWatch Logs group) each step's output.
	LogBucket string `yaml:"logBucket"`
	LogGroup  string `yaml:"logGroup"`
}

// DefaultPath is $XDG_CONFIG_HOME/capstan/config.yaml, else
// ~/.config/capstan/config.yaml.
func DefaultPath() string {
	if x := os.Getenv("XDG_CONFIG_HOME"); x != "" {
		return filepath.Join(x, "capstan", "config.yaml")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(".config", "capstan", "config.yaml")
	}
	return filepath.Join(home, ".config", "capstan", "config.yaml")
}

// Load reads the file at path. An empty path means DefaultPath, and a missing
// default file is an empty configuration; a missing explicit file is an error.
func Load(path string) (*Config, error) {
	explicit := path != ""
	if !explicit {
		path = DefaultPath()
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if !explicit && errors.Is(err, fs.ErrNotExist) {
			return &Config{}, nil
		}
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes a configuration; name is used in messages as the file name.
// Unknown keys are errors carrying file:line.
func Parse(name string, data []byte) (*Config, error) {
	c := &Config{Path: name}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	// An empty file decodes to io.EOF; it is an empty configuration, not a mistake.
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, &Error{File: name, Err: yamlError(err)}
	}
	if err := c.validate(); err != nil {
		return nil, &Error{File: name, Err: err}
	}
	return c, nil
}

// Error is a configuration error; its message starts with file:line when the
// line is known.
type Error struct {
	File string
	Err  error
}

func (e *Error) Error() string {
	msg := e.Err.Error()
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("%s:%s: %s", e.File, m[1], lineRE.ReplaceAllString(msg, ""))
	}
	return fmt.Sprintf("%s: %s", e.File, msg)
}

func (e *Error) Unwrap() error { return e.Err }

var (
	lineRE     = regexp.MustCompile(`^line (\d+): `)
	notFoundRE = regexp.MustCompile(` not found in type config\.\w+`)
)

// yamlError flattens yaml.v3's multi-line TypeError into its first problem so
// that the message stays one line starting with the line number.
func yamlError(err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg := te.Errors[0]
		msg = notFoundRE.ReplaceAllString(msg, " is not a known setting (see docs/config.md)")
		return errors.New(msg)
	}
	return errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
}

// arnRE is the shape of an IAM role ARN.
var arnRE = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:iam::\d{12}:role/[\w+=,.@/-]+$`)

// RoleARNPattern is what a role ARN must look like, for messages.
const RoleARNPattern = "arn:aws:iam::<12-digit account>:role/<name>"

// CheckRoleARN rejects a malformed role ARN before any call is made.
func CheckRoleARN(arn string) error {
	if !arnRE.MatchString(arn) {
		return fmt.Errorf("malformed role ARN %q: expected %s", arn, RoleARNPattern)
	}
	return nil
}

func (c *Config) validate() error {
	if err := c.Settings.validate("system"); err != nil {
		return err
	}
	for name, p := range c.Projects {
		if err := p.validate("project " + name); err != nil {
			return err
		}
	}
	return nil
}

func (s Settings) validate(where string) error {
	if err := s.Credentials.validate(); err != nil {
		return fmt.Errorf("%s credentials: %w", where, err)
	}
	for i, r := range s.AssumeRoles {
		if err := r.validate(); err != nil {
			return fmt.Errorf("%s assumeRoles[%d]: %w", where, i, err)
		}
	}
	if err := s.Retries.validate(); err != nil {
		return fmt.Errorf("%s retries: %w", where, err)
	}
	return nil
}

func (c Credentials) validate() error {
	switch c.Provider {
	case "", ProviderDefault, ProviderEC2, ProviderECS:
	case ProviderProfile:
		if c.Profile == "" {
			return errors.New("provider profile needs profile: NAME (a profile of ~/.aws/config)")
		}
	case ProviderStatic:
		if c.AccessKeyID == "" {
			return errors.New("provider static needs accessKeyId")
		}
		if c.SecretKey == "" {
			return errors.New("provider static needs secretKey: key:PATH (store it with `capstan keys put PATH`)")
		}
	default:
		return UnknownProviderError(c.Provider)
	}
	for field, v := range map[string]string{"secretKey": c.SecretKey, "sessionTokenKey": c.SessionTokenKey} {
		if v != "" && !strings.HasPrefix(v, "key:") {
			return fmt.Errorf("%s must be a key-storage reference key:PATH, never the secret itself (store it with `capstan keys put PATH`)", field)
		}
	}
	return nil
}

// UnknownProviderError names the bad provider and the valid ones.
func UnknownProviderError(name string) error {
	return fmt.Errorf("unknown credentials provider %q: use one of %s", name, strings.Join(Providers, ", "))
}

func (r AssumeRole) validate() error {
	if err := CheckRoleARN(r.ARN); err != nil {
		return err
	}
	if r.DurationSeconds != 0 && (r.DurationSeconds < 900 || r.DurationSeconds > 43200) {
		return fmt.Errorf("durationSeconds %d for %s: must be between 900 and 43200", r.DurationSeconds, r.ARN)
	}
	return nil
}
