package keys

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestMasker(t *testing.T) {
	var m Masker
	if got := m.Mask("nothing recorded"); got != "nothing recorded" {
		t.Fatalf("empty masker changed text: %q", got)
	}
	m.Add("s3cr3t")
	m.Add("s3cr3t-longer")
	m.Add(`quo"te\`)
	m.Add("")
	tests := []struct{ in, want string }{
		{"password=s3cr3t;", "password=****;"},
		{"s3cr3t-longer and s3cr3t", "**** and ****"},
		{`{"v":"quo\"te\\"}`, `{"v":"****"}`},
		{"blob " + base64.StdEncoding.EncodeToString([]byte("s3cr3t")), "blob ****"},
		{"no secrets here", "no secrets here"},
	}
	for _, tt := range tests {
		if got := m.Mask(tt.in); got != tt.want {
			t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	base := errors.New("boom")
	err := m.MaskError(fmt.Errorf("calling with s3cr3t: %w", base))
	if strings.Contains(err.Error(), "s3cr3t") || !errors.Is(err, base) {
		t.Errorf("MaskError = %v (is base: %v)", err, errors.Is(err, base))
	}
	if m.MaskError(nil) != nil {
		t.Error("MaskError(nil) != nil")
	}
}

func TestMaskerConcurrent(t *testing.T) {
	var m Masker
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(2)
		go func() { defer wg.Done(); m.Add(fmt.Sprintf("secret-%d", i)) }()
		go func() { defer wg.Done(); _ = m.Mask("secret-1 secret-2") }()
	}
	wg.Wait()
	if got := m.Mask("secret-0 secret-7"); got != "**** ****" {
		t.Errorf("after concurrent adds: %q", got)
	}
}

func TestResolveRecordsTheSecret(t *testing.T) {
	ctx := context.Background()
	k, _, _ := newTestKeyring(t, newMapBackend())
	if err := k.Put(ctx, "", "api/token", []byte("tok-123")); err != nil {
		t.Fatal(err)
	}
	var m Masker
	path, ok := ParseRef(" key:api/token ")
	if !ok || path != "api/token" {
		t.Fatalf("ParseRef = %q, %v", path, ok)
	}
	v, err := Resolve(ctx, k, &m, path)
	if err != nil || v != "tok-123" {
		t.Fatalf("Resolve = %q, %v", v, err)
	}
	if got := m.Mask("Authorization: tok-123"); got != "Authorization: ****" {
		t.Errorf("resolved value not masked: %q", got)
	}
	if _, err := Resolve(ctx, k, &m, "api/missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing: %v", err)
	}
	for _, s := range []string{"api/token", "key:", "key:../x"} {
		if _, ok := ParseRef(s); ok {
			t.Errorf("ParseRef(%q) accepted", s)
		}
	}
}
