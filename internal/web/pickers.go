package web

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/capstan-run/capstan/internal/authz"
	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/value"
)

// nodeOption is one instance a picker offers: its id, and its Name tag and
// state to recognise it by.
type nodeOption struct {
	ID, Label string
}

// choices are what a runbook's form offers beyond the parameters' own
// declarations: instances from the node inventory for instance id
// parameters.
type choices struct {
	nodes []nodeOption
	// nodesNote says why no instances are offered when the inventory could
	// not be read; empty when it was, or when the user may not list it.
	nodesNote string
	// keys are the key-storage paths the user may read, offered to String
	// fields as their value's source.
	keys []keyOption
}

// keyOption is a key-storage path a field may take its value from, labelled
// with its project when that is not the default.
type keyOption struct {
	Path, Label string
}

// instanceParam reports whether p takes EC2 instance ids: SSM's
// AWS::EC2::Instance::Id types, or a String/StringList named InstanceId(s)
// as most runbooks name it.
func instanceParam(p *document.Parameter) bool {
	if p.Type.Element() == "AWS::EC2::Instance::Id" {
		return true
	}
	switch p.Type.Value() {
	case value.String, value.StringList:
		return strings.EqualFold(p.Name, "InstanceId") || strings.EqualFold(p.Name, "InstanceIds")
	}
	return false
}

// choices reads what d's form offers the user. A picker that cannot be
// filled leaves its field a plain one: free text is always accepted. The
// keys offered are those of project, the runbook's; all the user may read
// for a runbook of the default project, which runs in any (the server
// refuses a key of another project than the run's, next to its field).
// The instances offered are those of runIn, the project the run is to run
// in.
func (u *UI) choices(ctx context.Context, user string, d *document.Document, project, runIn string) choices {
	var ch choices
	if slices.ContainsFunc(d.Parameters, instanceParam) {
		ch.nodes, ch.nodesNote = u.nodeOptions(ctx, user, runIn)
	}
	if slices.ContainsFunc(d.Parameters, keyParam) {
		list, err := u.opts.Service.KeyChoices(ctx, user)
		if err != nil {
			u.opts.Logger.Warn("listing key storage for a form", "user", user, "err", err)
		}
		for _, k := range list {
			switch {
			case k.Project == project || k.Project == "":
				ch.keys = append(ch.keys, keyOption{Path: k.Path, Label: k.Path})
			case project == store.DefaultProject:
				ch.keys = append(ch.keys, keyOption{Path: k.Path, Label: k.Path + " (project " + k.Project + ")"})
			}
		}
	}
	return ch
}

// keyParam reports whether p may take its value from key storage: a
// String without allowedValues.
func keyParam(p *document.Parameter) bool {
	return p.Type.Value() == value.String && len(p.AllowedValues) == 0
}

// secretWords mark a parameter whose value is a secret: its form offers key
// storage from the start and does not echo what was typed.
var secretWords = []string{"password", "secret", "token"}

func secretParam(p *document.Parameter) bool {
	text := strings.ToLower(p.Name + " " + p.Description)
	return keyParam(p) && slices.ContainsFunc(secretWords, func(w string) bool { return strings.Contains(text, w) })
}

// keySuffix names the form value that carries a field's key-storage path.
const keySuffix = ".key"

// keyParameters are the fields of d whose value the form takes from key
// storage: parameter name to path.
func keyParameters(d *document.Document, form url.Values) map[string]string {
	out := map[string]string{}
	for _, p := range d.Parameters {
		if path := strings.TrimSpace(form.Get(p.Name + keySuffix)); path != "" && keyParam(p) {
			out[p.Name] = path
		}
	}
	return out
}

// nodesWait bounds how long a form waits for the node inventory: past it,
// the field is offered as free text.
const nodesWait = 5 * time.Second

func (u *UI) nodeOptions(ctx context.Context, user, project string) ([]nodeOption, string) {
	ctx, cancel := context.WithTimeout(ctx, nodesWait)
	defer cancel()
	nodes, err := u.opts.Service.Nodes(ctx, user, project)
	var denied *authz.DeniedError
	switch {
	case errors.As(err, &denied):
		// Not this user's to see: the field stays free text.
		return nil, ""
	case err != nil:
		u.opts.Logger.Warn("reading the node inventory for a form", "user", user, "err", err)
		return nil, "The instance list is unavailable: " + err.Error()
	}
	out := make([]nodeOption, 0, len(nodes))
	for _, n := range nodes {
		label := n.Name + " · " + n.State
		if n.Name == n.ID {
			label = n.State
		}
		out = append(out, nodeOption{ID: n.ID, Label: label})
	}
	slices.SortFunc(out, func(a, b nodeOption) int { return strings.Compare(a.Label+a.ID, b.Label+b.ID) })
	return out, ""
}
