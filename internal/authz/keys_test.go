package authz

import (
	"context"
	"errors"
	"testing"
)

// oneKey is key storage of the default project alone.
type oneKey map[string]string

func (k oneKey) Get(_ context.Context, path string) (string, error) { return k[path], nil }

func (k oneKey) GetIn(_ context.Context, project, path string) (string, error) {
	if project != "" && project != "default" {
		return "", errors.New("another project")
	}
	return k[path], nil
}

func TestKeyGuard(t *testing.T) {
	ctx := context.Background()
	m := mapPolicies{
		"alice": `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"capstan:ReadKey","Resource":"arn:capstan:capstan::*:key/team-a/*"}}`,
	}
	g := &KeyGuard{Keys: oneKey{"team-a/token": "a", "prod/db": "p"}, Loader: &Loader{Store: m, NotFound: errNone}, Scope: Scope{Region: "us-east-1", Account: "000000000000"}}
	if v, err := g.GetFor(ctx, "arn:aws:iam::000000000000:user/alice", "", "team-a/token"); err != nil || v != "a" {
		t.Errorf("alice's execution reading team-a/token: %q, %v", v, err)
	}
	_, err := g.GetFor(ctx, "arn:aws:iam::000000000000:user/alice", "", "prod/db")
	var denied *DeniedError
	if !errors.As(err, &denied) || denied.Resource != "arn:capstan:capstan::000000000000:key/prod/db" {
		t.Errorf("alice's execution reading prod/db: %v, want a refusal naming the key", err)
	}
	if _, err := g.GetFor(ctx, "arn:aws:iam::000000000000:user/bob", "", "team-a/token"); !errors.As(err, &denied) {
		t.Errorf("bob (no policy) reading team-a/token: %v, want a refusal", err)
	}
	if v, err := g.GetFor(ctx, "root", "", "prod/db"); err != nil || v != "p" {
		t.Errorf("a local run reading prod/db: %q, %v", v, err)
	}
}
