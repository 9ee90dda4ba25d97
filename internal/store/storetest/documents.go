package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"testing"

	"github.com/capstan-run/capstan/internal/store"
)

func doc(name, content string) store.Document {
	return store.Document{Name: name, Content: content, Format: "YAML", DocumentType: "Automation", Owner: "Self"}
}

func testDocuments(t *testing.T, open func(t *testing.T) store.DocumentStore) {
	s, ctx := openStore(t, open), context.Background()
	d1 := doc("Restart", "schemaVersion: '0.3'\nmainSteps: []\n")
	d1.Tags = map[string]string{"team": "ops"}
	d1.VersionName = "first"
	got, err := s.PutDocument(ctx, d1)
	must(t, "put v1", err)
	sum := sha256.Sum256([]byte(d1.Content))
	if got.Version != 1 || !got.IsDefault || got.DefaultVersion != 1 || got.LatestVersion != 1 || got.Hash != hex.EncodeToString(sum[:]) || got.CreatedDate.IsZero() {
		t.Fatalf("put v1 returned %+v", got)
	}
	_, err = s.PutDocument(ctx, d1)
	wantErr(t, "same content again", err, store.ErrDuplicateContent)
	_, err = s.CreateDocument(ctx, doc("Restart", "other"))
	wantErr(t, "create existing name", err, store.ErrExists)

	d2 := doc("Restart", "schemaVersion: '0.3'\nmainSteps: [{name: a}]\n")
	d2.VersionName = "first"
	_, err = s.PutDocument(ctx, d2)
	wantErr(t, "reused version name", err, store.ErrDuplicateVersionName)
	d2.VersionName = "second"
	got, err = s.PutDocument(ctx, d2)
	must(t, "put v2", err)
	if got.Version != 2 || got.IsDefault || got.DefaultVersion != 1 || got.LatestVersion != 2 || got.Tags["team"] != "ops" {
		t.Fatalf("put v2 returned %+v", got)
	}
	_, err = s.PutDocument(ctx, d2)
	wantErr(t, "v2 content again", err, store.ErrDuplicateContent)
	// Content equal to an older, non-latest version is refused too.
	d3 := d1
	d3.VersionName = ""
	_, err = s.PutDocument(ctx, d3)
	wantErr(t, "v1 content as v3", err, store.ErrDuplicateContent)
	d3.Content += "# v3\n"
	got, err = s.PutDocument(ctx, d3)
	must(t, "put v3", err)
	if got.Version != 3 {
		t.Fatalf("v3 = %d", got.Version)
	}

	for _, tc := range []struct {
		version string
		want    int
		content string
	}{
		{"", 1, d1.Content}, {store.VersionDefault, 1, d1.Content}, {store.VersionLatest, 3, d3.Content},
		{"2", 2, d2.Content}, {"1", 1, d1.Content},
	} {
		got, err := s.GetDocument(ctx, "Restart", tc.version)
		must(t, "get "+tc.version, err)
		if got.Version != tc.want || got.Content != tc.content || got.LatestVersion != 3 || got.IsDefault != (tc.want == 1) {
			t.Fatalf("get %q: version %d default %v latest %d, want version %d", tc.version, got.Version, got.IsDefault, got.LatestVersion, tc.want)
		}
	}
	for _, v := range []string{"4", "0", "-1", "x", "$NEWEST"} {
		_, err := s.GetDocument(ctx, "Restart", v)
		wantErr(t, "get version "+v, err, store.ErrNotFound)
	}
	_, err = s.GetDocument(ctx, "Nope", "")
	wantErr(t, "get unknown", err, store.ErrNotFound)

	got, err = s.GetDocumentByVersionName(ctx, "Restart", "second")
	must(t, "by version name", err)
	if got.Version != 2 {
		t.Fatalf("version name second -> %d", got.Version)
	}
	_, err = s.GetDocumentByVersionName(ctx, "Restart", "")
	wantErr(t, "empty version name", err, store.ErrNotFound)

	must(t, "set default", s.SetDefaultVersion(ctx, "Restart", 2))
	got, err = s.GetDocument(ctx, "Restart", "")
	must(t, "get default", err)
	if got.Version != 2 || !got.IsDefault {
		t.Fatalf("after SetDefaultVersion(2): default is %d", got.Version)
	}
	wantErr(t, "set default to missing version", s.SetDefaultVersion(ctx, "Restart", 9), store.ErrNotFound)
	wantErr(t, "set default of missing doc", s.SetDefaultVersion(ctx, "Nope", 1), store.ErrNotFound)

	vs, next, err := s.ListDocumentVersions(ctx, "Restart", 2, "")
	must(t, "versions", err)
	if len(vs) != 2 || vs[0].Version != 1 || vs[1].Version != 2 || next == "" || vs[0].Content != "" || vs[0].VersionName != "first" || !vs[1].IsDefault {
		t.Fatalf("versions page 1: %+v next %q", vs, next)
	}
	vs, next, err = s.ListDocumentVersions(ctx, "Restart", 2, next)
	must(t, "versions page 2", err)
	if len(vs) != 1 || vs[0].Version != 3 || next != "" {
		t.Fatalf("versions page 2: %+v next %q", vs, next)
	}
	_, _, err = s.ListDocumentVersions(ctx, "Nope", 0, "")
	wantErr(t, "versions of unknown", err, store.ErrNotFound)
	_, _, err = s.ListDocumentVersions(ctx, "Restart", 0, "!!")
	wantErr(t, "versions bad token", err, store.ErrInvalidToken)
}

func testDocumentDelete(t *testing.T, open func(t *testing.T) store.DocumentStore) {
	s, ctx := openStore(t, open), context.Background()
	for i := 1; i <= 3; i++ {
		_, err := s.PutDocument(ctx, doc("D", fmt.Sprintf("v%d", i)))
		must(t, "put", err)
	}
	wantErr(t, "delete the default", s.DeleteDocument(ctx, "D", "1"), store.ErrConflict)
	if _, err := s.GetDocument(ctx, "D", "1"); err != nil {
		t.Fatalf("refused delete removed the version: %v", err)
	}
	must(t, "delete latest", s.DeleteDocument(ctx, "D", store.VersionLatest))
	got, err := s.GetDocument(ctx, "D", store.VersionLatest)
	must(t, "get latest", err)
	if got.Version != 2 || got.LatestVersion != 2 {
		t.Fatalf("after deleting v3, latest = %d", got.Version)
	}
	wantErr(t, "delete deleted", s.DeleteDocument(ctx, "D", "3"), store.ErrNotFound)
	must(t, "delete v2", s.DeleteDocument(ctx, "D", "2"))
	// Deleting the last version deletes the document.
	must(t, "delete v1 (last)", s.DeleteDocument(ctx, "D", "1"))
	_, err = s.GetDocument(ctx, "D", "")
	wantErr(t, "get deleted", err, store.ErrNotFound)

	for i := 1; i <= 2; i++ {
		_, err := s.PutDocument(ctx, doc("E", fmt.Sprintf("v%d", i)))
		must(t, "put", err)
	}
	must(t, "delete all", s.DeleteDocument(ctx, "E", ""))
	_, _, err = s.ListDocumentVersions(ctx, "E", 0, "")
	wantErr(t, "versions after delete all", err, store.ErrNotFound)
	wantErr(t, "delete unknown", s.DeleteDocument(ctx, "E", ""), store.ErrNotFound)
	// The name is free again and starts over at version 1.
	got, err = s.CreateDocument(ctx, doc("E", "fresh"))
	must(t, "recreate", err)
	if got.Version != 1 {
		t.Fatalf("recreated document has version %d", got.Version)
	}
}

func names(list []store.Document) []string {
	var out []string
	for _, d := range list {
		out = append(out, d.Name)
	}
	return out
}

func testListDocuments(t *testing.T, open func(t *testing.T) store.DocumentStore) {
	s, ctx := openStore(t, open), context.Background()
	put := func(name, typ, owner string, tags map[string]string) {
		d := doc(name, "c-"+name)
		d.DocumentType, d.Owner, d.Tags = typ, owner, tags
		_, err := s.CreateDocument(ctx, d)
		must(t, "create "+name, err)
	}
	put("AWS-A", "Automation", "Amazon", map[string]string{"env": "prod"})
	put("AWS-B", "Command", "Amazon", nil)
	put("My.Doc", "Automation", "Self", map[string]string{"env": "dev", "team.name": "x"})
	put("My_Other", "Automation", "Self", map[string]string{"env": "prod"})
	// A second version that is not the default: listings show the default.
	_, err := s.PutDocument(ctx, doc("AWS-A", "newer"))
	must(t, "put v2", err)

	for _, tc := range []struct {
		name string
		f    store.DocumentFilter
		want []string
	}{
		{"all by name", store.DocumentFilter{}, []string{"AWS-A", "AWS-B", "My.Doc", "My_Other"}},
		{"prefix", store.DocumentFilter{NamePrefix: "My"}, []string{"My.Doc", "My_Other"}},
		{"prefix literal", store.DocumentFilter{NamePrefix: "My_"}, []string{"My_Other"}},
		{"type", store.DocumentFilter{DocumentTypes: []string{"Command"}}, []string{"AWS-B"}},
		{"owner", store.DocumentFilter{Owners: []string{"Self"}}, []string{"My.Doc", "My_Other"}},
		{"tag key", store.DocumentFilter{Tags: map[string][]string{"env": nil}}, []string{"AWS-A", "My.Doc", "My_Other"}},
		{"tag value", store.DocumentFilter{Tags: map[string][]string{"env": {"prod"}}}, []string{"AWS-A", "My_Other"}},
		{"dotted tag key", store.DocumentFilter{Tags: map[string][]string{"team.name": nil}}, []string{"My.Doc"}},
		{"two tags", store.DocumentFilter{Tags: map[string][]string{"env": {"dev", "prod"}, "team.name": {"x"}}}, []string{"My.Doc"}},
		{"type and owner", store.DocumentFilter{DocumentTypes: []string{"Automation"}, Owners: []string{"Amazon"}}, []string{"AWS-A"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, next, err := s.ListDocuments(ctx, tc.f)
			must(t, "list", err)
			if !reflect.DeepEqual(names(got), tc.want) || next != "" {
				t.Fatalf("list = %v next %q, want %v", names(got), next, tc.want)
			}
		})
	}
	got, _, err := s.ListDocuments(ctx, store.DocumentFilter{NamePrefix: "AWS-A"})
	must(t, "list AWS-A", err)
	if len(got) != 1 || got[0].Version != 1 || got[0].Content != "c-AWS-A" || got[0].LatestVersion != 2 {
		t.Fatalf("list shows %+v, want the default version 1 with latest 2", got)
	}

	var all []string
	tok := ""
	for range 10 {
		page, next, err := s.ListDocuments(ctx, store.DocumentFilter{Limit: 3, PageToken: tok})
		must(t, "page", err)
		all = append(all, names(page)...)
		if tok = next; tok == "" {
			break
		}
	}
	if !reflect.DeepEqual(all, []string{"AWS-A", "AWS-B", "My.Doc", "My_Other"}) {
		t.Fatalf("paged through %v", all)
	}
	_, _, err = s.ListDocuments(ctx, store.DocumentFilter{PageToken: "!!"})
	wantErr(t, "bad token", err, store.ErrInvalidToken)
}

func testSecrets(t *testing.T, open func(t *testing.T) store.SecretStore) {
	s, ctx := openStore(t, open), context.Background()
	put := map[string][]byte{
		"/keys/prod/aws":    []byte("sealed-prod"),
		"/keys/prod/aws2":   []byte("sealed-prod-2"),
		"/keys/prod_x/aws":  []byte("underscore"),
		"/keys/dev/aws":     {0, 1, 2, 255},
		"/keys/%/literally": []byte("percent"),
	}
	for p, b := range put {
		must(t, "put "+p, s.PutSecret(ctx, store.Secret{Path: p, Sealed: b}))
	}
	for p, b := range put {
		got, err := s.GetSecret(ctx, p)
		must(t, "get "+p, err)
		if !bytes.Equal(got.Sealed, b) || got.Path != p || got.Project != store.DefaultProject {
			t.Fatalf("get %s = %+v, want %q in project default", p, got, b)
		}
	}
	// Only the exact path answers: no prefix, no case folding, no wildcard.
	for _, p := range []string{"/keys/prod", "/keys/prod/", "/KEYS/prod/aws", "/keys/prod/aw", "/keys/prod/aws ", "/keys/_rod/aws", "/keys/%"} {
		_, err := s.GetSecret(ctx, p)
		wantErr(t, "get "+p, err, store.ErrNotFound)
	}
	// Replacing a value moves it to the project it is put in.
	must(t, "replace", s.PutSecret(ctx, store.Secret{Path: "/keys/prod/aws", Project: "audit", Sealed: []byte("rotated")}))
	got, err := s.GetSecret(ctx, "/keys/prod/aws")
	must(t, "get replaced", err)
	if string(got.Sealed) != "rotated" || got.Project != "audit" {
		t.Fatalf("after replace: %+v", got)
	}
	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"/keys/prod/", []string{"/keys/prod/aws audit", "/keys/prod/aws2 default"}},
		{"/keys/prod_", []string{"/keys/prod_x/aws default"}},
		{"/keys/%", []string{"/keys/%/literally default"}},
		{"/nothing", nil},
		{"", []string{"/keys/%/literally default", "/keys/dev/aws default", "/keys/prod/aws audit", "/keys/prod/aws2 default", "/keys/prod_x/aws default"}},
	} {
		list, err := s.ListSecrets(ctx, tc.prefix)
		must(t, "list "+tc.prefix, err)
		var got []string
		for _, e := range list {
			if e.Sealed != nil {
				t.Fatalf("list %q returned sealed bytes of %s", tc.prefix, e.Path)
			}
			got = append(got, e.Path+" "+e.Project)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Fatalf("list %q = %v, want %v", tc.prefix, got, tc.want)
		}
	}
	must(t, "delete", s.DeleteSecret(ctx, "/keys/prod/aws"))
	_, err = s.GetSecret(ctx, "/keys/prod/aws")
	wantErr(t, "get deleted", err, store.ErrNotFound)
	wantErr(t, "delete again", s.DeleteSecret(ctx, "/keys/prod/aws"), store.ErrNotFound)
	if got, _ := s.GetSecret(ctx, "/keys/prod/aws2"); string(got.Sealed) != "sealed-prod-2" {
		t.Fatalf("deleting a path touched its neighbour: %+v", got)
	}
}

func testUsers(t *testing.T, open func(t *testing.T) store.UserStore) {
	s, ctx := openStore(t, open), context.Background()
	alice := store.User{Name: "alice", ARN: "arn:aws:iam::123456789012:user/alice", AccessKeyID: "AKIAALICE", SealedSecret: []byte("s1")}
	bob := store.User{Name: "bob", ARN: "arn:aws:iam::123456789012:user/bob", AccessKeyID: "AKIABOB", SealedSecret: []byte("s2")}
	must(t, "put alice", s.PutUser(ctx, alice))
	must(t, "put bob", s.PutUser(ctx, bob))
	got, err := s.GetUserByAccessKey(ctx, "AKIABOB")
	must(t, "by key", err)
	if got.Name != "bob" || string(got.SealedSecret) != "s2" || got.ARN != bob.ARN || got.Created.IsZero() {
		t.Fatalf("by key: %+v", got)
	}
	_, err = s.GetUserByAccessKey(ctx, "AKIAALIC")
	wantErr(t, "unknown key", err, store.ErrNotFound)
	_, err = s.GetUser(ctx, "carol")
	wantErr(t, "unknown user", err, store.ErrNotFound)

	thief := bob
	thief.Name = "mallory"
	wantErr(t, "taken key", s.PutUser(ctx, thief), store.ErrExists)

	// Rotating alice's key replaces the old one.
	alice.AccessKeyID, alice.SealedSecret = "AKIAALICE2", []byte("s3")
	must(t, "rotate", s.PutUser(ctx, alice))
	_, err = s.GetUserByAccessKey(ctx, "AKIAALICE")
	wantErr(t, "old key", err, store.ErrNotFound)
	got, err = s.GetUser(ctx, "alice")
	must(t, "get alice", err)
	if got.AccessKeyID != "AKIAALICE2" || string(got.SealedSecret) != "s3" {
		t.Fatalf("after rotate: %+v", got)
	}
	list, err := s.ListUsers(ctx)
	must(t, "list", err)
	if len(list) != 2 || list[0].Name != "alice" || list[1].Name != "bob" {
		t.Fatalf("list: %+v", list)
	}
	must(t, "delete", s.DeleteUser(ctx, "bob"))
	wantErr(t, "delete again", s.DeleteUser(ctx, "bob"), store.ErrNotFound)
	_, err = s.GetUserByAccessKey(ctx, "AKIABOB")
	wantErr(t, "deleted user's key", err, store.ErrNotFound)
}
