package engine

import (
	"testing"
	"time"
)

// TestPartitionIsOneSetOfSystemVariables: in cn-north-1 the assume role
// recorded at start and the steps see the same partition, aws-cn.
func TestPartitionIsOneSetOfSystemVariables(t *testing.T) {
	h := newHarness(t)
	h.eng = New(Options{Store: h.db, Actions: h.reg, RetryDelay: time.Millisecond, Region: "cn-north-1", AccountID: "123456789012"})
	t.Cleanup(h.eng.Shutdown)
	st := h.run(`schemaVersion: '0.3'
assumeRole: 'arn:{{ global:AWS_PARTITION }}:iam::{{ global:ACCOUNT_ID }}:role/Ops'
mainSteps:
  - name: where
    action: test:echo
    inputs: {Value: '{{ global:AWS_PARTITION }} {{ global:URL_SUFFIX }}'}
`, nil)
	if st.Status != StatusSuccess {
		t.Fatalf("ended %s: %s", st.Status, st.FailureMessage)
	}
	if want := "arn:aws-cn:iam::123456789012:role/Ops"; st.Started.AssumeRole != want {
		t.Errorf("recorded assume role %q, want %q", st.Started.AssumeRole, want)
	}
	if got := st.Steps[0].Outputs["Value"]; got != "aws-cn amazonaws.com.cn" {
		t.Errorf("the step saw %q, want aws-cn amazonaws.com.cn", got)
	}
}
