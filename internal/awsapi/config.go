package awsapi

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// LoadOptions selects what LoadConfig loads; empty fields defer to the
// environment and shared config files as the AWS CLI does.
type LoadOptions struct {
	Region      string
	EndpointURL string // overrides AWS_ENDPOINT_URL for every service
	Profile     string
}

// LoadConfig loads the SDK configuration the way the aws CLI does: region,
// credentials and profile from the environment and ~/.aws, endpoints from
// AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>, AWS_CA_BUNDLE honoured
// (the SDK builds its own HTTP client, which is why none is passed here).
func LoadConfig(ctx context.Context, o LoadOptions) (aws.Config, error) {
	var fns []func(*config.LoadOptions) error
	if o.Region != "" {
		fns = append(fns, config.WithRegion(o.Region))
	}
	if o.Profile != "" {
		fns = append(fns, config.WithSharedConfigProfile(o.Profile))
	}
	if o.EndpointURL != "" {
		fns = append(fns, config.WithBaseEndpoint(o.EndpointURL))
	}
	cfg, err := config.LoadDefaultConfig(ctx, fns...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("loading AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, fmt.Errorf("loading AWS configuration: no region: set AWS_REGION, a profile region, or --region")
	}
	return cfg, nil
}
