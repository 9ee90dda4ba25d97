package action

import (
	"fmt"
	"sort"
)

// Entry pairs a declaration with its implementation. Impl is nil for actions
// capstan declares but does not execute.
type Entry struct {
	Spec Spec
	Impl Action
}

// Registry is a set of actions. It is a value: build one with NewRegistry (or
// Builtin for every action capstan knows) and extend it in tests.
type Registry struct {
	entries map[string]*Entry
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{entries: map[string]*Entry{}}
}

// Register adds an action. Registering a name twice is a programming error.
func (r *Registry) Register(spec Spec, impl Action) {
	if _, dup := r.entries[spec.Name]; dup {
		panic(fmt.Sprintf("action %s registered twice", spec.Name))
	}
	r.entries[spec.Name] = &Entry{Spec: spec, Impl: impl}
}

// Lookup finds an action by its exact SSM name.
func (r *Registry) Lookup(name string) (*Entry, bool) {
	e, ok := r.entries[name]
	return e, ok
}

// Names lists the registered action names in sorted order.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.entries))
	for n := range r.entries {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Clone returns a registry with the same entries, to extend without touching
// the original.
func (r *Registry) Clone() *Registry {
	c := NewRegistry()
	for n, e := range r.entries {
		cp := *e
		c.entries[n] = &cp
	}
	return c
}

// SetImpl replaces the implementation of a registered action (tests use it to
// substitute a no-op).
func (r *Registry) SetImpl(name string, impl Action) {
	if e, ok := r.entries[name]; ok {
		e.Impl = impl
	}
}

// Builtin returns a registry holding every SSM Automation action capstan
// knows: the ones it executes, the public ones it only declares, and the
// AWS-internal ones it recognises. Each call returns a fresh registry.
func Builtin() *Registry {
	r := NewRegistry()
	registerAPI(r)
	registerFlow(r)
	registerApprove(r)
	registerAutomation(r)
	registerCommand(r)
	registerEC2(r)
	registerStack(r)
	registerLambda(r)
	registerScript(r)
	registerWebhook(r)
	registerInternal(r)
	return r
}
