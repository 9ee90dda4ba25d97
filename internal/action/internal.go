package action

// registerInternal declares the actions AWS-owned runbooks use but SSM does
// not document, so validation can say "known to SSM, not supported by
// capstan" instead of "unknown action". Their inputs are the ones seen in
// those runbooks.
func registerInternal(r *Registry) {
	for _, s := range []Spec{
		{
			Name:    "aws:putServerUpgradeMetrics",
			Summary: "AWS-internal: record a metric for Windows Server upgrade runbooks.",
			Inputs: []Input{
				opt("DimensionName", String, "Metric dimension name."),
				opt("DimensionValue", String, "Metric dimension value."),
				opt("MetricName", String, "Metric name."),
				opt("MetricValue", Any, "Metric value."),
			},
		},
		{
			Name:    "aws:shareSQLMedia",
			Summary: "AWS-internal: share SQL Server installation media with an instance.",
			Inputs: []Input{
				opt("InstanceId", String, "Target instance."),
				opt("SQLServerEdition", String, "SQL Server edition."),
				opt("SQLServerVersion", String, "SQL Server version."),
			},
		},
		{
			Name:    "aws:installDistributorPackageOnAzure",
			Summary: "AWS-internal: install a Distributor package on an Azure VM.",
			Inputs: []Input{
				opt("Action", String, "Install or Uninstall."),
				opt("AdditionalArguments", Any, "Extra arguments for the package."),
				opt("AzureVmResourceId", String, "Azure VM resource ID."),
				opt("CloudConnector", Any, "Cloud connector settings."),
				opt("InstallationType", String, "Installation type."),
				opt("PackageName", String, "Distributor package name."),
				opt("Version", String, "Package version."),
			},
		},
	} {
		s.UserOutputs = true
		s.Impact = Undetermined
		s.Support = Internal
		s.IAM = scriptIAM
		r.Register(s, nil)
	}
}
