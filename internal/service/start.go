package service

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/authz"
	"github.com/capstan-run/capstan/internal/awsapi"
	"github.com/capstan-run/capstan/internal/catalog"
	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/keys"
	"github.com/capstan-run/capstan/internal/store"
)

// SSM's limits on StartAutomationExecution.
const (
	MaxParameterValue = 512
	MaxExecutionTags  = 5
)

// StartInput is a request to start an execution, from any front end.
type StartInput struct {
	// DocumentName and DocumentVersion name a runbook to resolve (store,
	// library, account); the version is "" for the default.
	DocumentName    string
	DocumentVersion string
	// File and Source give a runbook directly (capstan run FILE) instead:
	// File names it in diagnostics; DocumentName is still what the
	// execution records.
	File   string
	Source []byte
	// Parameters are the values supplied, in any of the front ends' forms.
	Parameters document.Inputs
	// KeyParameters take String parameters' values from key storage: the
	// parameter's name and the path of its value. The caller needs
	// capstan:ReadKey on the path; the value is read at start to check it
	// by the runbook's rules and read again when the execution runs, and it
	// is never recorded or shown (keyparams.go). Unlike a parameter value
	// naming {{ key:PATH }}, which is taken literally, this is an explicit,
	// authorized request.
	KeyParameters map[string]string
	Mode          engine.Mode
	Tags          map[string]string
	// Project is the project to run in; "" for the ProjectTag among Tags,
	// else the runbook's project.
	Project string
	// ClientToken makes the start idempotent.
	ClientToken string
	// Fleet makes the execution a rate-controlled run (Targets, TargetMaps,
	// TargetLocations, MaxConcurrency, MaxErrors).
	Fleet *engine.Fleet
	// Unsupported names inputs the request set that capstan does not
	// support there: it refuses them rather than ignore them.
	Unsupported []string
}

// StartExecution prepares and starts an execution: the one start path of
// every front end. It resolves the runbook, checks its type and content,
// the AWS services and operations it names, coerces and checks the
// parameters against the runbook and SSM's limits, and only then records
// the execution. A repeated ClientToken returns the earlier execution.
func (s *Service) StartExecution(ctx context.Context, p Principal, in StartInput) (id string, err error) {
	defer func() {
		s.record(ctx, p, authz.StartAutomationExecution, s.scope().AutomationDefinition(in.DocumentName, in.DocumentVersion), id, err)
	}()
	if in.Project, in.Tags, err = takeProject(in.Project, in.Tags); err != nil {
		return "", err
	}
	// capstan:Project is the project asked for, else the runbook's.
	if err := s.authorizeIn(ctx, p, authz.StartAutomationExecution, in.DocumentName, in.Project); err != nil {
		return "", err
	}
	token := principalToken(p, in.ClientToken)
	if token != "" {
		if id, err := s.store.ClientToken(ctx, token); err == nil {
			return s.sameStart(ctx, id, in)
		} else if !errors.Is(err, store.ErrNotFound) {
			return "", fmt.Errorf("looking up client token: %w", err)
		}
	}
	req, err := s.prepare(ctx, p, in)
	if err != nil {
		return "", err
	}
	req.ClientToken = token
	id, err = s.engine.Start(ctx, req)
	if errors.Is(err, store.ErrExists) && token != "" {
		// Another request with the same token won the race.
		if prev, terr := s.store.ClientToken(ctx, token); terr == nil {
			return s.sameStart(ctx, prev, in)
		}
	}
	return id, err
}

// principalToken scopes a ClientToken to its caller, so that one user's
// token neither finds nor blocks another's execution.
func principalToken(p Principal, token string) string {
	if token == "" {
		return ""
	}
	return p.ExecutedBy() + " " + token
}

// PrepareChild implements engine.Children: aws:executeAutomation starts its
// child through the same checks as any front end, as the parent's caller,
// in the parent's project.
func (s *Service) PrepareChild(ctx context.Context, executedBy, project string, inputs map[string]any) (engine.StartRequest, error) {
	p := Principal{Name: executedBy}
	if strings.HasPrefix(executedBy, "arn:") {
		p.ARN = executedBy
	}
	in := StartInput{}
	in.DocumentName, _ = inputs["DocumentName"].(string)
	in.DocumentVersion, _ = inputs["DocumentVersion"].(string)
	params, _ := inputs["RuntimeParameters"].(map[string]any)
	in.Parameters = document.Inputs{Typed: params}
	fleet, err := engine.FleetInputs(inputs)
	if err != nil {
		return engine.StartRequest{}, fmt.Errorf("child runbook %s: %w", in.DocumentName, err)
	}
	in.Fleet, in.Project = fleet, store.ProjectOf(project)
	if err := s.authorizeIn(ctx, p, authz.StartAutomationExecution, in.DocumentName, in.Project); err != nil {
		return engine.StartRequest{}, err
	}
	req, err := s.prepare(ctx, p, in)
	if err != nil {
		return engine.StartRequest{}, fmt.Errorf("child runbook %s: %w", in.DocumentName, err)
	}
	return req, nil
}

// prepare turns a start request into the engine's, checking everything that
// can be checked before an execution exists.
func (s *Service) prepare(ctx context.Context, p Principal, in StartInput) (engine.StartRequest, error) {
	if in.DocumentName == "" && in.Source == nil {
		return engine.StartRequest{}, newError(CodeValidation, "1 validation error detected: Value null at 'documentName' failed to satisfy constraint: Member must not be null")
	}
	if len(in.Unsupported) > 0 {
		return engine.StartRequest{}, newError(CodeInvalidParameters, "capstan does not support %s", strings.Join(in.Unsupported, ", "))
	}
	mode := in.Mode
	if mode == "" {
		mode = engine.ModeAuto
	}
	if !mode.Valid() {
		return engine.StartRequest{}, newError(CodeValidation, "1 validation error detected: Value '%s' at 'mode' failed to satisfy constraint: Member must satisfy enum value set: [Auto, Interactive]", in.Mode)
	}
	if len(in.Tags) > MaxExecutionTags {
		return engine.StartRequest{}, newError(CodeValidation, "an execution takes at most %d tags, not %d", MaxExecutionTags, len(in.Tags))
	}
	rb := catalog.Runbook{Name: in.DocumentName, Source: in.Source, DocumentType: "Automation"}
	file := in.File
	if in.Source == nil {
		var err error
		if rb, err = s.catalog.Find(ctx, in.DocumentName, in.DocumentVersion); err != nil {
			return engine.StartRequest{}, findError(err)
		}
		file = rb.Name
	}
	if rb.DocumentType != "Automation" && rb.DocumentType != "" {
		return engine.StartRequest{}, newError(CodeInvalidParameters, "document %s is a %s document, not an Automation runbook", rb.Name, rb.DocumentType)
	}
	doc, diags := document.Load(file, rb.Source, s.actions)
	if doc != nil && !document.HasErrors(diags) {
		diags = append(diags, Lint(doc, s.actions)...)
	}
	if doc == nil || document.HasErrors(diags) {
		return engine.StartRequest{}, newError(CodeInvalidDocumentContent, "the runbook %s is not valid:\n%s", rb.Name, errorLines(diags))
	}
	project, err := s.executionProject(rb.Name, rb.Project, in.Project)
	if err != nil {
		return engine.StartRequest{}, err
	}
	region := s.projectRegion(project)
	if region == "" {
		if step, act := s.firstAWSStep(doc.MainSteps); step != "" {
			e := newError(CodeInvalidParameters, "the runbook %s calls AWS (step %s: %s) but project %s has no AWS region: pass --region, or set AWS_REGION or AWS_DEFAULT_REGION (or region: of the project or the system in the configuration) where capstan runs", rb.Name, step, act, project)
			e.Setup = true
			return engine.StartRequest{}, e
		}
	}
	var params map[string]any
	in.Project = project
	inputs, err := s.keyInputs(ctx, p, doc, in)
	if err != nil {
		return engine.StartRequest{}, err
	}
	in.Parameters = inputs
	if in.Fleet != nil {
		if err := engine.ValidateFleet(doc, in.Fleet); err != nil {
			return engine.StartRequest{}, wrapError(CodeInvalidParameters, err)
		}
		params, err = engine.FleetParameters(doc, in.Parameters, in.Fleet)
	} else {
		params, err = doc.Coerce(in.Parameters)
	}
	if err != nil {
		return engine.StartRequest{}, wrapError(CodeInvalidParameters, maskKeyValues(err, in.KeyParameters))
	}
	for name := range in.KeyParameters {
		params[name] = keys.Masked
	}
	for name, vals := range engine.ParameterText(params) {
		for _, v := range vals {
			if len(v) > MaxParameterValue {
				return engine.StartRequest{}, newError(CodeInvalidParameters, "parameter %s: a value is %d characters long; SSM takes at most %d", name, len(v), MaxParameterValue)
			}
		}
	}
	tags := in.Tags
	if len(tags) == 0 {
		tags = nil
	}
	return engine.StartRequest{
		Document: doc, Source: rb.Source, DocumentName: rb.Name, DocumentVersion: rb.Version,
		Parameters: params, Mode: mode, ExecutedBy: p.ExecutedBy(), Tags: tags, Fleet: in.Fleet,
		KeyParameters: in.KeyParameters, Project: project, Region: region,
	}, nil
}

// findError maps the resolver's errors to the service's.
func findError(err error) error {
	switch {
	case errors.Is(err, catalog.ErrVersionNotFound):
		return wrapError(CodeVersionNotFound, err)
	case errors.Is(err, catalog.ErrNotFound):
		return wrapError(CodeDefinitionNotFound, err)
	}
	return err
}

func errorLines(diags []document.Diagnostic) string {
	var lines []string
	for _, d := range diags {
		if d.Severity == document.Error {
			lines = append(lines, d.String())
		}
	}
	return strings.Join(lines, "\n")
}

// sameStart answers a repeated ClientToken: the earlier execution when the
// request matches it, IdempotentParameterMismatch when it does not.
func (s *Service) sameStart(ctx context.Context, id string, in StartInput) (string, error) {
	st, err := s.engine.Get(ctx, id)
	if err != nil {
		return "", fmt.Errorf("reading execution %s: %w", id, err)
	}
	same := st.Started.DocumentName == in.DocumentName &&
		(in.DocumentVersion == "" || in.DocumentVersion == st.Started.DocumentVersion || strings.HasPrefix(in.DocumentVersion, "$"))
	if same {
		for k, v := range in.Parameters.Values {
			if !reflect.DeepEqual(st.Started.ParameterText[k], v) {
				same = false
			}
		}
	}
	if !same {
		return "", newError(CodeIdempotentMismatch, "Error occurred during operation 'StartAutomationExecution': the ClientToken was used by a different request.")
	}
	return id, nil
}

// Lint checks what document validation cannot: the literal Service, Api and
// request members of AWS API steps against the service models, so that a
// misspelt service, operation or member fails before anything runs rather
// than halfway through. Templated names are checked when the step runs.
func Lint(doc *document.Document, actions *action.Registry) []document.Diagnostic {
	return lintSteps(nil, doc.File, doc.MainSteps, actions)
}

// lintSteps checks a step list and the nested steps of its loops. An AWS API
// step is one whose action declares Service and Api and passes its other
// inputs through as the operation's request (Spec.OpenInputs).
func lintSteps(out []document.Diagnostic, file string, steps []*document.Step, actions *action.Registry) []document.Diagnostic {
	for _, st := range steps {
		out = lintSteps(out, file, st.Steps, actions)
		entry, ok := actions.Lookup(st.Action)
		if !ok || !entry.Spec.OpenInputs {
			continue
		}
		if _, ok := entry.Spec.Input("Service"); !ok {
			continue
		}
		if _, ok := entry.Spec.Input("Api"); !ok {
			continue
		}
		svc, _ := st.Inputs["Service"].(string)
		api, _ := st.Inputs["Api"].(string)
		if svc == "" || api == "" || strings.Contains(svc+api, "{{") {
			continue
		}
		request := map[string]any{}
		for k, v := range st.Inputs {
			if _, own := entry.Spec.Input(k); !own {
				request[k] = v
			}
		}
		err := awsapi.Check(svc, api, request)
		d := document.Diagnostic{File: file, Severity: document.Error, Step: st.Name}
		pos := st.InputPos["Service"]
		var ie *awsapi.InputError
		switch {
		case errors.Is(err, awsapi.ErrUnknownService) || errors.Is(err, awsapi.ErrUnknownOperation):
		case errors.As(err, &ie) && ie.Unknown != "":
			// Only unknown members are certain before the step runs (values
			// may still be converted). SSM accepts such a document and the
			// step fails when it runs, so this is a warning unless --strict.
			d.Severity, d.Kind = document.Warning, document.UnknownAPIMember
			if p, ok := st.InputPos[ie.Input()]; ok {
				pos = p
			}
		default:
			continue
		}
		d.Line, d.Column, d.Message = pos.Line, pos.Column, err.Error()
		out = append(out, d)
	}
	return out
}

// firstAWSStep names the first step (nested ones included) whose action
// surely calls AWS (its declaration names IAM actions for its inputs) and
// the first of them, so that a missing region stops the start instead of
// failing that step halfway through the run.
func (s *Service) firstAWSStep(steps []*document.Step) (step, act string) {
	for _, st := range steps {
		if entry, ok := s.actions.Lookup(st.Action); ok && entry.Spec.IAM != nil {
			if acts, _ := entry.Spec.IAM(st.Inputs); len(acts) > 0 {
				return st.Name, acts[0]
			}
		}
		if name, act := s.firstAWSStep(st.Steps); name != "" {
			return name, act
		}
	}
	return "", ""
}
