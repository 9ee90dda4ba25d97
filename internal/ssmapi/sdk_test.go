package ssmapi

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/capstan-run/capstan/internal/service"
	"github.com/capstan-run/capstan/runbooks"
)

func errorCode(t *testing.T, err error) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want an API error, got %v", err)
	}
	return ae.ErrorCode()
}

func TestSDKDocumentLifecycle(t *testing.T) {
	e := newTestEnv(t)
	c := e.aliceClient()
	ctx := context.Background()

	created, err := c.CreateDocument(ctx, &ssm.CreateDocumentInput{Name: aws.String("Write-Param"), Content: aws.String(paramRunbook),
		DocumentType: types.DocumentTypeAutomation, DocumentFormat: types.DocumentFormatYaml, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("ops")}}})
	if err != nil {
		t.Fatal(err)
	}
	d := created.DocumentDescription
	if aws.ToString(d.DocumentVersion) != "1" || aws.ToString(d.DefaultVersion) != "1" || d.Status != types.DocumentStatusActive ||
		aws.ToString(d.SchemaVersion) != "0.3" || d.CreatedDate == nil || d.CreatedDate.IsZero() || len(d.Parameters) != 2 {
		t.Fatalf("CreateDocument description = %+v", d)
	}

	_, err = c.CreateDocument(ctx, &ssm.CreateDocumentInput{Name: aws.String("Write-Param"), Content: aws.String(paramRunbook), DocumentType: types.DocumentTypeAutomation, DocumentFormat: types.DocumentFormatYaml})
	if code := errorCode(t, err); code != "DocumentAlreadyExists" {
		t.Fatalf("duplicate name: %s", code)
	}
	var already *types.DocumentAlreadyExists
	if !errors.As(err, &already) {
		t.Fatalf("the SDK does not recognise the error as DocumentAlreadyExists: %T", err)
	}
	_, err = c.CreateDocument(ctx, &ssm.CreateDocumentInput{Name: aws.String("Broken"), Content: aws.String("schemaVersion: '0.3'\nmainSteps:\n  - name: a\n    action: aws:nope\n"),
		DocumentType: types.DocumentTypeAutomation, DocumentFormat: types.DocumentFormatYaml})
	var invalid *types.InvalidDocumentContent
	if !errors.As(err, &invalid) || !strings.Contains(invalid.ErrorMessage(), "aws:nope") {
		t.Fatalf("invalid runbook: want InvalidDocumentContent naming the action, got %v", err)
	}

	v2 := strings.Replace(paramRunbook, "default: hello", "default: hello2", 1)
	up, err := c.UpdateDocument(ctx, &ssm.UpdateDocumentInput{Name: aws.String("Write-Param"), Content: aws.String(v2), DocumentVersion: aws.String("$LATEST"), DocumentFormat: types.DocumentFormatYaml, VersionName: aws.String("two")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(up.DocumentDescription.DocumentVersion) != "2" || aws.ToString(up.DocumentDescription.DefaultVersion) != "1" || aws.ToString(up.DocumentDescription.LatestVersion) != "2" {
		t.Fatalf("UpdateDocument = %+v", up.DocumentDescription)
	}
	_, err = c.UpdateDocument(ctx, &ssm.UpdateDocumentInput{Name: aws.String("Write-Param"), Content: aws.String(v2), DocumentVersion: aws.String("$LATEST"), DocumentFormat: types.DocumentFormatYaml})
	if code := errorCode(t, err); code != "DuplicateDocumentContent" {
		t.Fatalf("same content again: %s", code)
	}

	got, err := c.GetDocument(ctx, &ssm.GetDocumentInput{Name: aws.String("Write-Param"), DocumentVersion: aws.String("2")})
	if err != nil || aws.ToString(got.Content) != v2 || aws.ToString(got.VersionName) != "two" {
		t.Fatalf("GetDocument v2 = %+v, %v", got, err)
	}
	asJSON, err := c.GetDocument(ctx, &ssm.GetDocumentInput{Name: aws.String("Write-Param"), DocumentFormat: types.DocumentFormatJson})
	if err != nil || asJSON.DocumentFormat != types.DocumentFormatJson || !strings.HasPrefix(aws.ToString(asJSON.Content), "{") || aws.ToString(asJSON.DocumentVersion) != "1" {
		t.Fatalf("GetDocument as JSON = %+v, %v", asJSON, err)
	}
	_, err = c.GetDocument(ctx, &ssm.GetDocumentInput{Name: aws.String("Nope-Doc")})
	if code := errorCode(t, err); code != "InvalidDocument" {
		t.Fatalf("missing document: %s", code)
	}

	if _, err := c.UpdateDocumentDefaultVersion(ctx, &ssm.UpdateDocumentDefaultVersionInput{Name: aws.String("Write-Param"), DocumentVersion: aws.String("2")}); err != nil {
		t.Fatal(err)
	}
	desc, err := c.DescribeDocument(ctx, &ssm.DescribeDocumentInput{Name: aws.String("Write-Param")})
	if err != nil || aws.ToString(desc.Document.DocumentVersion) != "2" || aws.ToString(desc.Document.DefaultVersion) != "2" {
		t.Fatalf("DescribeDocument after the default moved = %+v, %v", desc, err)
	}
	vers, err := c.ListDocumentVersions(ctx, &ssm.ListDocumentVersionsInput{Name: aws.String("Write-Param")})
	if err != nil || len(vers.DocumentVersions) != 2 || !vers.DocumentVersions[1].IsDefaultVersion {
		t.Fatalf("ListDocumentVersions = %+v, %v", vers, err)
	}

	for i := range 3 {
		e.createRunbook("Other-"+string(rune('A'+i)), pauseRunbook)
	}
	var names []string
	p := ssm.NewListDocumentsPaginator(c, &ssm.ListDocumentsInput{MaxResults: aws.Int32(2), Filters: []types.DocumentKeyValuesFilter{{Key: aws.String("Owner"), Values: []string{"Self"}}}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range page.DocumentIdentifiers {
			names = append(names, aws.ToString(d.Name))
		}
	}
	if strings.Join(names, ",") != "Other-A,Other-B,Other-C,Write-Param" {
		t.Fatalf("ListDocuments pages = %v", names)
	}
	tagged, err := c.ListDocuments(ctx, &ssm.ListDocumentsInput{Filters: []types.DocumentKeyValuesFilter{{Key: aws.String("tag:team"), Values: []string{"ops"}}}})
	if err != nil || len(tagged.DocumentIdentifiers) != 1 || aws.ToString(tagged.DocumentIdentifiers[0].Name) != "Write-Param" {
		t.Fatalf("ListDocuments tag:team = %+v, %v", tagged, err)
	}

	if _, err := c.DeleteDocument(ctx, &ssm.DeleteDocumentInput{Name: aws.String("Other-A")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeDocument(ctx, &ssm.DescribeDocumentInput{Name: aws.String("Other-A")})
	if code := errorCode(t, err); code != "InvalidDocument" {
		t.Fatalf("deleted document: %s", code)
	}
}

func TestSDKExecutionRunsAgainstMoto(t *testing.T) {
	e := newTestEnv(t)
	c := e.aliceClient()
	ctx := context.Background()
	e.createRunbook("Write-Param", paramRunbook)

	start, err := c.StartAutomationExecution(ctx, &ssm.StartAutomationExecutionInput{DocumentName: aws.String("Write-Param"),
		Parameters: map[string][]string{"Name": {"/capstan/sdk"}, "Value": {"from-sdk"}}, ClientToken: aws.String("tok-1"),
		Tags: []types.Tag{{Key: aws.String("purpose"), Value: aws.String("test")}}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(start.AutomationExecutionId)
	if len(id) != 36 {
		t.Fatalf("execution id %q is not 36 characters", id)
	}
	again, err := c.StartAutomationExecution(ctx, &ssm.StartAutomationExecutionInput{DocumentName: aws.String("Write-Param"),
		Parameters: map[string][]string{"Name": {"/capstan/sdk"}, "Value": {"from-sdk"}}, ClientToken: aws.String("tok-1")})
	if err != nil || aws.ToString(again.AutomationExecutionId) != id {
		t.Fatalf("same ClientToken started %v (%v), want the first execution %s", again, err, id)
	}
	_, err = c.StartAutomationExecution(ctx, &ssm.StartAutomationExecutionInput{DocumentName: aws.String("Write-Param"),
		Parameters: map[string][]string{"Name": {"/other"}}, ClientToken: aws.String("tok-1")})
	if code := errorCode(t, err); code != "IdempotentParameterMismatch" {
		t.Fatalf("reused token with other parameters: %s", code)
	}

	out := e.waitStatus(c, id, "Success", "Failed", "Cancelled", "TimedOut").AutomationExecution
	if out.AutomationExecutionStatus != types.AutomationExecutionStatusSuccess {
		t.Fatalf("execution ended %s: %s", out.AutomationExecutionStatus, aws.ToString(out.FailureMessage))
	}
	if got := out.Outputs["get.Value"]; len(got) != 1 || got[0] != "from-sdk" {
		t.Fatalf("Outputs = %v", out.Outputs)
	}
	if aws.ToString(out.ExecutedBy) != e.alice.ARN || e.alice.ARN != "arn:aws:iam::000000000000:user/alice" {
		t.Fatalf("ExecutedBy = %q, want alice's ARN %q", aws.ToString(out.ExecutedBy), e.alice.ARN)
	}
	if len(out.StepExecutions) != 3 || out.ExecutionStartTime == nil || out.ExecutionEndTime == nil || out.ExecutionEndTime.Before(*out.ExecutionStartTime) {
		t.Fatalf("steps/times = %+v", out)
	}
	if v := e.motoParameter("/capstan/sdk"); v != "from-sdk" {
		t.Fatalf("moto holds %q", v)
	}

	list, err := c.DescribeAutomationExecutions(ctx, &ssm.DescribeAutomationExecutionsInput{Filters: []types.AutomationExecutionFilter{
		{Key: types.AutomationExecutionFilterKeyExecutionId, Values: []string{id}},
		{Key: types.AutomationExecutionFilterKeyTagKey, Values: []string{"purpose"}},
	}})
	if err != nil || len(list.AutomationExecutionMetadataList) != 1 {
		t.Fatalf("DescribeAutomationExecutions by id = %+v, %v", list, err)
	}
	if m := list.AutomationExecutionMetadataList[0]; m.AutomationExecutionStatus != types.AutomationExecutionStatusSuccess || aws.ToString(m.DocumentName) != "Write-Param" || m.AutomationType != types.AutomationTypeLocal {
		t.Fatalf("metadata = %+v", m)
	}
	steps, err := c.DescribeAutomationStepExecutions(ctx, &ssm.DescribeAutomationStepExecutionsInput{AutomationExecutionId: aws.String(id), MaxResults: aws.Int32(2), ReverseOrder: aws.Bool(true)})
	if err != nil || len(steps.StepExecutions) != 2 || aws.ToString(steps.StepExecutions[0].StepName) != "tag" || steps.NextToken == nil {
		t.Fatalf("DescribeAutomationStepExecutions = %+v, %v", steps, err)
	}
	rest, err := c.DescribeAutomationStepExecutions(ctx, &ssm.DescribeAutomationStepExecutionsInput{AutomationExecutionId: aws.String(id), MaxResults: aws.Int32(2), ReverseOrder: aws.Bool(true), NextToken: steps.NextToken})
	if err != nil || len(rest.StepExecutions) != 1 || aws.ToString(rest.StepExecutions[0].StepName) != "put" {
		t.Fatalf("second page = %+v, %v", rest, err)
	}

	_, err = c.StopAutomationExecution(ctx, &ssm.StopAutomationExecutionInput{AutomationExecutionId: aws.String(id)})
	if code := errorCode(t, err); code != "InvalidAutomationStatusUpdateException" {
		t.Fatalf("stopping a finished execution: %s", code)
	}
}

func TestSDKStartErrors(t *testing.T) {
	e := newTestEnv(t)
	c := e.aliceClient()
	ctx := context.Background()
	e.createRunbook("Write-Param", paramRunbook)
	cases := []struct {
		name string
		in   ssm.StartAutomationExecutionInput
		want string
	}{
		{"unknown document", ssm.StartAutomationExecutionInput{DocumentName: aws.String("No-Such-Doc")}, "AutomationDefinitionNotFoundException"},
		{"unknown version", ssm.StartAutomationExecutionInput{DocumentName: aws.String("Write-Param"), DocumentVersion: aws.String("7"), Parameters: map[string][]string{"Name": {"x"}}}, "AutomationDefinitionVersionNotFoundException"},
		{"missing required parameter", ssm.StartAutomationExecutionInput{DocumentName: aws.String("Write-Param")}, "InvalidAutomationExecutionParametersException"},
		{"undeclared parameter", ssm.StartAutomationExecutionInput{DocumentName: aws.String("Write-Param"), Parameters: map[string][]string{"Name": {"x"}, "Bogus": {"y"}}}, "InvalidAutomationExecutionParametersException"},
		{"oversize parameter", ssm.StartAutomationExecutionInput{DocumentName: aws.String("Write-Param"), Parameters: map[string][]string{"Name": {strings.Repeat("x", 600)}}}, "InvalidAutomationExecutionParametersException"},
	}
	for _, tc := range cases {
		_, err := c.StartAutomationExecution(ctx, &tc.in)
		if code := errorCode(t, err); code != tc.want {
			t.Errorf("%s: got %s (%v), want %s", tc.name, code, err, tc.want)
		}
	}
	_, err := c.GetAutomationExecution(ctx, &ssm.GetAutomationExecutionInput{AutomationExecutionId: aws.String("00000000-0000-4000-8000-000000000000")})
	var nf *types.AutomationExecutionNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("unknown execution: %v", err)
	}
}

func TestSDKApproveAndPauseSignals(t *testing.T) {
	e := newTestEnv(t)
	c := e.aliceClient()
	ctx := context.Background()
	e.createRunbook("Approve-Write", approveRunbook)
	e.createRunbook("Pause-Write", pauseRunbook)

	start, err := c.StartAutomationExecution(ctx, &ssm.StartAutomationExecutionInput{DocumentName: aws.String("Approve-Write"), Parameters: map[string][]string{"Name": {"/approved"}}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(start.AutomationExecutionId)
	w := e.waitStatus(c, id, "Waiting").AutomationExecution
	if aws.ToString(w.CurrentStepName) != "approve" || aws.ToString(w.CurrentAction) != "aws:approve" {
		t.Fatalf("waiting at %q/%q", aws.ToString(w.CurrentStepName), aws.ToString(w.CurrentAction))
	}
	_, err = c.SendAutomationSignal(ctx, &ssm.SendAutomationSignalInput{AutomationExecutionId: aws.String(id), SignalType: types.SignalTypeResume})
	if code := errorCode(t, err); code != "InvalidAutomationSignalException" {
		t.Fatalf("Resume to an approval: %s", code)
	}
	// Only listed approvers decide: bob is a user, but not an approver.
	bob, bobSecret, err := e.svc.CreateUser(ctx, service.Principal{Name: "admin"}, "bob")
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.client(bob.AccessKeyID, bobSecret).SendAutomationSignal(ctx, &ssm.SendAutomationSignalInput{AutomationExecutionId: aws.String(id), SignalType: types.SignalTypeApprove})
	var notApprover *types.InvalidAutomationSignalException
	if !errors.As(err, &notApprover) || !strings.Contains(notApprover.ErrorMessage(), "not one of the step's approvers") {
		t.Fatalf("Approve from a non-approver: %v", err)
	}
	if _, err := c.SendAutomationSignal(ctx, &ssm.SendAutomationSignalInput{AutomationExecutionId: aws.String(id), SignalType: types.SignalTypeApprove,
		Payload: map[string][]string{"Comment": {"go"}}}); err != nil {
		t.Fatal(err)
	}
	if st := e.waitStatus(c, id, "Success", "Failed").AutomationExecution; st.AutomationExecutionStatus != types.AutomationExecutionStatusSuccess {
		t.Fatalf("approved execution ended %s: %s", st.AutomationExecutionStatus, aws.ToString(st.FailureMessage))
	}
	if v := e.motoParameter("/approved"); v != "approved" {
		t.Fatalf("moto holds %q", v)
	}

	// Approvers may name the ARN capstan shows for a user.
	e.createRunbook("Approve-By-Arn", strings.Replace(approveRunbook, "- alice", "- "+e.alice.ARN, 1))
	start, err = c.StartAutomationExecution(ctx, &ssm.StartAutomationExecutionInput{DocumentName: aws.String("Approve-By-Arn"), Parameters: map[string][]string{"Name": {"/by-arn"}}})
	if err != nil {
		t.Fatal(err)
	}
	e.waitStatus(c, aws.ToString(start.AutomationExecutionId), "Waiting")
	if _, err := c.SendAutomationSignal(ctx, &ssm.SendAutomationSignalInput{AutomationExecutionId: start.AutomationExecutionId, SignalType: types.SignalTypeApprove}); err != nil {
		t.Fatalf("approver named by ARN: %v", err)
	}
	e.waitStatus(c, aws.ToString(start.AutomationExecutionId), "Success")

	start, err = c.StartAutomationExecution(ctx, &ssm.StartAutomationExecutionInput{DocumentName: aws.String("Pause-Write"), Parameters: map[string][]string{"Name": {"/paused"}}})
	if err != nil {
		t.Fatal(err)
	}
	id = aws.ToString(start.AutomationExecutionId)
	e.waitStatus(c, id, "Waiting")
	if _, err := c.SendAutomationSignal(ctx, &ssm.SendAutomationSignalInput{AutomationExecutionId: aws.String(id), SignalType: types.SignalTypeResume}); err != nil {
		t.Fatal(err)
	}
	if st := e.waitStatus(c, id, "Success", "Failed").AutomationExecution; st.AutomationExecutionStatus != types.AutomationExecutionStatusSuccess {
		t.Fatalf("resumed execution ended %s", st.AutomationExecutionStatus)
	}

	// A waiting execution is cancelled by StopAutomationExecution.
	start, err = c.StartAutomationExecution(ctx, &ssm.StartAutomationExecutionInput{DocumentName: aws.String("Pause-Write"), Parameters: map[string][]string{"Name": {"/cancelled"}}})
	if err != nil {
		t.Fatal(err)
	}
	id = aws.ToString(start.AutomationExecutionId)
	e.waitStatus(c, id, "Waiting")
	if _, err := c.StopAutomationExecution(ctx, &ssm.StopAutomationExecutionInput{AutomationExecutionId: aws.String(id), Type: types.StopTypeCancel}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(c, id, "Cancelled")
}

func TestRestartResumesWaitingExecution(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	e.createRunbook("Pause-Write", pauseRunbook)
	start, err := e.aliceClient().StartAutomationExecution(ctx, &ssm.StartAutomationExecutionInput{DocumentName: aws.String("Pause-Write"), Parameters: map[string][]string{"Name": {"/restart"}}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(start.AutomationExecutionId)
	e.waitStatus(e.aliceClient(), id, "Waiting")

	e.stopEngine()
	e.startEngine()
	if n, err := e.eng.ResumeAll(ctx); err != nil || n != 1 {
		t.Fatalf("ResumeAll = %d, %v; want the waiting execution", n, err)
	}
	c := e.aliceClient()
	if _, err := c.SendAutomationSignal(ctx, &ssm.SendAutomationSignalInput{AutomationExecutionId: aws.String(id), SignalType: types.SignalTypeResume}); err != nil {
		t.Fatalf("Resume after restart: %v", err)
	}
	if st := e.waitStatus(c, id, "Success", "Failed").AutomationExecution; st.AutomationExecutionStatus != types.AutomationExecutionStatusSuccess {
		t.Fatalf("execution ended %s: %s", st.AutomationExecutionStatus, aws.ToString(st.FailureMessage))
	}
	if v := e.motoParameter("/restart"); v != "resumed" {
		t.Fatalf("moto holds %q", v)
	}
}

func TestBuiltInLibraryIsVisible(t *testing.T) {
	e := newTestEnv(t)
	c := e.aliceClient()
	ctx := context.Background()
	e.createRunbook("Mine-First", pauseRunbook)

	var names []string
	p := ssm.NewListDocumentsPaginator(c, &ssm.ListDocumentsInput{MaxResults: aws.Int32(4)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range page.DocumentIdentifiers {
			names = append(names, aws.ToString(d.Name)+"@"+aws.ToString(d.Owner))
		}
	}
	if len(names) != 1+len(runbooks.Names()) || names[0] != "Mine-First@000000000000" || !contains(names, "AWS-RestartEC2Instance@Amazon") {
		t.Fatalf("ListDocuments = %v", names)
	}
	amazon, err := c.ListDocuments(ctx, &ssm.ListDocumentsInput{Filters: []types.DocumentKeyValuesFilter{{Key: aws.String("Owner"), Values: []string{"Amazon"}}, {Key: aws.String("Name"), Values: []string{"AWS-Stop"}}}})
	if err != nil || len(amazon.DocumentIdentifiers) != 1 || aws.ToString(amazon.DocumentIdentifiers[0].Name) != "AWS-StopEC2Instance" {
		t.Fatalf("Owner=Amazon Name=AWS-Stop: %+v, %v", amazon, err)
	}
	desc, err := c.DescribeDocument(ctx, &ssm.DescribeDocumentInput{Name: aws.String("AWS-RestartEC2Instance")})
	if err != nil || aws.ToString(desc.Document.Owner) != "Amazon" || desc.Document.DocumentType != types.DocumentTypeAutomation || len(desc.Document.Parameters) == 0 {
		t.Fatalf("DescribeDocument AWS-RestartEC2Instance = %+v, %v", desc, err)
	}
	_, err = c.DeleteDocument(ctx, &ssm.DeleteDocumentInput{Name: aws.String("AWS-RestartEC2Instance")})
	if code := errorCode(t, err); code != "InvalidDocumentOperation" {
		t.Fatalf("deleting a built-in runbook: %s", code)
	}
	// Starting one resolves it from the library: its parameters are checked.
	_, err = c.StartAutomationExecution(ctx, &ssm.StartAutomationExecutionInput{DocumentName: aws.String("AWS-RestartEC2Instance")})
	if code := errorCode(t, err); code != "InvalidAutomationExecutionParametersException" {
		t.Fatalf("library runbook without its InstanceId: %s", code)
	}
}

func TestStopCompleteEndsAfterTheCurrentStep(t *testing.T) {
	e := newTestEnv(t)
	c := e.aliceClient()
	ctx := context.Background()
	e.createRunbook("Pause-Write", pauseRunbook)
	start, err := c.StartAutomationExecution(ctx, &ssm.StartAutomationExecutionInput{DocumentName: aws.String("Pause-Write"), Parameters: map[string][]string{"Name": {"/completed"}}})
	if err != nil {
		t.Fatal(err)
	}
	id := start.AutomationExecutionId
	e.waitStatus(c, aws.ToString(id), "Waiting")
	if _, err := c.StopAutomationExecution(ctx, &ssm.StopAutomationExecutionInput{AutomationExecutionId: id, Type: types.StopTypeComplete}); err != nil {
		t.Fatal(err)
	}
	// The paused step is still the step in progress: it ends with its signal.
	if _, err := c.SendAutomationSignal(ctx, &ssm.SendAutomationSignalInput{AutomationExecutionId: id, SignalType: types.SignalTypeResume}); err != nil {
		t.Fatal(err)
	}
	got := e.waitStatus(c, aws.ToString(id), "Success", "Failed", "Cancelled").AutomationExecution
	if got.AutomationExecutionStatus != types.AutomationExecutionStatusSuccess {
		t.Fatalf("completed execution ended %s", got.AutomationExecutionStatus)
	}
	for _, st := range got.StepExecutions {
		if aws.ToString(st.StepName) == "put" && st.StepStatus != types.AutomationExecutionStatusPending {
			t.Fatalf("the step after Complete ran: %s", st.StepStatus)
		}
	}
	_, err = ssm.NewFromConfig(e.cfg).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/completed")})
	if err == nil {
		t.Fatal("the step after Complete wrote its parameter")
	}
}

func TestInteractiveModeRunsOneStepPerStartStep(t *testing.T) {
	e := newTestEnv(t)
	c := e.aliceClient()
	ctx := context.Background()
	e.createRunbook("Write-Param", paramRunbook)
	start, err := c.StartAutomationExecution(ctx, &ssm.StartAutomationExecutionInput{DocumentName: aws.String("Write-Param"),
		Mode: types.ExecutionModeInteractive, Parameters: map[string][]string{"Name": {"/interactive"}, "Value": {"step"}}})
	if err != nil {
		t.Fatal(err)
	}
	id := start.AutomationExecutionId
	w := e.waitStatus(c, aws.ToString(id), "Waiting").AutomationExecution
	if len(w.StepExecutions) != 0 || w.Mode != types.ExecutionModeInteractive {
		t.Fatalf("before any StartStep: %d steps ran, mode %s", len(w.StepExecutions), w.Mode)
	}
	_, err = c.SendAutomationSignal(ctx, &ssm.SendAutomationSignalInput{AutomationExecutionId: id, SignalType: types.SignalTypeApprove})
	if code := errorCode(t, err); code != "InvalidAutomationSignalException" {
		t.Fatalf("Approve while waiting for StartStep: %s", code)
	}
	_, err = c.SendAutomationSignal(ctx, &ssm.SendAutomationSignalInput{AutomationExecutionId: id, SignalType: types.SignalTypeStartStep, Payload: map[string][]string{"StepName": {"gte"}}})
	if code := errorCode(t, err); code != "InvalidAutomationSignalException" {
		t.Fatalf("StartStep of an unknown step: %s", code)
	}
	if !strings.Contains(err.Error(), `the runbook has no step "gte" (did you mean "get"?)`) {
		t.Fatalf("StartStep of a misspelt step says %v; want the step it probably meant", err)
	}
	for n := 1; n <= 3; n++ {
		if _, err := c.SendAutomationSignal(ctx, &ssm.SendAutomationSignalInput{AutomationExecutionId: id, SignalType: types.SignalTypeStartStep}); err != nil {
			t.Fatalf("StartStep %d: %v", n, err)
		}
		got := e.waitStatus(c, aws.ToString(id), "Waiting", "Success").AutomationExecution
		// Wait until the step has ended and the execution waits again.
		for i := 0; i < 200 && got.ProgressCounters.SuccessSteps < int32(n); i++ {
			time.Sleep(20 * time.Millisecond)
			got = e.waitStatus(c, aws.ToString(id), "Waiting", "Success").AutomationExecution
		}
		if len(got.StepExecutions) != n || got.ProgressCounters.SuccessSteps != int32(n) {
			t.Fatalf("after StartStep %d: %d steps, %d succeeded", n, len(got.StepExecutions), got.ProgressCounters.SuccessSteps)
		}
		if n == 1 && e.motoParameter("/interactive") != "step" {
			t.Fatal("the first step did not write its parameter")
		}
	}
	if got := e.waitStatus(c, aws.ToString(id), "Success", "Failed").AutomationExecution; got.AutomationExecutionStatus != types.AutomationExecutionStatusSuccess {
		t.Fatalf("interactive execution ended %s", got.AutomationExecutionStatus)
	}
}

const napThenWrite = `schemaVersion: '0.3'
mainSteps:
  - name: nap
    action: aws:sleep
    inputs:
      Duration: PT1H
  - name: put
    action: aws:executeAwsApi
    inputs:
      Service: ssm
      Api: PutParameter
      Name: /after-stop
      Value: ran
      Type: String
`

func TestStopStepEndsTheRunningStepOfAnInteractiveExecution(t *testing.T) {
	e := newTestEnv(t)
	c := e.aliceClient()
	ctx := context.Background()
	e.createRunbook("Nap-Then-Write", napThenWrite)
	auto, err := c.StartAutomationExecution(ctx, &ssm.StartAutomationExecutionInput{DocumentName: aws.String("Nap-Then-Write")})
	if err != nil {
		t.Fatal(err)
	}
	e.waitStatus(c, aws.ToString(auto.AutomationExecutionId), "InProgress", "Waiting")
	_, err = c.SendAutomationSignal(ctx, &ssm.SendAutomationSignalInput{AutomationExecutionId: auto.AutomationExecutionId, SignalType: types.SignalTypeStopStep})
	if code := errorCode(t, err); code != "InvalidAutomationSignalException" {
		t.Fatalf("StopStep in Auto mode: %s", code)
	}

	start, err := c.StartAutomationExecution(ctx, &ssm.StartAutomationExecutionInput{DocumentName: aws.String("Nap-Then-Write"), Mode: types.ExecutionModeInteractive})
	if err != nil {
		t.Fatal(err)
	}
	id := start.AutomationExecutionId
	e.waitStatus(c, aws.ToString(id), "Waiting")
	_, err = c.SendAutomationSignal(ctx, &ssm.SendAutomationSignalInput{AutomationExecutionId: id, SignalType: types.SignalTypeStopStep})
	if code := errorCode(t, err); code != "InvalidAutomationSignalException" {
		t.Fatalf("StopStep with no step running: %s", code)
	}
	if _, err := c.SendAutomationSignal(ctx, &ssm.SendAutomationSignalInput{AutomationExecutionId: id, SignalType: types.SignalTypeStartStep}); err != nil {
		t.Fatal(err)
	}
	var napID string
	for i := 0; i < 200 && napID == ""; i++ {
		got := e.waitStatus(c, aws.ToString(id), "Waiting", "InProgress").AutomationExecution
		if len(got.StepExecutions) == 1 && got.StepExecutions[0].StepStatus == types.AutomationExecutionStatusInprogress {
			napID = aws.ToString(got.StepExecutions[0].StepExecutionId)
		} else {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if napID == "" {
		t.Fatal("the sleep step never started")
	}
	_, err = c.SendAutomationSignal(ctx, &ssm.SendAutomationSignalInput{AutomationExecutionId: id, SignalType: types.SignalTypeStopStep, Payload: map[string][]string{"StepExecutionId": {"not-this-one"}}})
	if code := errorCode(t, err); code != "InvalidAutomationSignalException" {
		t.Fatalf("StopStep naming another step execution: %s", code)
	}
	if _, err := c.SendAutomationSignal(ctx, &ssm.SendAutomationSignalInput{AutomationExecutionId: id, SignalType: types.SignalTypeStopStep, Payload: map[string][]string{"StepExecutionId": {napID}}}); err != nil {
		t.Fatalf("StopStep: %v", err)
	}
	var nap types.StepExecution
	for i := 0; i < 200; i++ {
		got := e.waitStatus(c, aws.ToString(id), "Waiting").AutomationExecution
		if nap = got.StepExecutions[0]; nap.StepStatus == types.AutomationExecutionStatusCancelled {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if nap.StepStatus != types.AutomationExecutionStatusCancelled || !strings.Contains(aws.ToString(nap.FailureMessage), "StopStep") {
		t.Fatalf("stopped step: %s %q", nap.StepStatus, aws.ToString(nap.FailureMessage))
	}
	// The execution goes on: the next StartStep runs the next step.
	if _, err := c.SendAutomationSignal(ctx, &ssm.SendAutomationSignalInput{AutomationExecutionId: id, SignalType: types.SignalTypeStartStep}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(c, aws.ToString(id), "Success")
	if e.motoParameter("/after-stop") != "ran" {
		t.Fatal("the step after the stopped one did not run")
	}
}
