package template

import (
	"testing"
	"time"
)

func TestSystemLookup(t *testing.T) {
	clock := time.Date(2024, 2, 29, 23, 5, 9, 0, time.FixedZone("UTC+2", 2*3600))
	sys := System{
		AccountID: "123456789012", Region: "eu-west-1", ExecutionID: "0f1e2d3c-0000-4000-8000-000000000001",
		DocumentName: "AWS-RestartEC2Instance", Now: func() time.Time { return clock },
	}
	tests := []struct {
		sys    System
		ns     Namespace
		name   string
		want   string
		wantOK bool
	}{
		{sys, NSGlobal, "ACCOUNT_ID", "123456789012", true},
		{sys, NSGlobal, "REGION", "eu-west-1", true},
		{sys, NSGlobal, "AWS_PARTITION", "aws", true},
		{sys, NSGlobal, "URL_SUFFIX", "amazonaws.com", true},
		{sys, NSGlobal, "DATE", "2024-02-29", true},               // UTC: 21:05 on the 29th
		{sys, NSGlobal, "DATE_TIME", "2024-02-29_21.05.09", true}, // yyyy-MM-dd_HH.mm.ss
		{sys, NSAutomation, "EXECUTION_ID", "0f1e2d3c-0000-4000-8000-000000000001", true},
		{sys, NSAutomation, "DOCUMENT_NAME", "AWS-RestartEC2Instance", true},
		{System{Region: "cn-north-1"}, NSGlobal, "AWS_PARTITION", "aws-cn", true},
		{System{Region: "cn-northwest-1"}, NSGlobal, "URL_SUFFIX", "amazonaws.com.cn", true},
		{System{Region: "us-gov-west-1"}, NSGlobal, "AWS_PARTITION", "aws-us-gov", true},
		{System{Region: "us-gov-west-1"}, NSGlobal, "URL_SUFFIX", "amazonaws.com", true},
		{System{Region: "us-iso-east-1"}, NSGlobal, "AWS_PARTITION", "aws-iso", true},
		{System{Region: "us-isob-east-1"}, NSGlobal, "AWS_PARTITION", "aws-iso-b", true},
		{System{Region: "us-isob-east-1"}, NSGlobal, "URL_SUFFIX", "sc2s.sgov.gov", true},
		{System{Region: "cn-north-1", Partition: "aws"}, NSGlobal, "AWS_PARTITION", "aws", true},
		{System{Region: "cn-north-1", URLSuffix: "example.test"}, NSGlobal, "URL_SUFFIX", "example.test", true},
		{System{}, NSGlobal, "AWS_PARTITION", "", false},
		{System{}, NSGlobal, "ACCOUNT_ID", "", false},
		{sys, NSGlobal, "account_id", "", false},
		{sys, NSGlobal, "EXECUTION_ID", "", false},
		{sys, NSVariable, "REGION", "", false},
	}
	for _, tt := range tests {
		got, ok := tt.sys.Lookup(tt.ns, tt.name)
		if ok != tt.wantOK || (ok && got != tt.want) {
			t.Errorf("%+v.Lookup(%s:%s) = %v, %v; want %q, %v", tt.sys.Region, tt.ns, tt.name, got, ok, tt.want, tt.wantOK)
		}
	}
}

// DATE_TIME is read at each lookup: a later step sees a later time.
func TestSystemTimeIsEvaluatedAtEachCall(t *testing.T) {
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	sys := System{Now: func() time.Time { return now }}
	first, _ := sys.Lookup(NSGlobal, "DATE_TIME")
	now = now.Add(90 * time.Second)
	second, _ := sys.Lookup(NSGlobal, "DATE_TIME")
	if first != "2024-01-01_00.00.00" || second != "2024-01-01_00.01.30" {
		t.Fatalf("got %v then %v", first, second)
	}
}

func TestSystemDefaultClockIsUTC(t *testing.T) {
	got, ok := System{}.Lookup(NSGlobal, "DATE")
	s, _ := got.(string)
	if _, err := time.Parse("2006-01-02", s); !ok || err != nil {
		t.Fatalf("DATE with the real clock = %v, %v (%v)", got, ok, err)
	}
}

func TestKnownSystemVariable(t *testing.T) {
	tests := []struct {
		ns   Namespace
		name string
		want bool
	}{
		{NSGlobal, "ACCOUNT_ID", true}, {NSGlobal, "REGION", true}, {NSGlobal, "AWS_PARTITION", true},
		{NSGlobal, "URL_SUFFIX", true}, {NSGlobal, "DATE", true}, {NSGlobal, "DATE_TIME", true},
		{NSAutomation, "EXECUTION_ID", true}, {NSAutomation, "DOCUMENT_NAME", true},
		{NSGlobal, "EXECUTION_ID", false}, {NSAutomation, "REGION", false}, {NSGlobal, "region", false},
		{NSVariable, "DATE", false}, {NSNone, "ACCOUNT_ID", false},
	}
	for _, tt := range tests {
		if got := KnownSystemVariable(tt.ns, tt.name); got != tt.want {
			t.Errorf("KnownSystemVariable(%s, %s) = %v, want %v", tt.ns, tt.name, got, tt.want)
		}
	}
}

func TestPartitionOf(t *testing.T) {
	for region, want := range map[string]string{
		"us-east-1": "aws", "ap-southeast-4": "aws", "cn-north-1": "aws-cn", "us-gov-east-1": "aws-us-gov",
		"us-iso-east-1": "aws-iso", "us-isob-east-1": "aws-iso-b", "us-isof-south-1": "aws-iso-f",
		"eu-isoe-west-1": "aws-iso-e", "eusc-de-east-1": "aws-eusc",
	} {
		if got := PartitionOf(region); got != want {
			t.Errorf("PartitionOf(%s) = %s, want %s", region, got, want)
		}
	}
}
