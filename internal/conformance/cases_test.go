package conformance

import (
	"github.com/capstan-run/capstan/internal/engine"
)

// cases lists the AWS-owned runbooks the suite runs, by service.
func cases() []conformanceCase {
	var all []conformanceCase
	for _, group := range [][]conformanceCase{ec2Cases(), storageCases(), securityCases(), databaseCases(), monitoringCases(), resilienceCases()} {
		all = append(all, group...)
	}
	return all
}

// expect fails the case unless got equals want, naming what was checked.
func (a *account) expect(what string, got, want any) {
	a.t.Helper()
	if str(got) != str(want) {
		a.t.Errorf("%s = %q, want %q", what, str(got), str(want))
	}
}

var _ = engine.StatusSuccess
