package action

// SignalType is one of SSM's SendAutomationSignal types.
type SignalType string

// The signal types of SendAutomationSignal.
const (
	SignalApprove   SignalType = "Approve"
	SignalReject    SignalType = "Reject"
	SignalResume    SignalType = "Resume"
	SignalStartStep SignalType = "StartStep"
	SignalStopStep  SignalType = "StopStep"
	SignalRevoke    SignalType = "Revoke"
)

// Valid reports whether t is one of SSM's signal types.
func (t SignalType) Valid() bool {
	switch t {
	case SignalApprove, SignalReject, SignalResume, SignalStartStep, SignalStopStep, SignalRevoke:
		return true
	}
	return false
}

// Signal is one signal delivered to a waiting step.
type Signal struct {
	Type SignalType
	// User is the caller's ARN; "" for an anonymous caller (a local run
	// without users).
	User    string
	Comment string
}

// Verdict is what the signals received so far do to a waiting step.
type Verdict struct {
	// Done: the step is decided; false keeps it waiting.
	Done bool
	// Failed: the step fails with Message (a rejection); otherwise it
	// succeeds.
	Failed  bool
	Message string
	Outputs map[string]any
}

// SignalWaiter is implemented by an action whose Run returns WaitSignal
// (aws:pause, aws:approve): the action, not the engine, decides which
// signals its step takes and what they do to it.
type SignalWaiter interface {
	// AcceptSignal returns an error saying why a signal of this type from
	// user cannot be delivered to a step with these inputs; nil if it can.
	AcceptSignal(inputs map[string]any, typ SignalType, user string) error
	// DecideSignals says what the signals received so far, oldest first, do.
	DecideSignals(inputs map[string]any, sigs []Signal) Verdict
}

// Approver is implemented by an action whose step is decided by named
// principals; front ends offer the decision to them only.
type Approver interface {
	// Approvers lists who may decide a step with these inputs; nil when
	// anyone may.
	Approvers(inputs map[string]any) []string
}
