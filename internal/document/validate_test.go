package document

import (
	"strings"
	"testing"
)

func TestStepProperties(t *testing.T) {
	src := `schemaVersion: "0.3"
mainSteps:
  - name: a
    action: aws:sleep
    isCritical: "false"
    isEnd: "false"
    timeoutSeconds: "600"
    maxAttempts: "3"
    inputs: {Duration: PT1S}
  - name: b
    action: aws:sleep
    onFailure: Continue
    inputs: {Duration: PT1S}
  - name: c
    action: aws:executeAwsApi
    onFailure: step:a
    onCancel: Abort
    inputs: {Service: ec2, Api: DescribeInstances}
    outputs:
      - {Name: Ids, Selector: $.Reservations..InstanceId}
`
	d, diags := Load("s.yaml", []byte(src), testRegistry())
	if HasErrors(diags) {
		t.Fatal(diags)
	}
	a, b, c := d.MainSteps[0], d.MainSteps[1], d.MainSteps[2]
	if a.IsCritical || !a.IsCriticalSet || a.IsEnd || a.TimeoutSeconds != 600 || a.MaxAttempts != 3 {
		t.Errorf("step a: %+v", a)
	}
	if b.IsCritical || b.OnFailure.Kind != Continue || b.MaxAttempts != 1 {
		t.Errorf("step b: onFailure Continue makes it non-critical by default: %+v", b)
	}
	if !c.IsCritical || c.OnFailure != (Transition{Kind: GoToStep, Step: "a", Pos: Pos{16, 16}}) || c.OnCancel.Kind != Abort {
		t.Errorf("step c: %+v", c)
	}
	if len(c.Outputs) != 1 || c.Outputs[0].Type != "String" {
		t.Errorf("output Type defaults to String: %+v", c.Outputs)
	}
}

func TestValidateFindings(t *testing.T) {
	head := "schemaVersion: \"0.3\"\nparameters:\n  P: {type: String, default: x}\nmainSteps:\n"
	tests := []struct {
		name  string
		steps string
		want  string // Line:Column: message fragment; empty for no errors
	}{
		{name: "branch cycle is fine", steps: `
  - name: a
    action: aws:sleep
    inputs: {Duration: PT1S}
  - name: b
    action: aws:branch
    inputs:
      Choices:
        - {NextStep: a, Variable: "{{P}}", StringEquals: again}
      Default: c
  - name: c
    action: aws:sleep
    inputs: {Duration: PT1S}
`},
		{name: "retry through onFailure is fine", steps: `
  - name: a
    action: aws:sleep
    onFailure: step:fix
    nextStep: done
    inputs: {Duration: PT1S}
  - name: fix
    action: aws:sleep
    nextStep: a
    inputs: {Duration: PT1S}
  - name: done
    action: aws:sleep
    inputs: {Duration: PT1S}
`},
		{name: "nextStep loop with no exit", steps: `
  - name: a
    action: aws:sleep
    nextStep: b
    inputs: {Duration: PT1S}
  - name: b
    action: aws:sleep
    nextStep: a
    inputs: {Duration: PT1S}
`, want: "5:5: infinite loop in mainSteps: a → b → a"},
		{name: "choice with two operators", steps: `
  - name: a
    action: aws:branch
    inputs:
      Choices:
        - {NextStep: b, Variable: "{{P}}", StringEquals: x, Contains: y}
  - name: b
    action: aws:sleep
    inputs: {Duration: PT1S}
`, want: "9:25: Choices[0]: Variable needs exactly one operator"},
		{name: "unknown operator", steps: `
  - name: a
    action: aws:branch
    inputs:
      Choices:
        - {NextStep: b, Variable: "{{P}}", Equals: x}
  - name: b
    action: aws:sleep
    inputs: {Duration: PT1S}
`, want: `9:44: Choices[0]: unknown key "Equals"`},
		{name: "unknown system variable", steps: `
  - name: a
    action: aws:sleep
    inputs: {Duration: "x{{global:NOPE}}"}
`, want: "7:26: inputs.Duration: {{global:NOPE}}: unknown system variable"},
		{name: "ssm reference in a step", steps: `
  - name: a
    action: aws:sleep
    inputs: {Duration: "{{ssm:/d}}"}
`, want: "7:25: inputs.Duration: {{ssm:/d}}: Parameter Store references are allowed only in parameter defaults"},
		{name: "internal action", steps: `
  - name: a
    action: aws:putServerUpgradeMetrics
    inputs: {}
`, want: "6:13: action aws:putServerUpgradeMetrics is known to SSM, not supported by capstan"},
		{name: "unknown action", steps: `
  - name: a
    action: aws:fly
    inputs: {}
`, want: `6:13: unknown action "aws:fly"`},
		{name: "unknown step key", steps: `
  - name: a
    action: aws:sleep
    retries: 3
    inputs: {Duration: PT1S}
`, want: `7:5: unknown step key "retries"`},
		{name: "non-numeric maxAttempts", steps: `
  - name: a
    action: aws:sleep
    maxAttempts: often
    inputs: {Duration: PT1S}
`, want: `7:18: maxAttempts: expected an integer`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := Load("v.yaml", []byte(head+strings.TrimPrefix(tt.steps, "\n")), testRegistry())
			var errs []string
			for _, d := range diags {
				if d.Severity == Error {
					errs = append(errs, strings.TrimPrefix(d.String(), "v.yaml:"))
				}
			}
			if tt.want == "" {
				if len(errs) > 0 {
					t.Errorf("unexpected errors: %q", errs)
				}
				return
			}
			for _, e := range errs {
				at, msg, _ := strings.Cut(tt.want, ": ")
				if strings.HasPrefix(e, at+":") && strings.Contains(e, msg) {
					return
				}
			}
			t.Errorf("want %q, got %q", tt.want, errs)
		})
	}
}

func TestFilesIsAWarning(t *testing.T) {
	src := "schemaVersion: \"0.3\"\nfiles:\n  a.zip: {checksums: {sha256: abc}}\nmainSteps:\n  - {name: a, action: aws:sleep, inputs: {Duration: PT1S}}\n"
	d, diags := Load("f.yaml", []byte(src), testRegistry())
	if HasErrors(diags) || len(diags) != 1 || diags[0].Severity != Warning || diags[0].Line != 2 {
		t.Errorf("diags %v", diags)
	}
	if d.Files["a.zip"] == nil {
		t.Errorf("files not kept: %v", d.Files)
	}
}

func TestParseNeverPanicsOnGarbage(t *testing.T) {
	for _, src := range []string{"", "[", "- a", "a: *x", "{\"mainSteps\": 3}", "\t{\"a\":\t1}"} {
		_, diags := Load("g", []byte(src), testRegistry())
		if !HasErrors(diags) {
			t.Errorf("%q: no error", src)
		}
	}
}

// A reference to an output its step does not declare is accepted by SSM at
// CreateDocument and fails when the referring step runs: a warning with its
// position, an error under Strict.
func TestUndeclaredOutputIsAWarningUnlessStrict(t *testing.T) {
	src := "schemaVersion: \"0.3\"\nparameters:\n  P: {type: String, default: x}\nmainSteps:\n" + `  - name: a
    action: aws:executeAwsApi
    inputs: {Service: ec2, Api: DescribeVpcs}
    outputs: [{Name: VpcId, Selector: "$.Vpcs[0].VpcId"}]
  - name: b
    action: aws:sleep
    inputs: {Duration: "{{ a.VpcIds }}"}
`
	_, diags := Load("v.yaml", []byte(src), testRegistry())
	want := `v.yaml:11:25: warning: step b: inputs.Duration: a.VpcIds: step a declares no output "VpcIds" (it has VpcId)`
	if HasErrors(diags) || len(diags) != 1 || !strings.HasPrefix(diags[0].String(), want) || diags[0].Kind != UndeclaredOutput {
		t.Fatalf("diags %q, want one warning starting %q", diags, want)
	}
	strict := Strict(diags)
	if !HasErrors(strict) || !strings.HasPrefix(strict[0].String(), "v.yaml:11:25: error: step b: inputs.Duration: a.VpcIds") {
		t.Errorf("strict: %q", strict)
	}
	// A step that does not exist stays an error: SSM refuses it.
	_, diags = Load("v.yaml", []byte(strings.Replace(src, "{{ a.VpcIds }}", "{{ c.VpcId }}", 1)), testRegistry())
	if !HasErrors(diags) {
		t.Errorf("reference to a missing step: %q", diags)
	}
}

// SSM converts a quoted number or boolean given for an Integer or Boolean
// parameter default or action input, except in aws:runCommand, whose inputs
// it types at CreateDocument.
func TestQuotedIntegersAndBooleansAreConverted(t *testing.T) {
	src := `schemaVersion: "0.3"
parameters:
  Wait: {type: Integer, default: "180"}
  Force: {type: Boolean, default: "true"}
  Bad: {type: Integer, default: "soon"}
mainSteps:
  - name: stop
    action: aws:changeInstanceState
    inputs: {InstanceIds: [i-1], DesiredState: stopped, Force: "True", CheckStateOnly: "false"}
  - name: cmd
    action: aws:runCommand
    inputs: {DocumentName: AWS-RunShellScript, InstanceIds: [i-1], TimeoutSeconds: "600"}
`
	d, diags := Load("q.yaml", []byte(src), corpusRegistry(t))
	var errs []string
	for _, dg := range diags {
		if dg.Severity == Error {
			errs = append(errs, dg.String())
		}
	}
	want := []string{
		`q.yaml:5:33: error: parameter Bad: default does not match type Integer: expected Integer, got string "soon"`,
		`q.yaml:12:84: error: step cmd: input TimeoutSeconds: expected Integer, got string "600"`,
	}
	if strings.Join(errs, "\n") != strings.Join(want, "\n") {
		t.Fatalf("errors:\n%s\nwant:\n%s", strings.Join(errs, "\n"), strings.Join(want, "\n"))
	}
	got, err := d.Coerce(Inputs{Typed: map[string]any{"Bad": 1}})
	if err != nil {
		t.Fatal(err)
	}
	if got["Wait"] != int64(180) || got["Force"] != true {
		t.Errorf("defaults coerced to %#v %#v, want 180 and true", got["Wait"], got["Force"])
	}
}

// aws:approve needs Approvers unless Change Manager's EnhancedApprovals
// stands in for them (AWS-HelloWorldChangeTemplate).
func TestApproveTakesApproversOrEnhancedApprovals(t *testing.T) {
	head := "schemaVersion: \"0.3\"\nmainSteps:\n  - name: approve\n    action: aws:approve\n    inputs:\n"
	_, diags := Load("a.yaml", []byte(head+"      EnhancedApprovals: {Approvers: [{approver: ops, type: IamGroup, minRequiredApprovals: 1}]}\n"), corpusRegistry(t))
	if HasErrors(diags) {
		t.Errorf("EnhancedApprovals without Approvers: %v", diags)
	}
	_, diags = Load("a.yaml", []byte(head+"      Message: hi\n"), corpusRegistry(t))
	if !HasErrors(diags) || !strings.Contains(diags[0].Message, "missing required input Approvers") {
		t.Errorf("neither: %v, want Approvers missing", diags)
	}
}
