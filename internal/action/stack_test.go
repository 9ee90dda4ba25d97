package action_test

import (
	"context"
	"testing"
)

const bucketTemplate = `{
  "Parameters": {"BucketName": {"Type": "String"}},
  "Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": {"Ref": "BucketName"}}}},
  "Outputs": {"Name": {"Value": {"Ref": "Bucket"}}}
}`

func TestStackLifecycleMoto(t *testing.T) {
	aws := motoAWS(t)
	res, err := run(t, aws, "aws:createStack", map[string]any{
		"StackName": "capstan-test", "TemplateBody": bucketTemplate,
		"Parameters": []any{map[string]any{"ParameterKey": "BucketName", "ParameterValue": "capstan-stack-bucket"}},
		"Tags":       []any{map[string]any{"Key": "owner", "Value": "capstan"}}, "TimeoutInMinutes": int64(5),
	})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := res.Outputs["StackId"].(string)
	if id == "" || res.Outputs["StackStatus"] != "CREATE_COMPLETE" {
		t.Fatalf("outputs = %v, want a complete stack", res.Outputs)
	}
	call(t, aws, "s3", "HeadBucket", map[string]any{"Bucket": "capstan-stack-bucket"})

	if _, err := run(t, aws, "aws:deleteStack", map[string]any{"StackName": "capstan-test"}); err != nil {
		t.Fatal(err)
	}
	out := call(t, aws, "cloudformation", "DescribeStacks", map[string]any{"StackName": id})
	if got := out["Stacks"].([]any)[0].(map[string]any)["StackStatus"]; got != "DELETE_COMPLETE" {
		t.Errorf("after deleteStack, status = %v", got)
	}
	if _, err := aws.Invoke(context.Background(), "s3", "HeadBucket", map[string]any{"Bucket": "capstan-stack-bucket"}); err == nil {
		t.Error("the stack's bucket survived deleteStack")
	}
	// Deleting again (a retry after a crash) finds nothing and succeeds.
	if _, err := run(t, aws, "aws:deleteStack", map[string]any{"StackName": "capstan-test"}); err != nil {
		t.Errorf("deleting a deleted stack: %v", err)
	}
}
