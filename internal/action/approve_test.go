package action

import (
	"strings"
	"testing"
)

func TestApproveDecidesSignals(t *testing.T) {
	a := approve{}
	inputs := map[string]any{"Approvers": []any{"alice", "arn:aws:iam::123456789012:role/Ops"}, "MinRequiredApprovals": int64(2)}
	cases := []struct {
		name   string
		sigs   []Signal
		done   bool
		failed bool
		status string
	}{
		{"one approval of two", []Signal{{Type: SignalApprove, User: "arn:aws:iam::123456789012:user/alice"}}, false, false, ""},
		{"the same approver twice counts once", []Signal{{Type: SignalApprove, User: "alice"}, {Type: SignalApprove, User: "alice"}}, false, false, ""},
		{"two approvers", []Signal{{Type: SignalApprove, User: "alice"}, {Type: SignalApprove, User: "Ops"}}, true, false, "Approved"},
		{"a rejection after one approval", []Signal{{Type: SignalApprove, User: "alice"}, {Type: SignalReject, User: "Ops", Comment: "no"}}, true, true, "Rejected"},
	}
	for _, c := range cases {
		v := a.DecideSignals(inputs, c.sigs)
		if v.Done != c.done || v.Failed != c.failed || (c.done && v.Outputs["ApprovalStatus"] != c.status) {
			t.Errorf("%s: got %+v", c.name, v)
		}
	}
	if v := a.DecideSignals(inputs, []Signal{{Type: SignalReject, User: "Ops", Comment: "no"}}); !strings.Contains(v.Message, "rejected by Ops") {
		t.Errorf("rejection message %q", v.Message)
	}
}

func TestApproveAcceptsOnlyItsApprovers(t *testing.T) {
	a := approve{}
	inputs := map[string]any{"Approvers": "alice"}
	if err := a.AcceptSignal(inputs, SignalApprove, "arn:aws:iam::123456789012:user/alice"); err != nil {
		t.Errorf("alice by ARN refused: %v", err)
	}
	if err := a.AcceptSignal(inputs, SignalApprove, "bob"); err == nil || !strings.Contains(err.Error(), "bob is not one of the step's approvers (alice)") {
		t.Errorf("bob: %v", err)
	}
	if err := a.AcceptSignal(inputs, SignalReject, ""); err == nil || !strings.Contains(err.Error(), "an anonymous caller") {
		t.Errorf("anonymous: %v", err)
	}
	if err := a.AcceptSignal(inputs, SignalResume, "alice"); err == nil {
		t.Error("Resume accepted by aws:approve")
	}
	if err := a.AcceptSignal(map[string]any{}, SignalApprove, ""); err != nil {
		t.Errorf("a step without Approvers refused an anonymous approval: %v", err)
	}
}
