package action

import "time"

func registerScript(r *Registry) {
	r.Register(Spec{
		Name:    "aws:executeScript",
		Summary: "Run a Python or PowerShell script (inline or attached) and expose what it returns.",
		Inputs: []Input{
			req("Runtime", String, "python3.x, PowerShell Core 6.0 or PowerShell 7.x."),
			opt("Handler", String, "Python function taking (events, context); file.function for attachments."),
			opt("Script", String, "Inline script text; or Attachment."),
			opt("Attachment", String, "Name of a file in the runbook's files section."),
			opt("InputPayload", StringMap, "Passed to the handler as events ($env:InputPayload in PowerShell)."),
		},
		Outputs: []Output{
			{Name: "Payload", Type: Any, Doc: "What the handler returned, as JSON (at most 100 KB; lists cut to 100 items)."},
		},
		UserOutputs: true,
		MaxTimeout:  600 * time.Second,
		Impact:      Undetermined,
		Support:     Declared,
		IAM:         scriptIAM,
	}, nil)
}

// scriptIAM: the script's own AWS calls cannot be read from its inputs.
func scriptIAM(map[string]any) ([]string, bool) { return nil, false }
