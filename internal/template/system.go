package template

import (
	"strings"
	"time"
)

// System holds the values of the system variables of one execution:
// {{global:...}} and {{automation:...}}.
type System struct {
	AccountID string
	Region    string
	// Partition is derived from Region when empty.
	Partition string
	// URLSuffix is derived from the partition when empty.
	URLSuffix    string
	ExecutionID  string
	DocumentName string
	// Now gives the time for DATE and DATE_TIME; time.Now when nil.
	Now func() time.Time
}

// systemVariables lists every system variable. SSM documents ACCOUNT_ID,
// REGION, AWS_PARTITION, DATE, DATE_TIME and EXECUTION_ID; URL_SUFFIX and
// DOCUMENT_NAME are capstan's additions (no runbook in the corpus uses them).
var systemVariables = map[Namespace][]string{
	NSGlobal:     {"ACCOUNT_ID", "REGION", "AWS_PARTITION", "URL_SUFFIX", "DATE", "DATE_TIME"},
	NSAutomation: {"EXECUTION_ID", "DOCUMENT_NAME"},
}

// KnownSystemVariable reports whether ns:name is a system variable, for
// validating a runbook before it runs. Names are case-sensitive, as in SSM.
func KnownSystemVariable(ns Namespace, name string) bool {
	for _, n := range systemVariables[ns] {
		if n == name {
			return true
		}
	}
	return false
}

// Lookup returns the value of a system variable as a string. ok is false
// when ns:name is not a system variable or its value is not known (an
// empty field). DATE (yyyy-MM-dd) and DATE_TIME (yyyy-MM-dd_HH.mm.ss) are
// UTC and read the clock at each call, because SSM substitutes them when
// the referencing step runs: two steps can see different times.
func (s System) Lookup(ns Namespace, name string) (any, bool) {
	var v string
	switch ns {
	case NSGlobal:
		switch name {
		case "ACCOUNT_ID":
			v = s.AccountID
		case "REGION":
			v = s.Region
		case "AWS_PARTITION":
			v = s.partition()
		case "URL_SUFFIX":
			v = s.URLSuffix
			if v == "" {
				v = URLSuffixOf(s.partition())
			}
		case "DATE":
			v = s.now().Format("2006-01-02")
		case "DATE_TIME":
			v = s.now().Format("2006-01-02_15.04.05")
		}
	case NSAutomation:
		switch name {
		case "EXECUTION_ID":
			v = s.ExecutionID
		case "DOCUMENT_NAME":
			v = s.DocumentName
		}
	}
	return v, v != ""
}

func (s System) partition() string {
	if s.Partition != "" {
		return s.Partition
	}
	if s.Region == "" {
		return ""
	}
	return PartitionOf(s.Region)
}

func (s System) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC()
	}
	return s.Now().UTC()
}

// partitions maps region prefixes to partitions, longest prefix first so
// that us-isob- is not taken for us-iso-. From the SDK's partitions.json.
var partitions = []struct{ prefix, partition, suffix string }{
	{"us-isob-", "aws-iso-b", "sc2s.sgov.gov"},
	{"us-isof-", "aws-iso-f", "csp.hci.ic.gov"},
	{"eu-isoe-", "aws-iso-e", "cloud.adc-e.uk"},
	{"us-iso-", "aws-iso", "c2s.ic.gov"},
	{"us-gov-", "aws-us-gov", "amazonaws.com"},
	{"eusc-", "aws-eusc", "amazonaws.eu"},
	{"cn-", "aws-cn", "amazonaws.com.cn"},
}

// PartitionOf returns the partition of a region: "aws-cn" for cn-*,
// "aws-us-gov" for us-gov-*, "aws-iso" for us-iso-*, "aws-iso-b" for
// us-isob-* (and the newer iso-e, iso-f, eusc), otherwise "aws".
func PartitionOf(region string) string {
	for _, p := range partitions {
		if strings.HasPrefix(region, p.prefix) {
			return p.partition
		}
	}
	return "aws"
}

// URLSuffixOf returns the DNS suffix of a partition's endpoints:
// "amazonaws.com.cn" for aws-cn, "amazonaws.com" for aws and aws-us-gov.
func URLSuffixOf(partition string) string {
	for _, p := range partitions {
		if p.partition == partition {
			return p.suffix
		}
	}
	return "amazonaws.com"
}
