// Package credentials builds the AWS credentials capstan runs with: a base
// provider chosen in the configuration (the default chain, the EC2 instance
// role, the ECS task role, a static key from key storage, or a shared-config
// profile), an assume-role chain on top of it, and per-execution sessions
// for a runbook's assumeRole. Every provider is wrapped in a cache that
// refreshes credentials before they expire.
package credentials

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/smithy-go/logging"

	"github.com/capstan-run/capstan/internal/config"
	"github.com/capstan-run/capstan/internal/keys"
)

// ExpiryWindow is how long before their expiry cached credentials are
// refreshed, so that a call never starts with credentials about to lapse.
const ExpiryWindow = 5 * time.Minute

// SecretReader reads a value from key storage; *keys.Keyring implements it.
type SecretReader interface {
	Get(ctx context.Context, path string) (string, error)
}

// Environment variables of the container credentials protocol.
const (
	envContainerRelativeURI = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"
	envContainerFullURI     = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
	envContainerToken       = "AWS_CONTAINER_AUTHORIZATION_TOKEN"
	envContainerTokenFile   = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
	envIMDSEndpoint         = "AWS_EC2_METADATA_SERVICE_ENDPOINT"
	ecsHost                 = "http://169.254.170.2"
)

// Provider returns the base credentials provider p selects, cached and
// refreshed ExpiryWindow before expiry. Nothing is fetched until the first
// Retrieve; configuration mistakes (an unknown provider, a static provider
// without its key reference, an ecs provider outside a container) are
// reported here.
func Provider(ctx context.Context, p config.Profile, secrets SecretReader) (aws.CredentialsProvider, error) {
	kind := p.Credentials.Provider
	if kind == "" {
		kind = config.ProviderDefault
	}
	var inner aws.CredentialsProvider
	switch kind {
	case config.ProviderDefault, config.ProviderProfile:
		// The SDK's own log lines (such as its IMDSv1 fallback warning) would
		// reach users' terminals; capstan reports credential failures itself.
		opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithLogger(logging.Nop{})}
		if kind == config.ProviderProfile {
			if p.Credentials.Profile == "" {
				return nil, errors.New("credentials provider profile: no profile named: set credentials.profile or --profile")
			}
			opts = append(opts, awsconfig.WithSharedConfigProfile(p.Credentials.Profile))
		}
		if p.Region != "" {
			opts = append(opts, awsconfig.WithRegion(p.Region))
		}
		cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
		if err != nil {
			return nil, fmt.Errorf("credentials provider %s: %w", describeKind(kind, p), err)
		}
		if cfg.Credentials == nil {
			return nil, fmt.Errorf("credentials provider %s: no credentials found", describeKind(kind, p))
		}
		inner = cfg.Credentials
	case config.ProviderEC2:
		inner = ec2rolecreds.New(func(o *ec2rolecreds.Options) {
			o.Client = imds.New(imds.Options{
				Endpoint:          os.Getenv(envIMDSEndpoint),
				ClientEnableState: imds.ClientEnabled,
				// IMDSv2 only: a v1 fallback would weaken SSRF protection.
				EnableFallback: aws.FalseTernary,
			})
		})
	case config.ProviderECS:
		endpoint, err := containerEndpoint()
		if err != nil {
			return nil, err
		}
		inner = endpointcreds.New(endpoint, func(o *endpointcreds.Options) {
			o.AuthorizationTokenProvider = endpointcreds.TokenProviderFunc(containerToken)
		})
	case config.ProviderStatic:
		s, err := newStatic(p.Credentials, secrets)
		if err != nil {
			return nil, err
		}
		inner = s
	default:
		return nil, config.UnknownProviderError(kind)
	}
	return cache(&named{kind: describeKind(kind, p), inner: inner}), nil
}

// Base returns an aws.Config for p: its region, endpoint URL and base
// provider, with p's assume-role chain applied. The engine derives
// per-execution sessions from it with Sessions.ForExecution.
func Base(ctx context.Context, p config.Profile, secrets SecretReader) (aws.Config, error) {
	if p.Region == "" {
		return aws.Config{}, fmt.Errorf("%w: pass --region or set region in the config file", config.ErrNoRegion)
	}
	prov, err := Provider(ctx, p, secrets)
	if err != nil {
		return aws.Config{}, err
	}
	opts := []func(*awsconfig.LoadOptions) error{
		awsconfig.WithRegion(p.Region),
		awsconfig.WithCredentialsProvider(prov),
		awsconfig.WithLogger(logging.Nop{}),
	}
	if p.EndpointURL != "" {
		opts = append(opts, awsconfig.WithBaseEndpoint(p.EndpointURL))
	}
	if p.Credentials.Provider == config.ProviderProfile {
		opts = append(opts, awsconfig.WithSharedConfigProfile(p.Credentials.Profile))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("loading AWS configuration: %w", err)
	}
	cfg, err = Chain(cfg, p.AssumeRoles)
	if err != nil || len(p.AssumeRoles) == 0 {
		return cfg, err
	}
	// Assume the chain now: a denied hop then fails naming its role, where
	// inside the first AWS call it would read as missing credentials.
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return aws.Config{}, err
	}
	return cfg, nil
}

func describeKind(kind string, p config.Profile) string {
	if kind == config.ProviderProfile {
		return fmt.Sprintf("profile %q", p.Credentials.Profile)
	}
	return kind
}

func cache(p aws.CredentialsProvider) *aws.CredentialsCache {
	return aws.NewCredentialsCache(p, func(o *aws.CredentialsCacheOptions) {
		o.ExpiryWindow = ExpiryWindow
	})
}

// containerEndpoint follows the container credentials protocol: a relative
// URI is on the ECS agent's link-local host; a full URI must be https or on a
// loopback or the ECS/EKS link-local hosts, so a token is never sent elsewhere.
func containerEndpoint() (string, error) {
	if rel := os.Getenv(envContainerRelativeURI); rel != "" {
		return ecsHost + rel, nil
	}
	full := os.Getenv(envContainerFullURI)
	if full == "" {
		return "", fmt.Errorf("credentials provider ecs: neither %s nor %s is set: run inside an ECS task or EKS pod with a task role, or choose another provider", envContainerRelativeURI, envContainerFullURI)
	}
	u, err := url.Parse(full)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("credentials provider ecs: %s=%q is not a URL", envContainerFullURI, full)
	}
	if u.Scheme == "https" || allowedContainerHost(u.Hostname()) {
		return full, nil
	}
	return "", fmt.Errorf("credentials provider ecs: %s=%q must use https or a loopback, 169.254.170.2 or 169.254.170.23 host", envContainerFullURI, full)
}

func allowedContainerHost(host string) bool {
	switch host {
	case "169.254.170.2", "169.254.170.23", "fd00:ec2::23", "localhost":
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// containerToken reads the token per request: the token file is rotated by
// the platform (EKS Pod Identity), so it must not be read once and kept.
func containerToken() (string, error) {
	if f := os.Getenv(envContainerTokenFile); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("reading %s: %w", envContainerTokenFile, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return os.Getenv(envContainerToken), nil
}

// static reads the secret key (and optional session token) from key storage
// when credentials are first needed, never from the configuration file.
type static struct {
	accessKeyID, secretPath, tokenPath string
	secrets                            SecretReader
}

func newStatic(c config.Credentials, secrets SecretReader) (*static, error) {
	if c.AccessKeyID == "" {
		return nil, errors.New("credentials provider static: no accessKeyId: set credentials.accessKeyId or --access-key-id")
	}
	secretPath, ok := keys.ParseRef(c.SecretKey)
	if !ok {
		return nil, fmt.Errorf("credentials provider static: secretKey %q is not a key-storage reference: set it to key:PATH and store the secret with `capstan keys put PATH`", c.SecretKey)
	}
	s := &static{accessKeyID: c.AccessKeyID, secretPath: secretPath, secrets: secrets}
	if c.SessionTokenKey != "" {
		if s.tokenPath, ok = keys.ParseRef(c.SessionTokenKey); !ok {
			return nil, fmt.Errorf("credentials provider static: sessionTokenKey %q is not a key-storage reference key:PATH", c.SessionTokenKey)
		}
	}
	if secrets == nil {
		return nil, errors.New("credentials provider static: key storage is not available")
	}
	return s, nil
}

func (s *static) Retrieve(ctx context.Context) (aws.Credentials, error) {
	secret, err := s.secrets.Get(ctx, s.secretPath)
	if err != nil {
		return aws.Credentials{}, err
	}
	c := aws.Credentials{AccessKeyID: s.accessKeyID, SecretAccessKey: secret, Source: "capstan static"}
	if s.tokenPath != "" {
		if c.SessionToken, err = s.secrets.Get(ctx, s.tokenPath); err != nil {
			return aws.Credentials{}, err
		}
	}
	return c, nil
}

// ProviderError is a failure of a base provider; its message names it.
type ProviderError struct {
	Provider string // "ec2", "ecs", "static", "default", `profile "x"`
	Err      error
}

func (e *ProviderError) Error() string {
	return fmt.Sprintf("credentials from the %s provider: %v", e.Provider, e.Err)
}

func (e *ProviderError) Unwrap() error { return e.Err }

// ErrExpired is wrapped by the error for credentials that had already
// expired when the provider handed them over.
var ErrExpired = errors.New("credentials expired")

// named attributes a provider's failures to it and refuses credentials that
// are already expired, which would otherwise surface later as an opaque
// ExpiredToken from whatever service was called. It deliberately hides
// ec2rolecreds' AdjustExpiresBy, which skips the early refresh for
// credentials expiring within 15 minutes; the cache's default adjustment
// refreshes every provider ExpiryWindow ahead.
type named struct {
	kind  string
	inner aws.CredentialsProvider
}

func (n *named) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := n.inner.Retrieve(ctx)
	if err != nil {
		return aws.Credentials{}, &ProviderError{Provider: n.kind, Err: err}
	}
	if c.CanExpire && !c.Expires.After(time.Now()) {
		return aws.Credentials{}, &ProviderError{Provider: n.kind, Err: fmt.Errorf(
			"%w at %s: the %s source is handing out stale credentials; check its role and this machine's clock",
			ErrExpired, c.Expires.UTC().Format(time.RFC3339), n.kind)}
	}
	return c, nil
}

// HandleFailToRefresh keeps the SDK's static stability for the instance
// role: when IMDS is briefly unavailable, still-valid credentials are kept.
func (n *named) HandleFailToRefresh(ctx context.Context, prev aws.Credentials, err error) (aws.Credentials, error) {
	if h, ok := n.inner.(aws.HandleFailRefreshCredentialsCacheStrategy); ok {
		return h.HandleFailToRefresh(ctx, prev, err)
	}
	return aws.Credentials{}, err
}

var (
	_ aws.CredentialsProvider                       = (*named)(nil)
	_ aws.HandleFailRefreshCredentialsCacheStrategy = (*named)(nil)
	_ aws.CredentialsProvider                       = (*static)(nil)
)
