package service

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/capstan-run/capstan/internal/authz"
	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/keys"
	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/template"
	"github.com/capstan-run/capstan/internal/value"
)

// KeyChoices lists the key-storage paths p may read (capstan:ReadKey on each
// path's ARN) with their projects, for a form that offers parameter values
// from key storage by path. Values are never read (Sealed is nil);
// capstan's own keys are not offered.
func (s *Service) KeyChoices(ctx context.Context, p Principal) ([]store.Secret, error) {
	all, err := s.keyring().List(ctx, "")
	if err != nil {
		return nil, err
	}
	out := make([]store.Secret, 0, len(all))
	for _, k := range all {
		if keys.Internal(k.Path) {
			continue
		}
		k.Project = store.ProjectOf(k.Project)
		if s.decide(ctx, p, authz.ReadKey, k.Path, k.Project) == nil {
			out = append(out, store.Secret{Path: k.Path, Project: k.Project})
		}
	}
	return out, nil
}

// keyInputs checks the parameters a caller takes from key storage
// (StartInput.KeyParameters) and returns the inputs with their values read,
// so that Coerce checks them by the runbook's rules like any other. Each
// refusal is a *document.ParameterError naming the parameter, so a form
// shows it next to its field; a value never appears in one.
func (s *Service) keyInputs(ctx context.Context, p Principal, doc *document.Document, in StartInput) (document.Inputs, error) {
	inputs := in.Parameters
	if len(in.KeyParameters) == 0 {
		return inputs, nil
	}
	if in.Fleet != nil {
		return inputs, newError(CodeInvalidParameters, "parameters from key storage cannot be combined with Targets or TargetMaps")
	}
	values := maps.Clone(inputs.Values)
	if values == nil {
		values = map[string][]string{}
	}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(in.KeyParameters)) {
		path := in.KeyParameters[name]
		refuse := func(code Code, rule string, cause error) {
			pe := &document.ParameterError{Name: name, Rule: "key storage path " + path + ": " + rule}
			errs = append(errs, &Error{Code: code, Message: pe.Error(), Err: errors.Join(pe, cause)})
		}
		decl := declared(doc, name)
		_, given := inputs.Values[name]
		flagged := slices.ContainsFunc(inputs.Flags, func(f string) bool { return strings.HasPrefix(f, name+"=") })
		_, typed := inputs.Typed[name]
		switch {
		case decl == nil:
			refuse(CodeInvalidParameters, "the runbook declares no parameter "+name, nil)
			continue
		case decl.Type.Value() != value.String:
			refuse(CodeInvalidParameters, "only a String parameter can take its value from key storage; "+name+" is "+string(decl.Type), nil)
			continue
		case namesParameter(doc.AssumeRole, name):
			// The role is resolved when the execution is recorded, from
			// the recorded (masked) values; and a role ARN is no secret.
			refuse(CodeInvalidParameters, "the runbook's assumeRole names "+name+"; give the role itself", nil)
			continue
		case given || flagged || typed:
			refuse(CodeInvalidParameters, "a value was given as well; give one or the other", nil)
			continue
		}
		if err := keys.CheckPath(path); err != nil {
			refuse(CodeInvalidParameters, err.Error(), err)
			continue
		}
		if keys.Internal(path) {
			refuse(CodeAccessDenied, "capstan's own secrets are never a parameter's value", nil)
			continue
		}
		if err := s.authorize(ctx, p, authz.ReadKey, path); err != nil {
			refuse(CodeAccessDenied, "not allowed: "+err.Error(), err)
			continue
		}
		// The execution's project must own the key, as for {{ key:PATH }}.
		v, err := s.keyring().GetIn(ctx, in.Project, path)
		var pe *keys.ProjectError
		if errors.Is(err, store.ErrNotFound) {
			refuse(CodeInvalidParameters, "holds no value", err)
			continue
		} else if errors.As(err, &pe) {
			refuse(CodeAccessDenied, pe.Error(), err)
			continue
		} else if err != nil {
			return inputs, err
		}
		values[name] = []string{v}
	}
	if len(errs) > 0 {
		return inputs, keyError(errs)
	}
	inputs.Values = values
	return inputs, nil
}

// keyError is the refusal of one or more key parameters: access denied when
// any was denied, else invalid parameters.
func keyError(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	code := CodeInvalidParameters
	for _, e := range errs {
		if CodeOf(e) == CodeAccessDenied {
			code = CodeAccessDenied
		}
	}
	joined := errors.Join(errs...)
	return &Error{Code: code, Message: joined.Error(), Err: joined}
}

// namesParameter reports whether the template s refers to parameter name.
func namesParameter(s, name string) bool {
	refs, _ := template.Refs(s)
	return slices.ContainsFunc(refs, func(r template.Ref) bool { return r.Namespace == template.NSNone && r.Name == name })
}

func declared(doc *document.Document, name string) *document.Parameter {
	for _, p := range doc.Parameters {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// maskKeyValues keeps the values read from key storage out of the
// parameter errors in err: they name the parameter, never its value.
func maskKeyValues(err error, paths map[string]string) error {
	if len(paths) == 0 {
		return err
	}
	params, _ := document.SplitErrors(err)
	for _, pe := range params {
		if _, secret := paths[pe.Name]; secret && pe.Value != "" {
			pe.Value = keys.Masked
		}
	}
	return err
}
