package credentials

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/capstan-run/capstan/internal/config"
	"github.com/capstan-run/capstan/internal/keys"
)

// imdsServer speaks IMDSv2 as an EC2 instance does: a session token from
// PUT /latest/api/token, required on every GET; the role name; then the
// role's credentials. moto does not emulate IMDS, hence this server.
type imdsServer struct {
	*httptest.Server
	mu        sync.Mutex
	expiresIn time.Duration // lifetime of the credentials it hands out
	tokens    int
	fetches   int // credential documents served
	rejected  int // requests without a valid token
}

const imdsToken = "imds-session-token"

func newIMDS(t *testing.T, expiresIn time.Duration) *imdsServer {
	s := &imdsServer{expiresIn: expiresIn}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	t.Cleanup(s.Close)
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", s.URL)
	return s
}

func (s *imdsServer) handle(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Method == http.MethodPut && r.URL.Path == "/latest/api/token" {
		if r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds") == "" {
			http.Error(w, "missing ttl", http.StatusBadRequest)
			return
		}
		s.tokens++
		w.Header().Set("X-aws-ec2-metadata-token-ttl-seconds", "21600")
		fmt.Fprint(w, imdsToken)
		return
	}
	if r.Header.Get("X-aws-ec2-metadata-token") != imdsToken {
		s.rejected++
		http.Error(w, "", http.StatusUnauthorized)
		return
	}
	switch r.URL.Path {
	case "/latest/meta-data/iam/security-credentials/":
		fmt.Fprint(w, "capstan-instance-role")
	case "/latest/meta-data/iam/security-credentials/capstan-instance-role":
		s.fetches++
		_ = json.NewEncoder(w).Encode(map[string]string{
			"Code":            "Success",
			"LastUpdated":     time.Now().UTC().Format(time.RFC3339),
			"Type":            "AWS-HMAC",
			"AccessKeyId":     fmt.Sprintf("ASIAINSTANCE%d", s.fetches),
			"SecretAccessKey": "instance-secret",
			"Token":           "instance-session",
			"Expiration":      time.Now().Add(s.expiresIn).UTC().Format(time.RFC3339),
		})
	default:
		http.NotFound(w, r)
	}
}

func TestEC2Provider(t *testing.T) {
	tests := []struct {
		name        string
		expiresIn   time.Duration
		retrieves   int
		wantFetches int
		wantErr     error
	}{
		// Credentials valid for an hour are fetched once and reused.
		{"cached while fresh", time.Hour, 3, 1, nil},
		// Credentials inside the refresh window are still valid but are
		// replaced on every use, so no call starts with them about to lapse.
		{"refreshed before expiry", ExpiryWindow - time.Minute, 2, 2, nil},
		// Credentials already expired are refused with the provider's name.
		{"expired", -time.Minute, 1, 1, ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newIMDS(t, tt.expiresIn)
			prov, err := Provider(context.Background(), config.Profile{Credentials: config.Credentials{Provider: "ec2"}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for range tt.retrieves {
				c, err := prov.Retrieve(context.Background())
				if tt.wantErr != nil {
					if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), "ec2 provider") {
						t.Fatalf("err = %v, want %v naming the ec2 provider", err, tt.wantErr)
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				if c.SessionToken != "instance-session" || !c.CanExpire {
					t.Errorf("credentials = %+v", c)
				}
				keys = append(keys, c.AccessKeyID)
			}
			if srv.fetches != tt.wantFetches {
				t.Errorf("credential fetches = %d, want %d (keys %v)", srv.fetches, tt.wantFetches, keys)
			}
			if tt.wantFetches > 1 && tt.wantErr == nil && keys[0] == keys[len(keys)-1] {
				t.Errorf("refresh returned the same key %s", keys[0])
			}
			if srv.tokens < 1 || srv.rejected != 0 {
				t.Errorf("IMDSv2 tokens = %d, requests without a token = %d", srv.tokens, srv.rejected)
			}
		})
	}
}

// ecsServer speaks the container credentials protocol: GET with the
// Authorization header, a JSON credentials document back. moto does not
// emulate it, hence this server.
type ecsServer struct {
	*httptest.Server
	mu         sync.Mutex
	validToken string
	auths      []string
}

func newECS(t *testing.T, token string) *ecsServer {
	s := &ecsServer{validToken: token}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		auth := r.Header.Get("Authorization")
		s.auths = append(s.auths, auth)
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path != "/v2/credentials/task" {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"code":"NotFound","message":"no such path"}`)
			return
		}
		if auth != s.validToken {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"code":"AccessDenied","message":"invalid authorization token"}`)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{
			"AccessKeyId":     "ASIATASK",
			"SecretAccessKey": "task-secret",
			"Token":           "task-session",
			"Expiration":      time.Now().Add(time.Hour).UTC().Format(time.RFC3339),
		})
	}))
	t.Cleanup(s.Close)
	return s
}

func TestECSProvider(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("file-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		server    string // the token the server accepts
		env       map[string]string
		path      string
		wantAuth  string
		wantError []string
	}{
		{"token from env", "env-token", map[string]string{"AWS_CONTAINER_AUTHORIZATION_TOKEN": "env-token"}, "/v2/credentials/task", "env-token", nil},
		{"token file wins", "file-token", map[string]string{"AWS_CONTAINER_AUTHORIZATION_TOKEN": "env-token", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile}, "/v2/credentials/task", "file-token", nil},
		{"wrong token", "other", map[string]string{"AWS_CONTAINER_AUTHORIZATION_TOKEN": "env-token"}, "/v2/credentials/task", "env-token", []string{"ecs provider", "invalid authorization token"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newECS(t, tt.server)
			t.Setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "")
			t.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", srv.URL+tt.path)
			t.Setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "")
			t.Setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "")
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			prov, err := Provider(context.Background(), config.Profile{Credentials: config.Credentials{Provider: "ecs"}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			c, err := prov.Retrieve(context.Background())
			if len(srv.auths) == 0 || srv.auths[0] != tt.wantAuth {
				t.Errorf("Authorization headers = %q, want %q", srv.auths, tt.wantAuth)
			}
			if tt.wantError != nil {
				for _, w := range tt.wantError {
					if err == nil || !strings.Contains(err.Error(), w) {
						t.Errorf("err = %v, want it to mention %q", err, w)
					}
				}
				return
			}
			if err != nil || c.AccessKeyID != "ASIATASK" || c.SessionToken != "task-session" {
				t.Fatalf("Retrieve = %+v, %v", c, err)
			}
		})
	}
}

func TestECSEndpointChecks(t *testing.T) {
	tests := []struct {
		name, rel, full string
		want            string // endpoint, or an error fragment when wantErr
		wantErr         bool
	}{
		{"relative uri on the agent host", "/v2/credentials/abc", "", "http://169.254.170.2/v2/credentials/abc", false},
		{"loopback full uri", "", "http://127.0.0.1:9/creds", "http://127.0.0.1:9/creds", false},
		{"eks pod identity host", "", "http://169.254.170.23/v1/credentials", "http://169.254.170.23/v1/credentials", false},
		{"https anywhere", "", "https://creds.example.com/x", "https://creds.example.com/x", false},
		{"plain http elsewhere", "", "http://creds.example.com/x", "must use https or a loopback", true},
		{"not in a container", "", "", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor AWS_CONTAINER_CREDENTIALS_FULL_URI", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", tt.rel)
			t.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", tt.full)
			_, err := Provider(context.Background(), config.Profile{Credentials: config.Credentials{Provider: "ecs"}}, nil)
			got, gerr := containerEndpoint()
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("Provider err = %v, want one mentioning %q", err, tt.want)
				}
				return
			}
			if err != nil || gerr != nil || got != tt.want {
				t.Fatalf("endpoint = %q, %v, %v; want %q", got, err, gerr, tt.want)
			}
		})
	}
}

type mapSecrets map[string]string

func (m mapSecrets) Get(_ context.Context, path string) (string, error) {
	v, ok := m[path]
	if !ok {
		return "", &keys.NotFoundError{Path: path}
	}
	return v, nil
}

func TestStaticAndBadProviders(t *testing.T) {
	secrets := mapSecrets{"aws/secret": "sk-from-storage", "aws/token": "st-from-storage"}
	tests := []struct {
		name    string
		creds   config.Credentials
		want    string // the secret access key, when no error
		wantErr []string
		atCall  bool // the error shows at Retrieve, not at construction
	}{
		{"static with token", config.Credentials{Provider: "static", AccessKeyID: "AKIASTATIC", SecretKey: "key:aws/secret", SessionTokenKey: "key:aws/token"}, "sk-from-storage", nil, false},
		{"missing key", config.Credentials{Provider: "static", AccessKeyID: "AKIASTATIC", SecretKey: "key:aws/gone"}, "", []string{"static provider", "aws/gone", "capstan keys put aws/gone"}, true},
		{"secret inline", config.Credentials{Provider: "static", AccessKeyID: "AKIASTATIC", SecretKey: "sk-inline"}, "", []string{"not a key-storage reference", "capstan keys put"}, false},
		{"unknown provider", config.Credentials{Provider: "vault"}, "", []string{`unknown credentials provider "vault"`, "default, ec2, ecs, static, profile"}, false},
		{"profile without name", config.Credentials{Provider: "profile"}, "", []string{"no profile named", "--profile"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prov, err := Provider(context.Background(), config.Profile{Credentials: tt.creds}, secrets)
			if err == nil {
				var c aws.Credentials
				c, err = prov.Retrieve(context.Background())
				if tt.wantErr == nil {
					if err != nil || c.SecretAccessKey != tt.want || c.AccessKeyID != "AKIASTATIC" || c.SessionToken != "st-from-storage" {
						t.Fatalf("Retrieve = %+v, %v", c, err)
					}
					return
				}
				if !tt.atCall {
					t.Fatalf("error only at Retrieve: %v", err)
				}
			}
			for _, w := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want it to mention %q", err, w)
				}
			}
		})
	}
}

func TestProfileProvider(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "config")
	credFile := filepath.Join(dir, "credentials")
	_ = os.WriteFile(cfgFile, []byte("[profile dev]\nregion = eu-west-1\n"), 0o600)
	_ = os.WriteFile(credFile, []byte("[dev]\naws_access_key_id = AKIAPROFILE\naws_secret_access_key = profile-secret\n"), 0o600)
	t.Setenv("AWS_CONFIG_FILE", cfgFile)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", credFile)
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_PROFILE", "")
	prov, err := Provider(context.Background(), config.Profile{Credentials: config.Credentials{Provider: "profile", Profile: "dev"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := prov.Retrieve(context.Background())
	if err != nil || c.AccessKeyID != "AKIAPROFILE" {
		t.Fatalf("Retrieve = %+v, %v", c, err)
	}
	_, err = Provider(context.Background(), config.Profile{Credentials: config.Credentials{Provider: "profile", Profile: "nope"}}, nil)
	if err == nil || !strings.Contains(err.Error(), `profile "nope"`) {
		t.Fatalf("unknown profile: %v", err)
	}
}
