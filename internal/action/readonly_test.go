package action

import "testing"

func lookupSpec(t *testing.T, name string) *Spec {
	t.Helper()
	e, ok := Builtin().Lookup(name)
	if !ok {
		t.Fatalf("no %s", name)
	}
	return &e.Spec
}

func TestExecuteAwsAPIRetrySafeForReadOnlyCalls(t *testing.T) {
	spec := lookupSpec(t, "aws:executeAwsApi")
	for api, want := range map[string]bool{
		"DescribeInstances":   true,
		"describe_instances":  true,
		"describeInstances":   true,
		"GetCallerIdentity":   true,
		"get_parameter":       true,
		"ListRoles":           true,
		"HeadBucket":          true,
		"PutParameter":        false,
		"put_parameter":       false,
		"TerminateInstances":  false,
		"Getaway":             false, // a prefix must end a word
		"Get":                 false,
		"{{ ReadOnlyApi }}":   false, // unresolved
		"":                    false,
		"DeleteParameter":     false,
		"ListenerNotAnOpName": false,
	} {
		if got := spec.SafeToRetry(map[string]any{"Service": "ec2", "Api": api}); got != want {
			t.Errorf("SafeToRetry(Api %q) = %v, want %v", api, got, want)
		}
	}
	if spec.SafeToRetry(map[string]any{"Service": "ec2"}) {
		t.Error("a step without Api is safe to retry")
	}
	if !lookupSpec(t, "aws:waitForAwsResourceProperty").SafeToRetry(nil) {
		t.Error("aws:waitForAwsResourceProperty is not safe to retry")
	}
}
