// Package document holds the SSM Automation runbook model (schemaVersion
// 0.3): parsing YAML and JSON with source positions, validation with
// positioned diagnostics, parameter types and the coercion of user input.
package document

import (
	"github.com/capstan-run/capstan/internal/value"
	"gopkg.in/yaml.v3"
)

// Pos is a 1-based line and column in the source file.
type Pos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

// Document is a parsed runbook. Values keep the source's types: strings,
// int64, float64, bool, nil, []any and map[string]any.
type Document struct {
	File          string // as given by the caller, for diagnostics
	Format        Format
	SchemaVersion string
	Description   string
	AssumeRole    string
	Parameters    []*Parameter // in source order
	Variables     []*Variable  // in source order
	MainSteps     []*Step
	Outputs       []OutputRef
	Files         map[string]any // accepted, reported as unsupported
	Pos           Pos            // of the document root

	lines  [][]byte       // source lines, to place template references exactly
	keyPos map[string]Pos // value position of each top-level key
	nodes  map[string]*yaml.Node
}

// Format is the source syntax of a document.
type Format string

const (
	YAML Format = "YAML"
	JSON Format = "JSON"
)

// Parameter is one entry of the document's parameters map.
type Parameter struct {
	Name           string
	Type           ParamType
	Description    string
	Default        any
	HasDefault     bool
	AllowedValues  []any
	AllowedPattern string
	DisplayType    string
	MinItems       *int
	MaxItems       *int
	MinChars       *int
	MaxChars       *int
	MinValue       *int64
	MaxValue       *int64
	Pos            Pos

	defaultNode *yaml.Node
	fieldPos    map[string]Pos // value position of each key of the definition
}

// ParamType is a declared parameter type: one of the SSM value types or an
// AWS-specific type such as AWS::EC2::Instance::Id or List<AWS::EC2::Instance::Id>.
type ParamType string

// Variable is one entry of the document's variables map (aws:updateVariable).
type Variable struct {
	Name        string
	Type        value.Type
	Default     any
	HasDefault  bool
	Description string
	Pos         Pos
}

// OutputRef is one "stepName.outputName" entry of the document's outputs.
type OutputRef struct {
	Step   string
	Output string
	Pos    Pos
}

// Step is one entry of mainSteps (or of an aws:loop's Steps).
type Step struct {
	Name           string
	Action         string
	Description    string
	Inputs         map[string]any
	InputPos       map[string]Pos // position of each input's value
	Outputs        []StepOutput
	OnFailure      Transition
	OnCancel       Transition
	MaxAttempts    int  // 1 when unset
	TimeoutSeconds int  // 0 when unset: the action's default applies
	IsCritical     bool // resolved with SSM's default
	IsEnd          bool
	NextStep       string
	Steps          []*Step // nested steps of aws:loop
	Pos            Pos
	// IsCriticalSet says whether the document wrote isCritical (SSM only
	// evaluates it when set explicitly; IsCritical holds the resolved value).
	IsCriticalSet bool

	inputsNode *yaml.Node            // the inputs mapping, nil when absent
	inputNodes map[string]*yaml.Node // value node of each input
	actionPos  Pos
	nextPos    Pos
}

// TransitionKind is what onFailure/onCancel do.
type TransitionKind string

const (
	Abort    TransitionKind = "Abort"
	Continue TransitionKind = "Continue"
	GoToStep TransitionKind = "Step"
)

// Transition is a parsed onFailure or onCancel value ("Abort", "Continue",
// "step:NAME"). The zero value means unset.
type Transition struct {
	Kind TransitionKind
	Step string
	Pos  Pos
}

// StepOutput is a step's declared output.
type StepOutput struct {
	Name     string
	Selector string
	Type     value.Type // String when the document omits Type
	Pos      Pos
}

// Severity of a diagnostic.
type Severity string

const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Diagnostic is one finding about a document, positioned in its source.
type Diagnostic struct {
	File     string   `json:"file"`
	Line     int      `json:"line"`
	Column   int      `json:"column"`
	Severity Severity `json:"severity"`
	Step     string   `json:"step,omitempty"`
	Message  string   `json:"message"`
	// Kind names a class of finding that callers may treat apart; "" for
	// most.
	Kind Kind `json:"kind,omitempty"`
}

// Kind is a class of diagnostic.
type Kind string

// UndeclaredOutput is a reference to an output its step does not declare.
// SSM accepts the document and fails the referring step when it runs, so it
// is a warning unless Strict makes it an error.
const UndeclaredOutput Kind = "undeclared-output"

// UnknownAPIMember is a request member an AWS API step passes that the
// service model does not define (a typo such as Filters for DescribeFlowLogs'
// Filter). SSM accepts the document and boto3 fails the step when it runs,
// so it is a warning unless Strict makes it an error.
const UnknownAPIMember Kind = "unknown-api-member"

// Strict makes the warnings that SSM only turns into failures at run time
// (UndeclaredOutput, UnknownAPIMember) errors, for authors who want them
// caught before.
func Strict(diags []Diagnostic) []Diagnostic {
	for i := range diags {
		if diags[i].Kind == UndeclaredOutput || diags[i].Kind == UnknownAPIMember {
			diags[i].Severity = Error
		}
	}
	return diags
}

func (d Diagnostic) String() string {
	return fmtDiagnostic(d)
}
