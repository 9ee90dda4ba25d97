package awsapi

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// endpoint is where one service's calls go and how they are signed.
type endpoint struct {
	url           *url.URL
	custom        bool // set by AWS_ENDPOINT_URL(_<SERVICE>) or --endpoint-url
	signingName   string
	signingRegion string
}

// globalEndpoints are the services of the aws partition with one endpoint
// for every region, signed for us-east-1 (botocore's endpoint rule sets
// say the same for these).
var globalEndpoints = map[string]string{
	"iam":           "iam.amazonaws.com",
	"route53":       "route53.amazonaws.com",
	"cloudfront":    "cloudfront.amazonaws.com",
	"organizations": "organizations.us-east-1.amazonaws.com",
	"importexport":  "importexport.amazonaws.com",
}

// resolveEndpoint finds a service's endpoint as the aws CLI does:
// AWS_ENDPOINT_URL_<SERVICE> first, then the configured base endpoint
// (AWS_ENDPOINT_URL or --endpoint-url), then AWS's own
// https://<prefix>.<region>.<domain>, or the global endpoint of a global
// service. The STS endpoint is regional, boto3's default.
func resolveEndpoint(cfg aws.Config, svc *service) (endpoint, error) {
	md := svc.model.Metadata
	e := endpoint{signingName: md.SigningName, signingRegion: cfg.Region}
	if e.signingName == "" {
		e.signingName = md.EndpointPrefix
	}
	raw := ""
	if !strings.EqualFold(os.Getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true") {
		raw = os.Getenv(svc.info.EndpointEnv())
		if raw == "" && cfg.BaseEndpoint != nil {
			raw = *cfg.BaseEndpoint
		}
	}
	if raw != "" {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			return endpoint{}, fmt.Errorf("%s: endpoint %q is not a URL like https://host:port", svc.info.Name, raw)
		}
		e.url, e.custom = u, true
		if _, global := globalEndpoints[svc.info.Name]; global && e.signingRegion == "" {
			e.signingRegion = "us-east-1"
		}
		return e, nil
	}
	region := cfg.Region
	suffix := "amazonaws.com"
	switch {
	case strings.HasPrefix(region, "cn-"):
		suffix = "amazonaws.com.cn"
	case strings.HasPrefix(region, "us-iso-"):
		suffix = "c2s.ic.gov"
	case strings.HasPrefix(region, "us-isob-"):
		suffix = "sc2s.sgov.gov"
	}
	host := md.EndpointPrefix + "." + region + "." + suffix
	if g, ok := globalEndpoints[svc.info.Name]; ok && suffix == "amazonaws.com" && !strings.HasPrefix(region, "us-gov-") {
		host, e.signingRegion = g, "us-east-1"
	}
	e.url = &url.URL{Scheme: "https", Host: host}
	return e, nil
}

// isIP reports whether an endpoint host (with or without port) is an IP
// literal, where neither host prefixes nor bucket subdomains can apply.
func isIP(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	return net.ParseIP(strings.Trim(h, "[]")) != nil
}

// virtualHostBucket is a bucket name S3 serves as a subdomain.
var virtualHostBucket = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)

// hostLabel is one DNS label, as botocore requires of host label members.
var hostLabel = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

// expandHostPrefix fills a model host prefix ("{AccountId}.") from the
// input's host label members.
func expandHostPrefix(prefix string, in map[string]any) (string, error) {
	var b strings.Builder
	for {
		i := strings.IndexByte(prefix, '{')
		if i < 0 {
			b.WriteString(prefix)
			return b.String(), nil
		}
		j := strings.IndexByte(prefix[i:], '}')
		if j < 0 {
			return "", fmt.Errorf("malformed host prefix %q", prefix)
		}
		b.WriteString(prefix[:i])
		name := prefix[i+1 : i+j]
		v, _ := in[name].(string)
		if v == "" {
			return "", fmt.Errorf("%s is required: it is part of the endpoint host", name)
		}
		// The value becomes part of the host the signed request goes to:
		// anything but one DNS label could send it elsewhere.
		if !hostLabel.MatchString(v) {
			return "", fmt.Errorf("%s %q is not a valid host label (letters, digits and '-', at most 63): it is part of the endpoint host", name, v)
		}
		b.WriteString(v)
		prefix = prefix[i+j+1:]
	}
}
