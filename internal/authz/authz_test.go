package authz

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

var scope = Scope{Region: "us-east-1", Account: "123456789012"}

func mustParse(t testing.TB, doc string) *Policy {
	t.Helper()
	p, err := Parse("test.json", []byte(doc))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return p
}

// ownExecutions is the policy the issue names: a user may start any runbook
// and see, stop and signal only the executions they started.
const ownExecutions = `{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": "ssm:StartAutomationExecution", "Resource": "*"},
    {"Effect": "Allow",
     "Action": ["ssm:GetAutomationExecution", "ssm:Stop*", "ssm:SendAutomationSignal"],
     "Resource": "arn:aws:ssm:*:*:automation-execution/*",
     "Condition": {"StringEquals": {"capstan:ExecutedBy": "${aws:username}"}}}
  ]
}`

func TestDecide(t *testing.T) {
	alice := &Principal{Name: "alice", ARN: "arn:aws:iam::123456789012:user/alice"}
	tests := []struct {
		name   string
		policy string
		req    Request
		want   Decision
	}{
		{"own execution", ownExecutions,
			Request{Action: StopAutomationExecution, Resource: scope.Execution("e1"), ExecutedBy: "alice"}, Allowed},
		{"someone else's execution", ownExecutions,
			Request{Action: StopAutomationExecution, Resource: scope.Execution("e1"), ExecutedBy: "bob"}, ImplicitDeny},
		{"execution without a starter", ownExecutions,
			Request{Action: GetAutomationExecution, Resource: scope.Execution("e1")}, ImplicitDeny},
		{"action names ignore case", ownExecutions,
			Request{Action: "SSM:stopautomationexecution", Resource: scope.Execution("e1"), ExecutedBy: "alice"}, Allowed},
		{"action not granted", ownExecutions,
			Request{Action: DeleteDocument, Resource: scope.Document("D")}, ImplicitDeny},
		{"explicit deny wins over allow", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":"*","Resource":"*"},
			{"Effect":"Deny","Action":"ssm:*Document","Resource":"arn:aws:ssm:*:*:document/Prod*"}]}`,
			Request{Action: UpdateDocument, Resource: scope.Document("ProdRestart")}, ExplicitDeny},
		{"deny elsewhere does not touch this", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":"*","Resource":"*"},
			{"Effect":"Deny","Action":"ssm:*Document","Resource":"arn:aws:ssm:*:*:document/Prod*"}]}`,
			Request{Action: UpdateDocument, Resource: scope.Document("DevRestart")}, Allowed},
		{"NotAction", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"capstan:*","Resource":"*"}}`,
			Request{Action: ReadAudit, Resource: scope.Audit()}, ImplicitDeny},
		{"NotAction allows the rest", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"capstan:*","Resource":"*"}}`,
			Request{Action: GetDocument, Resource: scope.Document("D")}, Allowed},
		{"NotResource", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"capstan:ReadKey","NotResource":"arn:capstan:capstan:*:*:key/prod/*"}}`,
			Request{Action: ReadKey, Resource: scope.Key("/prod/db")}, ImplicitDeny},
		{"aws:* ARNs never reach capstan's", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:*"}}`,
			Request{Action: ReadKey, Resource: scope.Key("dev/db")}, ImplicitDeny},
		{"project condition", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ssm:*","Resource":"*","Condition":{"StringEquals":{"capstan:Project":["web","db"]}}}}`,
			Request{Action: StartAutomationExecution, Resource: scope.AutomationDefinition("D", ""), Project: "db"}, Allowed},
		{"other project", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ssm:*","Resource":"*","Condition":{"StringEquals":{"capstan:Project":["web","db"]}}}}`,
			Request{Action: StartAutomationExecution, Resource: scope.AutomationDefinition("D", ""), Project: "ops"}, ImplicitDeny},
		{"StringNotEquals holds when the key is absent", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"capstan:Project":"prod"}}}}`,
			Request{Action: GetDocument, Resource: scope.Document("D")}, Allowed},
		{"StringLike", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringLike":{"capstan:Project":"team-*"}}}}`,
			Request{Action: GetDocument, Resource: scope.Document("D"), Project: "team-a"}, Allowed},
		{"IfExists lets an absent key through", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualsIfExists":{"capstan:Owner":"${aws:username}"}}}}`,
			Request{Action: GetDocument, Resource: scope.Document("D")}, Allowed},
		{"IfExists still checks a present key", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualsIfExists":{"capstan:Owner":"${aws:username}"}}}}`,
			Request{Action: UpdateDocument, Resource: scope.Document("D"), Owner: "bob"}, ImplicitDeny},
		{"Null", `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Null":{"capstan:Project":"true"}}}}`,
			Request{Action: GetDocument, Resource: scope.Document("D")}, ExplicitDeny},
		{"resource variable", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"capstan:ReadKey","Resource":"arn:capstan:capstan:*:*:key/home/${aws:username}/*"}}`,
			Request{Action: ReadKey, Resource: scope.Key("home/alice/token")}, Allowed},
		{"resource variable, another's path", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"capstan:ReadKey","Resource":"arn:capstan:capstan:*:*:key/home/${aws:username}/*"}}`,
			Request{Action: ReadKey, Resource: scope.Key("home/bob/token")}, ImplicitDeny},
		{"no statement applies", `{"Version":"2012-10-17","Statement":[]}`,
			Request{Action: GetDocument, Resource: scope.Document("D")}, ImplicitDeny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParse(t, tt.policy)
			r := tt.req
			r.Username = alice.Name
			if got := Decide([]*Policy{p}, &r); got != tt.want {
				t.Errorf("Decide = %v, want %v", got, tt.want)
			}
		})
	}
}

// A user name holding wildcards must not widen a pattern it is put into.
func TestVariableValuesAreLiteral(t *testing.T) {
	p := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"capstan:ReadKey","Resource":"arn:capstan:capstan:*:*:key/home/${aws:username}/x"}}`)
	star := &Principal{Name: "*", Policies: []*Policy{p}}
	if star.Allows(Request{Action: ReadKey, Resource: scope.Key("home/alice/x")}) {
		t.Error("user * read alice's key")
	}
	if !star.Allows(Request{Action: ReadKey, Resource: scope.Key("home/*/x")}) {
		t.Error("user * cannot read its own key")
	}
	like := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringLike":{"capstan:ExecutedBy":"${aws:username}"}}}}`)
	q := &Principal{Name: "a?", Policies: []*Policy{like}}
	if q.Allows(Request{Action: StopAutomationExecution, Resource: scope.Execution("e"), ExecutedBy: "ab"}) {
		t.Error("user a? stopped ab's execution")
	}
}

func TestAuthorizeError(t *testing.T) {
	alice := &Principal{Name: "alice", ARN: "arn:aws:iam::123456789012:user/alice", Policies: []*Policy{mustParse(t, ownExecutions)}}
	err := alice.Authorize(Request{Action: StopAutomationExecution, Resource: scope.Execution("e-1"), ExecutedBy: "bob"})
	var denied *DeniedError
	if !errors.As(err, &denied) {
		t.Fatalf("Authorize = %v, want a *DeniedError", err)
	}
	want := "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: ssm:StopAutomationExecution on resource: arn:aws:ssm:us-east-1:123456789012:automation-execution/e-1 because no identity-based policy allows the ssm:StopAutomationExecution action"
	if err.Error() != want {
		t.Errorf("message\n got %s\nwant %s", err, want)
	}
	if err := alice.Authorize(Request{Action: StopAutomationExecution, Resource: scope.Execution("e-1"), ExecutedBy: "alice"}); err != nil {
		t.Errorf("alice stopping her own execution: %v", err)
	}
	admin, _ := Builtin(AdministratorAccessName)
	root := &Principal{Name: "root", Policies: []*Policy{admin}}
	if err := root.Authorize(Request{Action: ReadAudit, Resource: scope.Audit()}); err != nil {
		t.Errorf("AdministratorAccess: %v", err)
	}
}

func TestBuiltinMatchesItsDocument(t *testing.T) {
	b, _ := Builtin(AdministratorAccessName)
	if p := mustParse(t, AdministratorAccessDocument); !reflect.DeepEqual(p, b) {
		t.Errorf("AdministratorAccess = %+v, its document parses to %+v", b, p)
	}
	p, err := ParsePolicyArg("--policy", []byte(" AdministratorAccess\n"))
	if err != nil || !reflect.DeepEqual(p, b) {
		t.Errorf("ParsePolicyArg(AdministratorAccess) = %+v, %v", p, err)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ doc, want string }{
		{`{"Version": "2012-10-17", "Statement": [{"Effect": "allow", "Action": "*", "Resource": "*"}]}`,
			`p.json:1:52: Statement[0].Effect: expected "Allow" or "Deny", got "allow"`},
		{"{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": {\"Effect\": \"Allow\", \"Resource\": \"*\"}\n}",
			`p.json:3:16: Statement: expected exactly one of Action and NotAction`},
		{"{\"Version\": \"2012-10-17\",\n \"Statement\": {\"Effect\": \"Allow\", \"Action\": \"StartAutomationExecution\"}}",
			`p.json:2:45: Statement.Action: action "StartAutomationExecution": expected service:Action (e.g. ssm:GetAutomationExecution) or *`},
		{`{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "document/x"}}`,
			`p.json:1:87: Statement.Resource: resource "document/x": expected an ARN (arn:...) or *`},
		{"{\"Version\": \"2012-10-17\", \"Statement\": {\"Effect\": \"Allow\", \"Action\": \"*\",\n  \"Condition\": {\"StringEquals\": {\"capstan:Starter\": \"x\"}}}}",
			`p.json:2:34: Statement.Condition.StringEquals.capstan:Starter: unknown condition key "capstan:Starter" (capstan knows aws:username, capstan:ExecutedBy, capstan:Project, capstan:Owner)`},
		{`{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Condition": {"StringEqual": {}}}}`,
			`p.json:1:89: Statement.Condition.StringEqual: unknown condition operator "StringEqual"`},
		{`{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "arn:capstan:capstan:*:*:key/${aws:userName}/${aws:user}"}}`,
			`unknown policy variable ${aws:user}`},
		{`{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": 7}}`,
			`p.json:1:70: Statement.Action: expected a string or a non-empty list of strings, got a number`},
		{`{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Principal": "*"}}`,
			`p.json:1:75: Statement.Principal: a user's policy applies to that user`},
		{`{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Effect": "Allow"}]}`,
			`p.json:1:60: not a JSON policy document: duplicate key "Effect"`},
		{`{"Version": "2012-10-17"}`, `p.json:1:1: missing Statement`},
		{`{"Version": "2012-10-17", "Statement": [`, `p.json:1:41: not a JSON policy document: unexpected end`},
		{"{\"Version\": \"2012-10-17\",\n \"Statement\": [}", `p.json:2:16: not a JSON policy document: invalid character '}'`},
		{`{"Version": "2020-01-01", "Statement": []}`, `p.json:1:13: Version: expected "2012-10-17", got "2020-01-01"`},
		{`["Allow"]`, `p.json:1:1: expected a policy object with Version and Statement, got a list`},
		{`{"Version": "2012-10-17", "Statement": []} {}`, `p.json:1:`},
	}
	for _, tt := range tests {
		_, err := Parse("p.json", []byte(tt.doc))
		var pe *PolicyError
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%s) = %v, want a *PolicyError", tt.doc, err)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%s)\n  = %v\nwant %s", tt.doc, err, tt.want)
		}
	}
}

func TestGlob(t *testing.T) {
	tests := []struct {
		p, s string
		want bool
	}{
		{"*", "", true}, {"a*c", "abbbc", true}, {"a*c", "abbb", false}, {"a?c", "abc", true},
		{"a?c", "ac", false}, {"*x*y", "axxbyy", true}, {`a\*`, "a*", true}, {`a\*`, "ab", false},
		{"arn:aws:ssm:*:*:document/*", "arn:aws:ssm:us-east-1:1:document/D", true},
	}
	for _, tt := range tests {
		if got := glob(tt.p, tt.s, false); got != tt.want {
			t.Errorf("glob(%q, %q) = %v", tt.p, tt.s, got)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(ownExecutions))
	f.Add([]byte(AdministratorAccessDocument))
	f.Fuzz(func(t *testing.T, doc []byte) {
		p, err := Parse("f", doc)
		if err == nil {
			Decide([]*Policy{p}, &Request{Action: "ssm:X", Resource: "arn:aws:ssm:r:a:document/d", Username: "u"})
		}
	})
}

// BenchmarkDecide measures decisions on a policy of 20 statements, the last
// of which decides, with conditions and policy variables on the way.
func BenchmarkDecide(b *testing.B) {
	var stmts []string
	for i := range 19 {
		stmts = append(stmts, fmt.Sprintf(`{"Effect":"Allow","Action":["ssm:Get*","ssm:Describe*"],"Resource":"arn:aws:ssm:*:*:document/team%d-*","Condition":{"StringEquals":{"capstan:Project":"p%d"},"StringLike":{"capstan:Owner":"${aws:username}"}}}`, i, i))
	}
	stmts = append(stmts, `{"Effect":"Allow","Action":"ssm:StopAutomationExecution","Resource":"arn:aws:ssm:*:*:automation-execution/*","Condition":{"StringEquals":{"capstan:ExecutedBy":"${aws:username}"}}}`)
	p := mustParse(b, `{"Version":"2012-10-17","Statement":[`+strings.Join(stmts, ",")+`]}`)
	alice := &Principal{Name: "alice", ARN: "arn:aws:iam::1:user/alice", Policies: []*Policy{p}}
	req := Request{Action: StopAutomationExecution, Resource: scope.Execution("0123456789abcdef"), ExecutedBy: "alice", Project: "p3"}
	b.ReportAllocs()
	for b.Loop() {
		if err := alice.Authorize(req); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}
