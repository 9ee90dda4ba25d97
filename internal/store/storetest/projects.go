package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/capstan-run/capstan/internal/store"
)

// ProjectStore holds what belongs to a project: executions and documents
// (key-storage paths are checked by RunSecrets).
type ProjectStore interface {
	store.ExecutionStore
	store.DocumentStore
}

// RunProjects checks that executions and documents keep their project,
// default when none is given, and that listings filter by project.
func RunProjects(t *testing.T, open func(t *testing.T) ProjectStore) {
	t.Run("projects", func(t *testing.T) { t.Parallel(); testProjects(t, open) })
}

func testProjects(t *testing.T, open func(t *testing.T) ProjectStore) {
	s, ctx := openStore(t, open), context.Background()
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for i, p := range []string{"", "audit", "ops", "audit"} {
		e := execution("exec-"+string(rune('a'+i)), t0.Add(time.Duration(i)*time.Minute))
		e.Project = p
		must(t, "create "+e.ID, s.CreateExecution(ctx, e, []store.Event{{Type: "Started"}}))
	}
	got, err := s.Execution(ctx, "exec-a")
	must(t, "get exec-a", err)
	if got.Project != store.DefaultProject {
		t.Fatalf("an execution created without a project is in %q, want default", got.Project)
	}
	// Append leaves the project alone: it is fixed at creation.
	got.Project, got.Status = "ops", "Success"
	must(t, "append", s.Append(ctx, got, []store.Event{{Type: "Finished"}}))
	if got, _ := s.Execution(ctx, "exec-a"); got.Project != store.DefaultProject {
		t.Fatalf("append moved an execution to project %q", got.Project)
	}
	list, _, err := s.ListExecutions(ctx, store.ExecutionFilter{Projects: []string{"audit"}})
	must(t, "list audit", err)
	if ids := ids(list); !reflect.DeepEqual(ids, []string{"exec-d", "exec-b"}) {
		t.Fatalf("executions of audit: %v", ids)
	}
	list, _, err = s.ListExecutions(ctx, store.ExecutionFilter{Projects: []string{"default", "ops"}})
	must(t, "list default and ops", err)
	if ids := ids(list); !reflect.DeepEqual(ids, []string{"exec-c", "exec-a"}) {
		t.Fatalf("executions of default and ops: %v", ids)
	}

	for _, d := range []store.Document{{Name: "Shared", Content: "a"}, {Name: "Audit", Content: "b", Project: "audit"}} {
		d.DocumentType, d.Format = "Automation", "YAML"
		if _, err := s.CreateDocument(ctx, d); err != nil {
			t.Fatalf("create %s: %v", d.Name, err)
		}
	}
	// A new version keeps the document's project whatever the caller says.
	v2, err := s.PutDocument(ctx, store.Document{Name: "Audit", Content: "b2", DocumentType: "Automation", Format: "YAML", Project: "ops"})
	must(t, "put version 2", err)
	if v2.Project != "audit" {
		t.Fatalf("version 2 is in project %q, want audit", v2.Project)
	}
	for name, want := range map[string]string{"Shared": "default", "Audit": "audit"} {
		d, err := s.GetDocument(ctx, name, store.VersionLatest)
		must(t, "get "+name, err)
		if d.Project != want {
			t.Fatalf("document %s is in project %q, want %s", name, d.Project, want)
		}
	}
	docs, _, err := s.ListDocuments(ctx, store.DocumentFilter{Projects: []string{"audit"}})
	must(t, "list audit documents", err)
	if len(docs) != 1 || docs[0].Name != "Audit" || docs[0].Project != "audit" {
		t.Fatalf("documents of audit: %+v", docs)
	}
}
