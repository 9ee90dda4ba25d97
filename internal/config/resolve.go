package config

import (
	"errors"
	"fmt"
	"sort"
)

// Overrides are the command-line flags that take precedence over the file.
// Empty fields leave the file's value alone.
type Overrides struct {
	Credentials Credentials // --credentials, --profile, --access-key-id, --secret-key
	// AssumeRoles, when non-empty (--assume-role, repeatable), replace the
	// file's chain: a chain given on the command line is meant as the whole chain.
	AssumeRoles []AssumeRole
	Region      string  // --region
	EndpointURL string  // --endpoint-url
	Retries     Retries // --retry-max-attempts, --retry-delay, --retry-max-delay
}

// Profile is the resolved settings for one project: what the credentials
// package needs to build an aws.Config.
type Profile struct {
	Project     string // empty for the system settings alone
	Credentials Credentials
	AssumeRoles []AssumeRole
	Region      string
	EndpointURL string
	Retries     Retries
}

// ErrNoRegion reports that no region was set anywhere.
var ErrNoRegion = errors.New("no AWS region set")

// ErrUnknownProject reports a project name the file does not define.
var ErrUnknownProject = errors.New("unknown project")

// Resolve merges system < project < flags. A project must exist in the file
// unless it is empty or default. A missing region is an error naming the
// places to set it (ErrNoRegion), returned with the rest of the profile so
// that it can be shown.
func (c *Config) Resolve(project string, flags Overrides) (Profile, error) {
	p := Profile{Project: project}
	p.apply(c.Settings)
	if err := c.CheckProject(project); err != nil {
		return Profile{}, err
	}
	if ps, ok := c.Projects[project]; ok {
		p.apply(ps)
	}
	p.apply(Settings(flags))
	if p.Credentials.Provider == "" {
		p.Credentials.Provider = ProviderDefault
	}
	if err := (Settings{Credentials: p.Credentials, AssumeRoles: p.AssumeRoles, Retries: p.Retries}).validate("resolved"); err != nil {
		return Profile{}, err
	}
	if p.Region == "" {
		proj := "projects.NAME.region"
		if project != "" {
			proj = "projects." + project + ".region"
		}
		return p, fmt.Errorf("%w: pass --region, or set %s or region: (system) in %s", ErrNoRegion, proj, c.where())
	}
	return p, nil
}

// apply overlays the non-empty settings of s. A credentials section that
// names a provider replaces the whole section, so that a project switching to
// ec2 does not inherit the system's static key.
func (p *Profile) apply(s Settings) {
	if s.Credentials != (Credentials{}) {
		if s.Credentials.Provider != "" {
			p.Credentials = s.Credentials
		} else {
			mergeCredentials(&p.Credentials, s.Credentials)
		}
	}
	if len(s.AssumeRoles) > 0 {
		p.AssumeRoles = append([]AssumeRole(nil), s.AssumeRoles...)
	}
	if s.Region != "" {
		p.Region = s.Region
	}
	if s.EndpointURL != "" {
		p.EndpointURL = s.EndpointURL
	}
	if s.Retries.MaxAttempts != 0 {
		p.Retries.MaxAttempts = s.Retries.MaxAttempts
	}
	if s.Retries.Delay != 0 {
		p.Retries.Delay = s.Retries.Delay
	}
	if s.Retries.MaxDelay != 0 {
		p.Retries.MaxDelay = s.Retries.MaxDelay
	}
}

func mergeCredentials(dst *Credentials, src Credentials) {
	if src.Profile != "" {
		dst.Profile = src.Profile
	}
	if src.AccessKeyID != "" {
		dst.AccessKeyID = src.AccessKeyID
	}
	if src.SecretKey != "" {
		dst.SecretKey = src.SecretKey
	}
	if src.SessionTokenKey != "" {
		dst.SessionTokenKey = src.SessionTokenKey
	}
}

func (c *Config) where() string {
	if c.Path != "" {
		return c.Path
	}
	return DefaultPath()
}

func (c *Config) projectNames() []string {
	names := make([]string, 0, len(c.Projects))
	for n := range c.Projects {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
