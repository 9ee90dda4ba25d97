package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/capstan-run/capstan/internal/keys"
)

// ScopedSecrets is a SecretSource that decides per execution whether a path
// may be read, given its project and who started it (its ExecutedBy): a
// runbook reads only its project's keys, and on a shared server only those
// its starter's policy grants.
type ScopedSecrets interface {
	SecretSource
	GetFor(ctx context.Context, executedBy, project, path string) (string, error)
}

// secret reads a value from key storage at the moment of use ({{ key:PATH }}
// references and actions that read key storage) and masks it from then on.
func (r *run) secret(ctx context.Context, path string) (string, error) {
	if r.e.opts.Secrets == nil {
		return "", fmt.Errorf("{{ key:%s }}: key storage is not configured", path)
	}
	var v string
	var err error
	if scoped, ok := r.e.opts.Secrets.(ScopedSecrets); ok {
		v, err = scoped.GetFor(ctx, r.state.Started.ExecutedBy, r.state.Started.Project, path)
	} else {
		v, err = r.e.opts.Secrets.Get(ctx, path)
	}
	if err != nil {
		return "", err
	}
	r.masker.add(v)
	r.keyPaths.Store(v, path)
	return v, nil
}

// keepSecretsOutOfChild keeps what the parent holds secret out of a child
// execution's record. A parameter that is a key the parent read, whole,
// becomes one of the child's KeyParameters: only its path is recorded and
// the child reads the key again, as the parent's starter, also when it
// resumes. Any other parameter holding a secret (a SecureString read, a
// value derived from a key) is recorded masked; the child runs with the real
// value and hides what the parent hides, and, like the parent's own later
// steps, sees only the masked value if it resumes after a crash.
func (r *run) keepSecretsOutOfChild(req *StartRequest) {
	if r.masker.added.Load() == 0 {
		return
	}
	live := req.Parameters
	recorded := make(map[string]any, len(live))
	hidden := false
	for name, v := range live {
		if !r.masker.touches(map[string]any{name: v}) {
			recorded[name] = v
			continue
		}
		hidden = true
		if s, ok := v.(string); ok {
			if path, ok := r.keyPaths.Load(s); ok {
				if req.KeyParameters == nil {
					req.KeyParameters = map[string]string{}
				}
				req.KeyParameters[name] = path.(string)
				recorded[name] = keys.Masked
				continue
			}
		}
		recorded[name] = r.masker.walk(v)
	}
	if hidden {
		req.Parameters, req.liveParameters, req.parentMasker = recorded, live, r.masker
	}
}

// readKeyParameters gives the parameters taken from key storage their
// values (StartRequest.KeyParameters), read as {{ key:PATH }} is: for the
// user who started the execution, masked from then on. The state's own
// copy of the parameters keeps the masked values.
func (r *run) readKeyParameters() error {
	paths := r.state.Started.KeyParameters
	if len(paths) == 0 {
		return nil
	}
	r.params = maps.Clone(r.params)
	for _, name := range slices.Sorted(maps.Keys(paths)) {
		v, err := r.secret(r.hardCtx, paths[name])
		if err != nil {
			return fmt.Errorf("parameter %s: reading key storage %s: %w", name, paths[name], err)
		}
		r.params[name] = v
	}
	return nil
}

// minDerived is the shortest derived string the masker learns: shorter ones
// ("true", "0") would mask unrelated text everywhere; the step's own record
// is masked wholesale regardless.
const minDerived = 6

// noteSecrets learns what a finished step makes secret. The values an action
// reports as secret (a SecureString read) are masked wherever they appear.
// A step whose inputs held a secret produced outputs derived from it, in
// whatever encoding a script chose (reversed, hex, split up): its record shows
// every output masked, the execution's outputs naming it are masked, and its
// output strings are masked wherever they appear later. The run itself keeps
// the values, so later steps can use them.
func (r *run) noteSecrets(step string, inputs, outputs map[string]any, secrets []string) {
	for _, s := range secrets {
		r.masker.add(s)
	}
	if len(outputs) == 0 || !r.masker.touches(inputs) {
		return
	}
	r.masker.derived.Store(step, true)
	for _, v := range outputs {
		learnLeaves(r.masker, v)
	}
}

func learnLeaves(m *masker, v any) {
	switch x := v.(type) {
	case string:
		if len(x) >= minDerived {
			m.add(x)
		}
	case []any:
		for _, e := range x {
			learnLeaves(m, e)
		}
	case map[string]any:
		for _, e := range x {
			learnLeaves(m, e)
		}
		if b, err := json.Marshal(x); err == nil {
			m.add(string(b))
		}
	}
}

// recordedOutputs is what the record of a step's success holds.
func (r *run) recordedOutputs(step string, outputs map[string]any) map[string]any {
	if !r.masker.isDerived(step) {
		return r.masker.maskValue(outputs)
	}
	masked := make(map[string]any, len(outputs))
	for k := range outputs {
		masked[k] = keys.Masked
	}
	return masked
}

func (m *masker) isDerived(step string) bool {
	_, ok := m.derived.Load(step)
	return ok
}

// touches reports whether any string in v holds a secret.
func (m *masker) touches(v map[string]any) bool {
	if m.added.Load() == 0 {
		return false
	}
	var walk func(any) bool
	walk = func(v any) bool {
		switch x := v.(type) {
		case string:
			return m.mask(x) != x
		case []any:
			for _, e := range x {
				if walk(e) {
					return true
				}
			}
		case map[string]any:
			for _, e := range x {
				if walk(e) {
					return true
				}
			}
		}
		return false
	}
	return walk(v)
}

// documentDefault reports whether s is the runbook's own default for
// parameter name. Only the runbook's author may write references into a
// parameter's value ({{ key:PATH }}, {{ ssm:NAME }}, other parameters): a
// value the caller passed is taken literally, so a caller cannot make the
// run read a secret the runbook never names.
func (r *run) documentDefault(name, s string) bool {
	for _, p := range r.doc.Parameters {
		if p.Name == name {
			d, ok := p.Default.(string)
			return p.HasDefault && ok && d == s
		}
	}
	return false
}
