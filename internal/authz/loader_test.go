package authz

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

var errNone = errors.New("not found")

type mapPolicies map[string]string

func (m mapPolicies) GetPolicy(_ context.Context, user string) ([]byte, error) {
	if d, ok := m[user]; ok {
		return []byte(d), nil
	}
	return nil, fmt.Errorf("policy of %s: %w", user, errNone)
}

func TestLoader(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 3, 16, 0, 0, 0, time.UTC)
	m := mapPolicies{"admin": "AdministratorAccess", "alice": ownExecutions, "broken": `{"Version":"2012-10-17","Statement":{"Effect":"Maybe"}}`}
	l := &Loader{Store: m, NotFound: errNone, Now: func() time.Time { return now }}
	req := Request{Action: ReadAudit, Resource: scope.Audit()}

	admin, err := l.Principal(ctx, "admin", "arn:aws:iam::1:user/admin")
	if err != nil || admin.Authorize(req) != nil {
		t.Errorf("admin: %v, %v", err, admin.Authorize(req))
	}
	nobody, err := l.Principal(ctx, "nobody", "arn:aws:iam::1:user/nobody")
	if err != nil {
		t.Fatal(err)
	}
	if nobody.Allows(Request{Action: GetDocument, Resource: scope.Document("D")}) {
		t.Error("a user without a policy was allowed")
	}
	if _, err := l.Principal(ctx, "broken", ""); err == nil || !strings.Contains(err.Error(), `user broken: stored policy: the policy of user broken:1:`) {
		t.Errorf("a broken stored policy: %v", err)
	}

	// A changed policy applies once the cached one expires.
	if alice, _ := l.Principal(ctx, "alice", ""); alice.Allows(req) {
		t.Fatal("alice may read the audit log")
	}
	m["alice"] = "AdministratorAccess"
	alice, _ := l.Principal(ctx, "alice", "")
	if alice.Allows(req) {
		t.Error("alice's new policy applied before the cache expired")
	}
	now = now.Add(6 * time.Second)
	alice, _ = l.Principal(ctx, "alice", "")
	if !alice.Allows(req) {
		t.Error("alice's new policy did not apply after the cache expired")
	}
}
