package awsapi

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name, service, api string
		input              map[string]any
		wantErr            string
	}{
		{"literal input fits", "ec2", "DescribeInstances", map[string]any{"InstanceIds": []any{"i-1"}}, ""},
		{"templates are skipped", "ec2", "DescribeInstances", map[string]any{"InstanceIds": "{{ InstanceIds }}", "MaxResults": "{{ n }}"}, ""},
		{"template inside a list", "ec2", "DescribeInstances", map[string]any{"InstanceIds": []any{"{{ Id }}"}}, ""},
		{"typo", "ec2", "DescribeInstances", map[string]any{"InstanceIdz": []any{"i-1"}}, `unknown field "InstanceIdz" (did you mean "InstanceIds"?)`},
		{"wrong integer", "ec2", "DescribeInstances", map[string]any{"MaxResults": "ten"}, `MaxResults: expected an integer, got string "ten"`},
		{"nested path", "ssm", "SendCommand", map[string]any{"DocumentName": "d", "Parameters": map[string]any{"commands": "ls"}}, `Parameters.commands: expected a list of strings`},
		{"union member", "dynamodb", "GetItem", map[string]any{"TableName": "t", "Key": map[string]any{"pk": map[string]any{"Q": "x"}}}, `Key.pk: unknown union member "Q"`},
		{"camelCase op", "sns", "publish", map[string]any{"TopicArn": "arn", "Message": "m"}, ""},
		{"any service of the model set", "migration-hub-refactor-spaces", "ListApplications", nil, ""},
		{"a service the typed table lacked", "apigatewayv2", "get_apis", map[string]any{"MaxResults": "10"}, ""},
		{"lower-case members", "glue", "GetDatabases", map[string]any{"catalogId": "x"}, `unknown field "catalogId" (did you mean "CatalogId"?)`},
		{"event streams are not carried", "s3", "SelectObjectContent", nil, "not supported"},
		{"streaming body is a member", "s3", "PutObject", map[string]any{"Bucket": "b", "Key": "k", "Body": "hello"}, ""},
		{"unknown service", "ec3", "DescribeInstances", nil, "unknown service"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(tc.service, tc.api, tc.input)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}
