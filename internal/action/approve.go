package action

import (
	"context"
	"fmt"
	"strings"
	"time"
)

func registerApprove(r *Registry) {
	r.Register(Spec{
		Name:    "aws:approve",
		Summary: "Wait until enough approvers approve (SendAutomationSignal Approve) or one rejects.",
		Inputs: []Input{
			{Name: "Approvers", Type: StringList, Required: true, Unless: "EnhancedApprovals",
				Doc: "IAM user names or ARNs, role ARNs or assumed-role ARNs allowed to decide; at most 10. Not needed with EnhancedApprovals."},
			optDefault("MinRequiredApprovals", Integer, int64(1), "Approvals needed; at most the number of approvers."),
			opt("Message", String, "Text shown to approvers and sent in the notification; at most 4096 characters."),
			opt("NotificationArn", String, "SNS topic notified when approval is needed; its name must start with Automation."),
			// Change Manager templates (AWS-HelloWorldChangeTemplate) approve
			// through it instead of Approvers; SSM accepts them.
			opt("EnhancedApprovals", StringMap, "Change Manager approval settings (used by AWS-owned change templates) in place of Approvers."),
		},
		Outputs: []Output{
			{Name: "ApprovalStatus", Type: String, Doc: "Approved, Rejected or Waiting."},
			{Name: "ApproverDecisions", Type: MapList, Doc: "One entry per decision: approver, decision, time and comment."},
		},
		NoOnCancel:     true,
		DefaultTimeout: 7 * 24 * time.Hour,
		MaxTimeout:     30 * 24 * time.Hour,
		RetrySafe:      true,
		Impact:         NonMutating,
		Support:        Executes,
		IAM:            approveIAM,
	}, approve{})
}

// approveIAM: SSM publishes the approval request to NotificationArn as the
// automation's identity.
func approveIAM(inputs map[string]any) ([]string, string) {
	if present(inputs, "NotificationArn") {
		return []string{"sns:Publish"}, ""
	}
	return nil, ""
}

// approve parks the step; DecideSignals counts the Approve and Reject
// signals against Approvers and MinRequiredApprovals and sets the outputs.
type approve struct{}

func (approve) Run(context.Context, *Request) (*Result, error) {
	return &Result{WaitSignal: true}, nil
}

// AcceptSignal takes Approve and Reject, from one of the approvers when the
// step names any.
func (a approve) AcceptSignal(inputs map[string]any, typ SignalType, user string) error {
	if typ != SignalApprove && typ != SignalReject {
		return fmt.Errorf("the waiting step is aws:approve")
	}
	if list := a.Approvers(inputs); len(list) > 0 && !IsApprover(list, user) {
		who := user
		if who == "" {
			who = "an anonymous caller"
		}
		return fmt.Errorf("%s is not one of the step's approvers (%s)", who, strings.Join(list, ", "))
	}
	return nil
}

// DecideSignals: one rejection fails the step; MinRequiredApprovals
// approvals (default 1) succeed it.
func (approve) DecideSignals(inputs map[string]any, sigs []Signal) Verdict {
	need := 1
	if n, err := intInput("aws:approve", inputs, "MinRequiredApprovals", 1); err == nil && n > 0 {
		need = int(n)
	}
	var decisions []any
	// Each named approver counts once; anonymous approvals (a local run
	// without users) count each.
	named, anonymous := map[string]bool{}, 0
	for _, s := range sigs {
		d := map[string]any{"Approver": s.User, "Decision": s.Type}
		if s.Comment != "" {
			d["Comment"] = s.Comment
		}
		decisions = append(decisions, d)
		switch s.Type {
		case SignalReject:
			msg := "the approval request was rejected"
			if s.User != "" {
				msg += " by " + s.User
			}
			return Verdict{Done: true, Failed: true, Message: msg,
				Outputs: map[string]any{"ApprovalStatus": "Rejected", "ApproverDecisions": decisions}}
		case SignalApprove:
			if s.User == "" {
				anonymous++
			} else {
				named[s.User] = true
			}
		}
	}
	if len(named)+anonymous >= need {
		return Verdict{Done: true, Outputs: map[string]any{"ApprovalStatus": "Approved", "ApproverDecisions": decisions}}
	}
	return Verdict{}
}

// Approvers reads the Approvers input: a list, or one string.
func (approve) Approvers(inputs map[string]any) []string {
	switch x := inputs["Approvers"].(type) {
	case string:
		if x != "" {
			return []string{x}
		}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return x
	}
	return nil
}

// IsApprover reports whether user may decide an approval. Approvers name
// IAM users, roles or their ARNs; a capstan user (user is its ARN,
// arn:aws:iam::ACCOUNT:user/NAME) matches an entry equal to that ARN or to
// NAME. An ARN of another account does not match.
func IsApprover(approvers []string, user string) bool {
	if user == "" {
		return false
	}
	name := principalName(user)
	for _, a := range approvers {
		if a == user || a == name {
			return true
		}
	}
	return false
}

// principalName is the last path segment of an IAM user or role ARN, or s
// itself when it is not an ARN.
func principalName(s string) string {
	if !strings.HasPrefix(s, "arn:") {
		return s
	}
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:]
	}
	return s
}

var (
	_ Action       = approve{}
	_ SignalWaiter = approve{}
	_ Approver     = approve{}
)
