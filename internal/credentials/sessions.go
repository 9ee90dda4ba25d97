package credentials

import (
	"context"
	"fmt"
	"reflect"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Sessions hands out the aws.Config each execution calls AWS with, one per
// (base credentials, assumeRole) pair, so every step of an execution — and
// every execution using the same role — shares one cache of credentials that
// refreshes itself before expiry. The zero value is ready; it is safe for
// concurrent use.
type Sessions struct {
	mu sync.Mutex
	m  map[sessionKey]aws.Config
}

type sessionKey struct {
	base aws.CredentialsProvider
	role string
}

// ForExecution returns the configuration for an execution whose runbook
// names assumeRole (already rendered, e.g. from {{ AutomationAssumeRole }}).
// An empty assumeRole means base as it is. The role is assumed on top of
// base's chain and its credentials are fetched now, so a denied or malformed
// role fails the execution at its start with an *AssumeRoleError or a
// malformed-ARN error rather than at its first AWS call.
//
// Child executions pass their own assumeRole, or their parent's when they
// name none, and get the parent's cached session back.
func (s *Sessions) ForExecution(ctx context.Context, base aws.Config, assumeRole string) (aws.Config, error) {
	if assumeRole == "" {
		return base, nil
	}
	key := sessionKey{base: base.Credentials, role: assumeRole}
	cacheable := base.Credentials == nil || reflect.TypeOf(base.Credentials).Comparable()
	if cacheable {
		s.mu.Lock()
		cfg, ok := s.m[key]
		s.mu.Unlock()
		if ok {
			return cfg, nil
		}
	}
	cfg, err := Chain(base, []AssumeRole{{ARN: assumeRole}})
	if err != nil {
		return aws.Config{}, fmt.Errorf("execution assumeRole: %w", err)
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return aws.Config{}, err
	}
	if cacheable {
		s.mu.Lock()
		if prev, ok := s.m[key]; ok {
			cfg = prev // another step won the race; share its cache
		} else {
			if s.m == nil {
				s.m = map[sessionKey]aws.Config{}
			}
			s.m[key] = cfg
		}
		s.mu.Unlock()
	}
	return cfg, nil
}

// ForLocation returns the configuration of an execution that runs as
// assumeRole assumed from sourceRole ("" for base itself), calling region
// ("" keeps base's): a TargetLocations child, whose execution role in the
// target account is assumed from its parent's credentials.
func (s *Sessions) ForLocation(ctx context.Context, base aws.Config, sourceRole, assumeRole, region string) (aws.Config, error) {
	cfg, err := s.ForExecution(ctx, base, sourceRole)
	if err != nil {
		return aws.Config{}, err
	}
	if cfg, err = s.ForExecution(ctx, cfg, assumeRole); err != nil {
		return aws.Config{}, err
	}
	if region != "" && region != cfg.Region {
		cfg = cfg.Copy()
		cfg.Region = region
	}
	return cfg, nil
}
