package ssmapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

type apiReply struct {
	Status int
	Type   string `json:"__type"`
	Msg    string `json:"message"`
	CT     string
}

func post(t *testing.T, url, target string, body []byte, header map[string]string) apiReply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r apiReply
	_ = json.NewDecoder(resp.Body).Decode(&r)
	r.Status, r.CT = resp.StatusCode, resp.Header.Get("Content-Type")
	return r
}

func TestAuthenticationFailures(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()

	r := post(t, e.srv.URL, "AmazonSSM.ListDocuments", []byte("{}"), nil)
	if r.Status != 400 || r.Type != "MissingAuthenticationTokenException" || r.CT != "application/x-amz-json-1.1" {
		t.Fatalf("unsigned: %+v", r)
	}

	_, err := e.client(e.alice.AccessKeyID, "wrong-secret").ListDocuments(ctx, &ssm.ListDocumentsInput{})
	if code := errorCode(t, err); code != "InvalidSignatureException" {
		t.Fatalf("wrong secret: %s", code)
	}
	_, err = e.client("AKIAUNKNOWNUNKNOWN00", e.aliceSecret).ListDocuments(ctx, &ssm.ListDocumentsInput{})
	if code := errorCode(t, err); code != "UnrecognizedClientException" {
		t.Fatalf("unknown key: %s", code)
	}

	// A server whose clock is an hour ahead sees the signature as expired.
	late := New(Options{Service: e.svc, Auth: Users{Service: e.svc}, Now: func() time.Time { return time.Now().Add(time.Hour) }})
	srv := newHTTPTest(t, late)
	c := ssm.New(ssm.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv), Credentials: e.aliceClient().Options().Credentials, RetryMaxAttempts: 1})
	_, err = c.ListDocuments(ctx, &ssm.ListDocumentsInput{})
	if code := errorCode(t, err); code != "InvalidSignatureException" || !strings.Contains(err.Error(), "Signature expired") {
		t.Fatalf("expired: %v", err)
	}

	// A body changed after signing no longer matches.
	signed := signedRequest(t, e, `{"Name":"a"}`)
	signed.Body = ioNopCloser(`{"Name":"b"}`)
	signed.ContentLength = int64(len(`{"Name":"b"}`))
	resp, err := http.DefaultClient.Do(signed)
	if err != nil {
		t.Fatal(err)
	}
	var rep apiReply
	_ = json.NewDecoder(resp.Body).Decode(&rep)
	resp.Body.Close()
	if rep.Type != "InvalidSignatureException" {
		t.Fatalf("tampered body: %+v", rep)
	}
}

func TestBadInputNeverCrashes(t *testing.T) {
	e := newTestEnv(t)
	api := New(Options{Service: e.svc, MaxBodyBytes: 4096})
	url := newHTTPTest(t, api)
	cases := []struct {
		target, body string
		status       int
		typ          string
	}{
		{"AmazonSSM.ListDocuments", `{"Filters": [`, 400, "SerializationException"},
		{"AmazonSSM.StartAutomationExecution", `{"DocumentName": 7}`, 400, "SerializationException"},
		{"AmazonSSM.DeleteEverything", `{}`, 400, "UnknownOperationException"},
		{"", `{}`, 400, "UnknownOperationException"},
		{"AmazonSSM.CreateDocument", `{"Name":"x","Content":"` + strings.Repeat("a", 5000) + `"}`, 413, "RequestEntityTooLargeException"},
		{"AmazonSSM.GetAutomationExecution", `{}`, 400, "ValidationException"},
		{"AmazonSSM.DescribeAutomationExecutions", `{"Filters":[{"Key":"Bogus","Values":["x"]}]}`, 400, "InvalidFilterKey"},
		{"AmazonSSM.DescribeAutomationExecutions", `{"NextToken":"garbage"}`, 400, "InvalidNextToken"},
		{"AmazonSSM.DescribeAutomationExecutions", `{"MaxResults":500}`, 400, "ValidationException"},
		{"AmazonSSM.SendAutomationSignal", `{"AutomationExecutionId":"x","SignalType":"Explode"}`, 400, "ValidationException"},
	}
	for _, tc := range cases {
		r := post(t, url, tc.target, []byte(tc.body), nil)
		if r.Status != tc.status || r.Type != tc.typ || r.Msg == "" {
			t.Errorf("%s %.40s: got %d %s %q, want %d %s", tc.target, tc.body, r.Status, r.Type, r.Msg, tc.status, tc.typ)
		}
	}
	big := `{"Name":"Big-Doc","DocumentType":"Automation","Content":"` + strings.Repeat("a", 70*1024) + `"}`
	r := post(t, newHTTPTest(t, New(Options{Service: e.svc})), "AmazonSSM.CreateDocument", []byte(big), nil)
	if r.Status != 400 || r.Type != "MaxDocumentSizeExceeded" {
		t.Errorf("70 KB document: %+v", r)
	}
}
