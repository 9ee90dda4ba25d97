package action_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/mototest"
)

// moto runs Lambda functions in docker, which these machines lack, so the
// invocation is served by an httptest server speaking Lambda's REST-JSON
// Invoke protocol (POST /2015-03-31/functions/NAME/invocations; the body is
// the event, the result comes back as the body with status headers).
func lambdaServer(t *testing.T, fn func(w http.ResponseWriter, path, event string)) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fn(w, r.URL.Path, string(b))
	}))
	t.Cleanup(srv.Close)
	mototest.Start(t).SetEnv(t) // credentials and region only
	return srv
}

func TestInvokeLambdaFunction(t *testing.T) {
	var gotPath, gotEvent string
	srv := lambdaServer(t, func(w http.ResponseWriter, path, event string) {
		gotPath, gotEvent = path, event
		w.Header().Set("X-Amz-Log-Result", "bG9nIHRhaWw=")
		w.WriteHeader(200)
		_, _ = io.WriteString(w, `{"answer": 42}`)
	})
	res, err := run(t, clientFor(t, srv.URL), "aws:invokeLambdaFunction", map[string]any{
		"FunctionName": "capstan-fn", "LogType": "Tail",
		"InputPayload": map[string]any{"from": "InputPayload"}, "Payload": `{"from": "Payload"}`,
	})
	if err != nil {
		t.Fatal(err)
	}
	if gotPath != "/2015-03-31/functions/capstan-fn/invocations" || !strings.Contains(gotEvent, `"InputPayload"`) {
		t.Errorf("invoked %s with %s, want capstan-fn with InputPayload (it wins over Payload)", gotPath, gotEvent)
	}
	if res.Outputs["StatusCode"] != int64(200) || res.Outputs["Payload"] != `{"answer": 42}` || res.Outputs["LogResult"] != "bG9nIHRhaWw=" {
		t.Errorf("outputs = %v", res.Outputs)
	}
	if p, _ := res.Response.(map[string]any)["Payload"].(map[string]any); p["answer"] != float64(42) {
		t.Errorf("response = %v, want the decoded result under Payload for selectors", res.Response)
	}
}

func TestInvokeLambdaFunctionErrorFailsTheStep(t *testing.T) {
	srv := lambdaServer(t, func(w http.ResponseWriter, _, _ string) {
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		w.WriteHeader(200)
		_, _ = io.WriteString(w, `{"errorMessage": "division by zero", "errorType": "ZeroDivisionError"}`)
	})
	_, err := run(t, clientFor(t, srv.URL), "aws:invokeLambdaFunction", map[string]any{"FunctionName": "capstan-fn", "Payload": `{}`})
	var fe *action.FunctionError
	if !errors.As(err, &fe) || fe.Kind != "Unhandled" || !strings.Contains(err.Error(), "division by zero") {
		t.Fatalf("error = %v, want a FunctionError with the function's message", err)
	}
}
