package web

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/capstan-run/capstan/internal/authz"
	"github.com/capstan-run/capstan/internal/document"
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
// filled leaves its field a plain one: free text is always accepted.
func (u *UI) choices(ctx context.Context, user string, d *document.Document) choices {
	var ch choices
	if slices.ContainsFunc(d.Parameters, instanceParam) {
		ch.nodes, ch.nodesNote = u.nodeOptions(ctx, user)
	}
	return ch
}

func (u *UI) nodeOptions(ctx context.Context, user string) ([]nodeOption, string) {
	nodes, err := u.opts.Service.Nodes(ctx, user)
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
