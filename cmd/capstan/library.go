package main

import "github.com/capstan-run/capstan/runbooks"

// library is the built-in runbook library embedded in the binary.
type library struct{}

func (library) Names() []string                   { return runbooks.Names() }
func (library) Lookup(name string) ([]byte, bool) { return runbooks.Lookup(name) }
