package action

func registerWebhook(r *Registry) {
	r.Register(Spec{
		Name:    "aws:invokeWebhook",
		Summary: "Call the webhook of an Automation integration stored as an SSM parameter.",
		Inputs: []Input{
			req("IntegrationName", String, "Name of the Automation integration holding the webhook URL and settings."),
			opt("Body", String, "Request body."),
		},
		Outputs: []Output{
			{Name: "Response", Type: String, Doc: "Response body."},
			{Name: "ResponseCode", Type: Integer, Doc: "HTTP status code."},
		},
		Impact:  Undetermined,
		Support: Declared,
		IAM:     fixedIAM("kms:Decrypt", "ssm:GetParameter"),
	}, nil)
}
