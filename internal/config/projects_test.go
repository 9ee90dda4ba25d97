package config

import (
	"errors"
	"reflect"
	"testing"
)

func TestProjects(t *testing.T) {
	c, err := Parse("c.yaml", []byte(`region: eu-west-1
projects:
  audit:
    region: us-east-2
  ops: {}
`))
	if err != nil {
		t.Fatal(err)
	}
	ps := Projects{Config: c}
	if got, want := ps.Names(), []string{"default", "audit", "ops"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
	def, err := ps.Resolve(DefaultProject)
	if err != nil || def.Region != "eu-west-1" || def.Project != DefaultProject {
		t.Fatalf("default resolves to %+v, %v; want the system settings", def, err)
	}
	audit, err := ps.Resolve("audit")
	if err != nil || audit.Region != "us-east-2" {
		t.Fatalf("audit resolves to %+v, %v; want its own region", audit, err)
	}
	var unknown *UnknownProjectError
	if err := ps.Check("nope"); !errors.As(err, &unknown) || !errors.Is(err, ErrUnknownProject) || !reflect.DeepEqual(unknown.Known, ps.Names()) {
		t.Fatalf("Check(nope) = %v, want an UnknownProjectError listing %v", err, ps.Names())
	}
}

func TestProjectsFallbackRegion(t *testing.T) {
	c, err := Parse("c.yaml", []byte("projects:\n  audit:\n    region: us-east-2\n  ops: {}\n"))
	if err != nil {
		t.Fatal(err)
	}
	ps := Projects{Config: c, FallbackRegion: "ap-south-1"}
	for name, want := range map[string]string{"default": "ap-south-1", "ops": "ap-south-1", "audit": "us-east-2"} {
		p, err := ps.Resolve(name)
		if err != nil || p.Region != want {
			t.Errorf("Resolve(%s) = %q, %v; want region %s", name, p.Region, err, want)
		}
	}
	if _, err := (Projects{Config: c}).Resolve("ops"); !errors.Is(err, ErrNoRegion) {
		t.Errorf("without a fallback, ops has no region: got %v", err)
	}
}
