package action

import (
	"context"
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
func approveIAM(inputs map[string]any) ([]string, bool) {
	if present(inputs, "NotificationArn") {
		return []string{"sns:Publish"}, true
	}
	return nil, true
}

// approve parks the step; the engine collects Approve/Reject signals, checks
// them against Approvers and MinRequiredApprovals, and sets the outputs.
type approve struct{}

func (approve) Run(context.Context, *Request) (*Result, error) {
	return &Result{WaitSignal: true}, nil
}

var _ Action = approve{}
