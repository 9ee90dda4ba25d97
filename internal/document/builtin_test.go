package document

import (
	"testing"

	"github.com/capstan-run/capstan/internal/action"
)

// corpusRegistry is the registry the conformance tests judge the corpus
// with: every action capstan declares.
func corpusRegistry(t testing.TB) *action.Registry {
	t.Helper()
	return action.Builtin()
}
