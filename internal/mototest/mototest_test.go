package mototest

import (
	"net/http"
	"testing"
)

func TestStartAnswersAndResets(t *testing.T) {
	s := Start(t)
	resp, err := http.Get(s.URL + "/moto-api/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /moto-api/: HTTP %d", resp.StatusCode)
	}
	if err := s.Reset(); err != nil {
		t.Fatal(err)
	}
}
