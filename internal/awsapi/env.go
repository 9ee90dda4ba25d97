package awsapi

import (
	"context"
	"os"
	"strings"
)

// AWSEnv returns the standard AWS environment variables that make an AWS SDK
// in a subprocess (boto3 in an aws:executeScript script) call AWS as this
// client does: its credentials (the execution's assumed role when there is
// one), region and endpoint. Endpoint overrides per service and the CA bundle
// capstan itself was given are passed on too.
func (c *Client) AWSEnv(ctx context.Context) ([]string, error) {
	var env []string
	if c.cfg.Credentials != nil {
		creds, err := c.cfg.Credentials.Retrieve(ctx)
		if err != nil {
			return nil, err
		}
		env = append(env, "AWS_ACCESS_KEY_ID="+creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+creds.SecretAccessKey)
		if creds.SessionToken != "" {
			env = append(env, "AWS_SESSION_TOKEN="+creds.SessionToken)
		}
	}
	if c.cfg.Region != "" {
		env = append(env, "AWS_REGION="+c.cfg.Region, "AWS_DEFAULT_REGION="+c.cfg.Region)
	}
	// An endpoint given to capstan explicitly wins over the environment's,
	// per-service ones included, as it does for capstan's own calls.
	endpoint := os.Getenv("AWS_ENDPOINT_URL")
	explicit := c.cfg.BaseEndpoint != nil && *c.cfg.BaseEndpoint != ""
	if explicit {
		endpoint = *c.cfg.BaseEndpoint
	}
	if endpoint != "" {
		env = append(env, "AWS_ENDPOINT_URL="+endpoint)
	}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if (strings.HasPrefix(k, "AWS_ENDPOINT_URL_") && !explicit) || k == "AWS_CA_BUNDLE" {
			env = append(env, kv)
		}
	}
	return env, nil
}
