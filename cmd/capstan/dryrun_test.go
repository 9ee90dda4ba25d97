package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/capstan-run/capstan/internal/awsapi"
)

const dryRunbook = `schemaVersion: "0.3"
parameters:
  InstanceId: {type: String}
mainSteps:
  - name: look
    action: aws:executeAwsApi
    inputs: {Service: ec2, Api: DescribeInstances, InstanceIds: ["{{ InstanceId }}"]}
    outputs:
      - {Name: State, Selector: "$.Reservations[0].Instances[0].State.Name", Type: String}
  - name: stop
    action: aws:changeInstanceState
    inputs: {InstanceIds: ["{{ InstanceId }}"], DesiredState: stopped}
  - name: image
    action: aws:executeAwsApi
    inputs: {Service: ec2, Api: CreateImage, InstanceId: "{{ InstanceId }}", Name: nightly}
    outputs:
      - {Name: ImageId, Selector: "$.ImageId", Type: String}
  - name: tag
    action: aws:createTags
    inputs: {ResourceIds: ["{{ image.ImageId }}"], Tags: [{Key: made, Value: by-capstan}]}
outputs: [look.State, image.ImageId]
`

func TestDryRunMakesOnlyReads(t *testing.T) {
	motoCLI(t)
	ctx := context.Background()
	cfg, err := awsapi.LoadConfig(ctx, awsapi.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	aws := awsapi.New(cfg, awsapi.Options{})
	imgs, err := aws.Invoke(ctx, "ec2", "DescribeImages", map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	ami := imgs["Images"].([]any)[0].(map[string]any)["ImageId"]
	out, err := aws.Invoke(ctx, "ec2", "RunInstances", map[string]any{"ImageId": ami, "MinCount": 1, "MaxCount": 1, "InstanceType": "t3.micro"})
	if err != nil {
		t.Fatal(err)
	}
	id := out["Instances"].([]any)[0].(map[string]any)["InstanceId"].(string)

	file := writeRunbook(t, "dry.yaml", dryRunbook)
	responses := filepath.Join(filepath.Dir(file), "responses.yaml")
	if err := os.WriteFile(responses, []byte("- {service: ec2, api: CreateImage, response: {ImageId: ami-0dry}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "c.db")
	code, stdout, stderr := cli(t, "run", file, "-p", "InstanceId="+id, "--db", db, "--dry-run", "--dry-run-responses", responses)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"look.State = running",
		"image.ImageId = ami-0dry",
		"made      look: ec2 DescribeInstances",
		"dry run: calls made 1, not made 3",
		`not made  stop: ec2 StopInstances {"InstanceIds":["` + id + `"]} (outputs left unresolved)`,
		`not made  image: ec2 CreateImage {"InstanceId":"` + id + `","Name":"nightly"} (answered from the responses file)`,
		`not made  tag: ec2 CreateTags {"Resources":["ami-0dry"],"Tags":[{"Key":"made","Value":"by-capstan"}]}`,
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	// Nothing changed.
	desc, err := aws.Invoke(ctx, "ec2", "DescribeInstances", map[string]any{"InstanceIds": []any{id}})
	if err != nil {
		t.Fatal(err)
	}
	if s := desc["Reservations"].([]any)[0].(map[string]any)["Instances"].([]any)[0].(map[string]any)["State"].(map[string]any)["Name"]; s != "running" {
		t.Errorf("the instance is %v after a dry run", s)
	}
	if code, _, stderr := cli(t, "run", file, "-p", "InstanceId="+id, "--db", db, "--dry-run-responses", responses); code != 2 {
		t.Errorf("--dry-run-responses alone: exit %d (%s), want 2", code, stderr)
	}
}
