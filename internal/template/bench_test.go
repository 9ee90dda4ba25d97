package template

import (
	"testing"
)

// A typical step: aws:executeAwsApi RunInstances-like inputs with a whole
// typed reference, a spliced list, embedded text and system variables.
func BenchmarkSubstitute(b *testing.B) {
	inputs := map[string]any{
		"Service": "ec2", "Api": "RunInstances",
		"ImageId":      "{{ SourceAmiId }}",
		"InstanceType": "{{InstanceType}}",
		"MinCount":     "{{ Count }}", "MaxCount": "{{ Count }}",
		"SecurityGroupIds": []any{"{{ InstanceIds }}"},
		"TagSpecifications": []any{map[string]any{"ResourceType": "instance", "Tags": []any{
			map[string]any{"Key": "Name", "Value": "UpdateLinuxAmi_from_{{SourceAmiId}}_on_{{global:DATE_TIME}}"},
			map[string]any{"Key": "Execution", "Value": "{{ automation:EXECUTION_ID }}"},
		}}},
		"IamInstanceProfile": map[string]any{"Name": "ManagedInstanceProfile"},
	}
	p := params{"InstanceType": "t3.micro"}
	for k, v := range testParams {
		p[k] = v
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Substitute(inputs, p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSelect(b *testing.B) {
	doc := decode(b, describeInstances)
	for _, sel := range []string{
		"$.Reservations[0].Instances[0].State.Name",
		"$.Reservations..BlockDeviceMappings..VolumeId",
		"$.Stacks[0].Outputs[?(@.OutputKey == 'LambdaFunctionName')].OutputValue",
	} {
		b.Run(sel, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s, err := ParseSelector(sel) // cached after the first call, as in a wait loop
				if err != nil {
					b.Fatal(err)
				}
				if _, ok := s.Select(doc); !ok {
					b.Fatal("no match")
				}
			}
		})
	}
}

func BenchmarkRefs(b *testing.B) {
	s := "arn:{{global:AWS_PARTITION}}:iam::{{global:ACCOUNT_ID}}:role/{{ RoleName }}"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Refs(s); err != nil {
			b.Fatal(err)
		}
	}
}
