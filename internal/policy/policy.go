// Package policy derives least-privilege IAM policies from runbooks: the
// actions every step needs, read from the action declarations
// (action.Spec.IAM) and the API model's operation names, with resources
// narrowed where the inputs fix them. It also names the IAM action behind
// an AWS denial, so a failed step says what permission was missing.
package policy

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"unicode"

	"github.com/capstan-run/capstan/internal/store"
)

// Version is the IAM policy language version capstan writes.
const Version = "2012-10-17"

// Document is an IAM policy document.
type Document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a policy document.
type Statement struct {
	Sid       string              `json:"Sid,omitempty"`
	Effect    string              `json:"Effect"`
	Principal map[string][]string `json:"Principal,omitempty"`
	Action    []string            `json:"Action"`
	Resource  []string            `json:"Resource,omitempty"`
	Condition map[string]any      `json:"Condition,omitempty"`
}

// Grants is a set of IAM actions, each with the resources it is needed on.
// An action needed on "*" anywhere is needed on "*" only.
type Grants map[string]map[string]bool

// Add grants action on the resources.
func (g Grants) Add(action string, resources ...string) {
	set := g[action]
	if set == nil {
		set = map[string]bool{}
		g[action] = set
	}
	if set["*"] {
		return
	}
	for _, r := range resources {
		if r == "*" {
			clear(set)
			set["*"] = true
			return
		}
		set[r] = true
	}
}

// Merge adds every grant of o.
func (g Grants) Merge(o Grants) {
	for a, rs := range o {
		g.Add(a, slices.Collect(maps.Keys(rs))...)
	}
}

// Without returns a copy of g without one action.
func (g Grants) Without(action string) Grants {
	out := Grants{}
	for a, rs := range g {
		if a != action {
			out.Add(a, slices.Collect(maps.Keys(rs))...)
		}
	}
	return out
}

// Actions lists the granted actions, sorted.
func (g Grants) Actions() []string {
	return slices.Sorted(maps.Keys(g))
}

// Resources lists the resources of one action, sorted.
func (g Grants) Resources(action string) []string {
	return slices.Sorted(maps.Keys(g[action]))
}

// Policy writes the grants as a policy document, grouped by service: one
// statement per service and set of resources.
func (g Grants) Policy() Document {
	type group struct {
		service   string
		resources []string
		actions   []string
	}
	var groups []*group
	index := map[string]*group{}
	for _, a := range g.Actions() {
		service, _, _ := strings.Cut(a, ":")
		res := g.Resources(a)
		key := service + "\x00" + strings.Join(res, "\x00")
		gr := index[key]
		if gr == nil {
			gr = &group{service: service, resources: res}
			index[key] = gr
			groups = append(groups, gr)
		}
		gr.actions = append(gr.actions, a)
	}
	// Statements of a service stay together, the one on "*" first.
	slices.SortStableFunc(groups, func(a, b *group) int {
		if c := strings.Compare(a.service, b.service); c != 0 {
			return c
		}
		return strings.Compare(strings.Join(a.resources, ","), strings.Join(b.resources, ","))
	})
	doc := Document{Version: Version, Statement: []Statement{}}
	count := map[string]int{}
	for _, gr := range groups {
		count[gr.service]++
		sid := sidOf(gr.service)
		if n := count[gr.service]; n > 1 {
			sid += fmt.Sprint(n)
		}
		doc.Statement = append(doc.Statement, Statement{Sid: sid, Effect: "Allow", Action: gr.actions, Resource: gr.resources})
	}
	return doc
}

// sidOf makes a statement id from a service prefix: "elasticloadbalancing"
// gives "Elasticloadbalancing", "access-analyzer" gives "AccessAnalyzer".
func sidOf(service string) string {
	var b strings.Builder
	upper := true
	for _, r := range service {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			upper = true
			continue
		}
		if upper {
			r = unicode.ToUpper(r)
			upper = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// WriteText writes the grants for people: one line per action with its
// resources, grouped by service.
func (g Grants) WriteText(w io.Writer) error {
	width := 0
	for _, a := range g.Actions() {
		width = max(width, len(a))
	}
	last := ""
	for _, a := range g.Actions() {
		service, _, _ := strings.Cut(a, ":")
		if service != last {
			if _, err := fmt.Fprintf(w, "%s\n", service); err != nil {
				return err
			}
			last = service
		}
		if _, err := fmt.Fprintf(w, "  %-*s  %s\n", width, a, strings.Join(g.Resources(a), " ")); err != nil {
			return err
		}
	}
	return nil
}

// Calls is the part of the store that holds an execution's calls.
type Calls interface {
	Calls(ctx context.Context, id string) ([]store.Call, error)
	ListExecutions(ctx context.Context, f store.ExecutionFilter) ([]store.Execution, string, error)
}

// Recorded returns what execution id and its child executions actually
// called: the IAM action of every recorded call, denied ones included (they
// were needed), on "*" since calls record no resources.
func Recorded(ctx context.Context, db Calls, id string) (Grants, error) {
	calls, err := ExecutionCalls(ctx, db, id)
	if err != nil {
		return nil, err
	}
	g := Grants{}
	for _, c := range calls {
		if c.IAMAction != "" {
			g.Add(c.IAMAction, "*")
		}
	}
	return g, nil
}

// ExecutionCalls returns the calls of execution id and of its child
// executions, in the order they were made.
func ExecutionCalls(ctx context.Context, db Calls, id string) ([]store.Call, error) {
	var out []store.Call
	queue := []string{id}
	for n := 0; len(queue) > 0 && n < 10000; n++ {
		cur := queue[0]
		queue = queue[1:]
		calls, err := db.Calls(ctx, cur)
		if err != nil {
			return nil, fmt.Errorf("calls of execution %s: %w", cur, err)
		}
		out = append(out, calls...)
		token := ""
		for page := 0; page < 1000; page++ {
			kids, next, err := db.ListExecutions(ctx, store.ExecutionFilter{ParentIDs: []string{cur}, PageToken: token})
			if err != nil {
				return nil, fmt.Errorf("child executions of %s: %w", cur, err)
			}
			for _, k := range kids {
				queue = append(queue, k.ID)
			}
			if token = next; token == "" {
				break
			}
		}
	}
	slices.SortStableFunc(out, func(a, b store.Call) int { return a.Start.Compare(b.Start) })
	return out, nil
}
