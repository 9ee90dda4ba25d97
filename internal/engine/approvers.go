package engine

// Approvers lists who may decide the aws:approve step st (its Approvers
// input); nil for other steps. Front ends show the decision buttons to them
// only; Signal enforces the same rule.
func (st *StepState) Approvers() []string {
	if st.Action != "aws:approve" {
		return nil
	}
	return approverList(st.Inputs["Approvers"])
}

// IsApprover reports whether user (a capstan user's name or ARN) is one of
// approvers, by the rule Signal applies.
func IsApprover(approvers []string, user string) bool { return isApprover(approvers, user) }

// AwaitingStep is the step an Interactive execution waits to be told to
// start; "" when it waits for none.
func (s *State) AwaitingStep() string {
	if s.AwaitingStart == nil {
		return ""
	}
	return s.AwaitingStart.Step
}
