package document

import (
	"testing"

	"github.com/capstan-run/capstan/internal/action"
)

// corpusRegistry is the registry the conformance tests judge the corpus
// with. TODO: action.Builtin() once internal/action commits it.
func corpusRegistry(t testing.TB) *action.Registry {
	t.Helper()
	return testRegistry()
}
