package document

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	suggestpkg "github.com/capstan-run/capstan/internal/suggest"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/value"
	"gopkg.in/yaml.v3"
)

// Load parses and validates a runbook: the diagnostics of both, in source
// order. The Document is nil only when the source could not be read as a
// mapping at all.
func Load(file string, src []byte, reg *action.Registry) (*Document, []Diagnostic) {
	d, diags := Parse(file, src)
	if d != nil {
		diags = append(diags, Validate(d, reg)...)
	}
	SortDiagnostics(diags)
	return d, diags
}

// SortDiagnostics orders diagnostics by file, line and column, keeping the
// order of those at the same place.
func SortDiagnostics(diags []Diagnostic) {
	sort.SliceStable(diags, func(i, j int) bool {
		a, b := diags[i], diags[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}

// HasErrors reports whether any diagnostic is an error.
func HasErrors(diags []Diagnostic) bool {
	for _, d := range diags {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

// Validate checks a parsed document against SSM's rules and the actions in
// reg: what SSM rejects at CreateDocument, plus the mistakes it would only
// find at run time (an unknown step output, an input of the wrong type).
func Validate(d *Document, reg *action.Registry) []Diagnostic {
	v := &validator{d: d, reg: reg, steps: map[string]*Step{}, params: map[string]*Parameter{}, vars: map[string]*Variable{}}
	v.run()
	return v.diags
}

type validator struct {
	d      *Document
	reg    *action.Registry
	diags  []Diagnostic
	steps  map[string]*Step // every step, nested ones included
	params map[string]*Parameter
	vars   map[string]*Variable
}

func (v *validator) add(sev Severity, at Pos, step, format string, args ...any) {
	v.diags = append(v.diags, Diagnostic{File: v.d.File, Line: at.Line, Column: at.Column,
		Severity: sev, Step: step, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) errAt(at Pos, step, format string, args ...any) {
	v.add(Error, at, step, format, args...)
}

func (v *validator) run() {
	d := v.d
	if d.SchemaVersion != "" && d.SchemaVersion != "0.3" {
		v.errAt(d.keyPos["schemaVersion"], "", "unsupported schemaVersion %q: Automation runbooks must use \"0.3\"", d.SchemaVersion)
	}
	for _, p := range d.Parameters {
		v.params[p.Name] = p
	}
	for _, va := range d.Variables {
		v.vars[va.Name] = va
	}
	v.collectSteps(d.MainSteps)
	for _, p := range d.Parameters {
		v.parameter(p)
	}
	if d.AssumeRole != "" {
		v.templates(d.nodes["assumeRole"], "", "assumeRole", false)
	}
	if len(d.MainSteps) == 0 && d.nodes["mainSteps"] != nil {
		v.errAt(d.keyPos["mainSteps"], "", "mainSteps is empty: a runbook needs at least one step")
	}
	v.stepList(d.MainSteps, nil)
	for _, o := range d.Outputs {
		v.outputRef(o.Step, o.Output, o.Pos, "", "outputs")
	}
	v.graph(d.MainSteps, "mainSteps")
}

// collectSteps indexes every step by name and reports duplicates; SSM names
// steps in one namespace, nested loop steps included.
func (v *validator) collectSteps(steps []*Step) {
	for _, s := range steps {
		if s.Name != "" {
			if first, dup := v.steps[s.Name]; dup {
				v.errAt(s.Pos, s.Name, "duplicate step name %q (first defined at line %d)", s.Name, first.Pos.Line)
			} else {
				v.steps[s.Name] = s
			}
			if !validStepName(s.Name) {
				v.errAt(s.Pos, s.Name, "step name %q: expected letters, digits and underscores only", s.Name)
			}
		}
		v.collectSteps(s.Steps)
	}
}

func validStepName(s string) bool {
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}

func (v *validator) parameter(p *Parameter) {
	if p.Type != "" && !p.Type.Valid() {
		v.errAt(p.fieldPos["type"], "", "parameter %s: unknown type %q: expected String, StringList, Integer, Boolean, StringMap, MapList or an AWS type such as AWS::EC2::Instance::Id", p.Name, p.Type)
	}
	if p.AllowedPattern != "" {
		pat, err := CompilePattern(p.AllowedPattern)
		switch {
		case err != nil:
			v.errAt(p.fieldPos["allowedPattern"], "", "parameter %s: allowedPattern: %v", p.Name, err)
		case len(pat.Loosened) > 0:
			// Valid for SSM (Java regex), so not an error; but capstan's
			// check is looser than SSM's.
			v.add(Warning, p.fieldPos["allowedPattern"], "", "parameter %s: allowedPattern uses %s, Java regex that RE2 cannot express; capstan checks values without it (a value it refuses, SSM refuses too, not the reverse)",
				p.Name, strings.Join(pat.Loosened, ", "))
		}
	}
	if p.DisplayType != "" && p.DisplayType != "textfield" && p.DisplayType != "textarea" {
		v.errAt(p.fieldPos["displayType"], "", "parameter %s: displayType %q: expected textfield or textarea", p.Name, p.DisplayType)
	}
	if !p.HasDefault || !p.Type.Valid() {
		return
	}
	if p.defaultNode != nil {
		v.templates(p.defaultNode, "", "parameter "+p.Name+" default", true)
	}
	if hasTemplate(p.Default) {
		return
	}
	if err := checkDefault(p); err != nil {
		v.errAt(p.fieldPos["default"], "", "parameter %s: default does not match type %s: %v", p.Name, p.Type, err)
	}
}

// checkDefault accepts what SSM accepts for a default: the declared type, or
// for a list type a list of strings.
func checkDefault(p *Parameter) error {
	if p.Default == nil {
		// default: null is read as "optional, no value" (AWS-CreateWorkspace).
		return nil
	}
	if s, ok := p.Default.(string); ok {
		if _, ok := value.FromText(s, p.Type.Value()); ok {
			return nil
		}
	}
	return value.Check(p.Default, p.Type.Value())
}

// hasTemplate reports whether a decoded value holds a {{ }} reference
// anywhere; such values are checked when substituted, not here.
func hasTemplate(x any) bool {
	switch t := x.(type) {
	case string:
		return strings.Contains(t, "{{")
	case []any:
		for _, e := range t {
			if hasTemplate(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range t {
			if hasTemplate(e) {
				return true
			}
		}
	}
	return false
}

// stepList validates a list of sibling steps; loop is the enclosing aws:loop
// step, nil for mainSteps.
func (v *validator) stepList(steps []*Step, loop *Step) {
	scope := map[string]bool{}
	for _, s := range steps {
		scope[s.Name] = true
	}
	for _, s := range steps {
		v.step(s, scope, loop)
	}
}

func (v *validator) step(s *Step, scope map[string]bool, loop *Step) {
	var spec *action.Spec
	if s.Action != "" {
		if e, ok := v.reg.Lookup(s.Action); !ok {
			v.errAt(s.actionPos, s.Name, "unknown action %q", s.Action)
		} else if e.Spec.Support == action.Internal {
			v.errAt(s.actionPos, s.Name, "action %s is known to SSM, not supported by capstan (an AWS-internal action)", s.Action)
		} else {
			spec = &e.Spec
		}
	}
	v.target(s, "nextStep", s.NextStep, s.nextPos, scope)
	if s.OnFailure.Kind == GoToStep {
		v.target(s, "onFailure", s.OnFailure.Step, s.OnFailure.Pos, scope)
	}
	if s.OnCancel.Kind != "" && spec != nil && spec.NoOnCancel {
		// The User Guide forbids it, yet AWS-owned runbooks set onCancel on
		// aws:sleep, aws:createStack, aws:createImage, aws:approve and
		// aws:updateVariable steps and SSM runs them: a warning.
		v.add(Warning, s.OnCancel.Pos, s.Name, "onCancel on %s: the SSM User Guide says it is not allowed on this action; capstan may not run the cancel path", s.Action)
	}
	if s.OnCancel.Kind == GoToStep {
		// The User Guide lists actions that cannot be an onCancel target, but
		// AWS-owned runbooks target aws:updateVariable; only the name is checked.
		v.target(s, "onCancel", s.OnCancel.Step, s.OnCancel.Pos, scope)
	}
	if s.inputsNode == nil && s.Inputs == nil && spec != nil && requiresInputs(spec) {
		v.errAt(s.Pos, s.Name, "missing inputs: %s requires %s", s.Action, strings.Join(requiredNames(spec), ", "))
	}
	if spec != nil {
		v.inputs(s, spec)
		if len(s.Outputs) > 0 && !spec.UserOutputs {
			v.add(Warning, s.Outputs[0].Pos, s.Name, "%s does not take declared outputs (it produces %s)", s.Action, outputNames(spec))
		}
		if spec.Name == "aws:branch" {
			v.branch(s, scope)
		}
		if spec.NestedSteps {
			if cond := s.inputNodes["LoopCondition"]; cond != nil {
				v.condition(s, cond, "LoopCondition")
			}
		}
	}
	for name, n := range s.inputNodes {
		if name == "Steps" && s.Steps != nil {
			continue
		}
		v.templates(n, s.Name, "inputs."+name, false)
	}
	if s.Steps != nil {
		v.stepList(s.Steps, s)
		v.graph(s.Steps, "step "+s.Name+" inputs.Steps")
	}
}

func requiresInputs(spec *action.Spec) bool { return len(requiredNames(spec)) > 0 }

func requiredNames(spec *action.Spec) []string {
	var out []string
	for _, in := range spec.Inputs {
		if in.Required {
			out = append(out, in.Name)
		}
	}
	return out
}

func outputNames(spec *action.Spec) string {
	if len(spec.Outputs) == 0 {
		return "no outputs"
	}
	names := make([]string, len(spec.Outputs))
	for i, o := range spec.Outputs {
		names[i] = o.Name
	}
	return strings.Join(names, ", ")
}

// target checks that a transition names a step of the document.
func (v *validator) target(s *Step, field, name string, at Pos, scope map[string]bool) bool {
	if name == "" {
		return false
	}
	// AWS-owned runbooks jump from a loop's steps to mainSteps (a failure
	// handler), so any step of the document is a valid target.
	if _, ok := v.steps[name]; !ok {
		v.errAt(at, s.Name, "%s: no step named %q%s", field, name, suggest(name, v.steps))
		return false
	}
	return true
}

// suggest proposes the closest step name to a misspelt one.
func suggest(name string, steps map[string]*Step) string {
	return didYouMean(name, slices.Collect(maps.Keys(steps)))
}

// didYouMean is " (did you mean "X"?)" for the closest of names, or "".
func didYouMean(name string, names []string) string {
	if best, ok := suggestpkg.Closest(name, names); ok {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}

func (v *validator) inputs(s *Step, spec *action.Spec) {
	for _, in := range spec.Inputs {
		if !in.Required {
			continue
		}
		if _, ok := s.inputNodes[in.Unless]; ok && in.Unless != "" {
			continue
		}
		if _, ok := s.inputNodes[in.Name]; !ok {
			at := s.Pos
			if s.inputsNode != nil {
				at = pos(s.inputsNode)
			}
			v.errAt(at, s.Name, "missing required input %s (%s) of %s", in.Name, in.Type, s.Action)
		}
	}
	for name, n := range s.inputNodes {
		decl, ok := spec.Input(name)
		if !ok {
			if !spec.OpenInputs && !(spec.NestedSteps && name == "Steps") {
				v.errAt(s.InputPos[name], s.Name, "unknown input %s of %s%s", name, s.Action, suggestInput(name, spec))
			}
			continue
		}
		val, present := s.Inputs[name]
		if !present || isTemplate(val) {
			continue
		}
		if text, ok := val.(string); ok && s.Action != "aws:runCommand" {
			// Only aws:runCommand's inputs are typed at CreateDocument; SSM
			// converts a quoted number or boolean for the others.
			if _, ok := value.FromText(text, decl.Type); ok {
				continue
			}
		}
		if err := checkLiteral(val, decl.Type); err != nil {
			v.errAt(pos(n), s.Name, "input %s: %v", name, err)
		}
	}
}

func suggestInput(name string, spec *action.Spec) string {
	for _, in := range spec.Inputs {
		if strings.EqualFold(in.Name, name) {
			return fmt.Sprintf(" (did you mean %s?)", in.Name)
		}
	}
	return ""
}

// isTemplate reports whether a value is a whole-value reference, whose type
// is only known at run time.
func isTemplate(x any) bool {
	s, ok := x.(string)
	if !ok {
		return false
	}
	s = strings.TrimSpace(s)
	return strings.HasPrefix(s, "{{") && strings.HasSuffix(s, "}}") && strings.Count(s, "{{") == 1
}

// checkLiteral checks a literal input value against its declared type,
// letting templates stand for any element (a StringList reference spliced
// into a list, a String reference inside a map).
func checkLiteral(x any, t value.Type) error {
	switch t {
	case value.StringList:
		if l, ok := x.([]any); ok {
			for i, e := range l {
				if _, ok := e.(string); !ok {
					return fmt.Errorf("expected StringList, element %d is %s", i, value.Describe(e))
				}
			}
			return nil
		}
	case value.MapList:
		if l, ok := x.([]any); ok {
			for i, e := range l {
				if _, ok := e.(map[string]any); !ok && !isTemplate(e) {
					return fmt.Errorf("expected MapList, element %d is %s", i, value.Describe(e))
				}
			}
			return nil
		}
	}
	return value.Check(x, t)
}

// srcPos places a byte offset of a decoded string scalar in the source: the
// literal text of the reference is searched from the scalar's start, which
// is exact for plain, quoted and block scalars alike unless escapes rewrote
// the reference itself.
func (d *Document) srcPos(n *yaml.Node, s string, start, end int) Pos {
	if n.Line < 1 || n.Line > len(d.lines) {
		return pos(n)
	}
	lit := []byte(s[start:end])
	skip := strings.Count(s[:start], string(lit))
	last := min(len(d.lines), n.Line+strings.Count(s, "\n")+2)
	for ln := n.Line; ln <= last; ln++ {
		line := d.lines[ln-1]
		off := 0
		if ln == n.Line {
			off = runeOffset(line, n.Column-1)
		}
		for {
			i := bytes.Index(line[off:], lit)
			if i < 0 {
				break
			}
			if skip == 0 {
				return Pos{Line: ln, Column: utf8.RuneCount(line[:off+i]) + 1}
			}
			skip--
			off += i + len(lit)
		}
	}
	return pos(n)
}

// runeOffset is the byte offset of the col-th rune of line (yaml.v3 counts
// columns in characters).
func runeOffset(line []byte, col int) int {
	off := 0
	for ; col > 0 && off < len(line); col-- {
		_, size := utf8.DecodeRune(line[off:])
		off += size
	}
	return off
}
