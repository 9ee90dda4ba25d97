package document

import "fmt"

func fmtDiagnostic(d Diagnostic) string {
	if d.Step != "" {
		return fmt.Sprintf("%s:%d:%d: %s: step %s: %s", d.File, d.Line, d.Column, d.Severity, d.Step, d.Message)
	}
	return fmt.Sprintf("%s:%d:%d: %s: %s", d.File, d.Line, d.Column, d.Severity, d.Message)
}
