package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/awsapi"
	"github.com/capstan-run/capstan/internal/catalog"
	"github.com/capstan-run/capstan/internal/config"
	"github.com/capstan-run/capstan/internal/credentials"
	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/dryrun"
	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/keys"
	"github.com/capstan-run/capstan/internal/metrics"
	"github.com/capstan-run/capstan/internal/policy"
	"github.com/capstan-run/capstan/internal/runbooktest"
	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/store/sqlite"
	"github.com/capstan-run/capstan/internal/template"
)

// awsFlags choose the credentials, region and endpoint executions use.
type awsFlags struct {
	project     string
	region      string
	endpointURL string
	profile     string
	provider    string
	assumeRoles []string
	externalID  string
	retries     config.Retries
	// dryRun, when set, makes the engine's calls and actions a dry run.
	dryRun *dryrun.Run
	// recordCalls keeps each call's request and response (capstan run
	// --record-calls).
	recordCalls bool
	// unsafeScripts runs aws:executeScript without the sandbox.
	unsafeScripts bool
	// metrics, when set (capstan serve), counts AWS calls and throttling.
	metrics *metrics.Metrics
	// account calls AWS as the caller (no runbook role); set by newEngine.
	account *accountAccess
}

func (f *awsFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.project, "project", "", "the project of the configuration file whose settings apply")
	fl.StringVar(&f.region, "region", "", "the AWS region (overrides the project and system settings)")
	fl.StringVar(&f.endpointURL, "endpoint-url", "", "send every AWS call to this endpoint (an emulator, a VPC endpoint)")
	fl.StringVar(&f.provider, "credentials", "", "the credential provider: default, ec2, ecs, static or profile")
	fl.StringVar(&f.profile, "profile", "", "the shared config profile (implies --credentials profile)")
	fl.StringArrayVar(&f.assumeRoles, "assume-role", nil, "assume this role ARN on top of the credentials; repeat to chain roles in order")
	fl.StringVar(&f.externalID, "external-id", "", "the ExternalId for the last --assume-role")
	fl.IntVar(&f.retries.MaxAttempts, "retry-max-attempts", 0, fmt.Sprintf("attempts of a throttled or failing AWS call, the first included (default %d; 1 disables retries)", awsapi.DefaultMaxAttempts))
	fl.DurationVar((*time.Duration)(&f.retries.Delay), "retry-delay", 0, fmt.Sprintf("backoff before the first retry of an AWS call, doubled with each retry, jittered (default %s)", awsapi.DefaultBaseDelay))
	fl.BoolVar(&f.unsafeScripts, "unsafe-scripts", false, "run aws:executeScript scripts without the bubblewrap sandbox, seeing everything capstan sees (single-user machines only)")
	fl.DurationVar((*time.Duration)(&f.retries.MaxDelay), "retry-max-delay", 0, fmt.Sprintf("the longest backoff between two attempts of an AWS call (default %s)", awsapi.DefaultMaxDelay))
}

// resolve gives the settings for this command: flags over the project
// over the system settings, with the region falling back to AWS_REGION.
func (f *awsFlags) resolve(cfg *config.Config) (config.Profile, error) {
	ov := config.Overrides{Region: f.region, EndpointURL: f.endpointURL, Retries: f.retries}
	if f.profile != "" {
		ov.Credentials = config.Credentials{Provider: config.ProviderProfile, Profile: f.profile}
	} else if f.provider != "" {
		ov.Credentials = config.Credentials{Provider: f.provider}
	}
	for i, arn := range f.assumeRoles {
		r := config.AssumeRole{ARN: arn}
		if i == len(f.assumeRoles)-1 {
			r.ExternalID = f.externalID
		}
		ov.AssumeRoles = append(ov.AssumeRoles, r)
	}
	p, err := cfg.Resolve(f.project, ov)
	if errors.Is(err, config.ErrNoRegion) {
		// The standard AWS chain's region is the last resort.
		if env := firstEnv("AWS_REGION", "AWS_DEFAULT_REGION"); env != "" {
			ov.Region = env
			p, err = cfg.Resolve(f.project, ov)
		}
	}
	return p, err
}

func firstEnv(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// registry is the action registry every command shares.
var registry = sync.OnceValue(action.Builtin)

// newEngine wires an engine over the store: credentials are resolved on the
// first AWS call, so a runbook without AWS steps needs none.
func (f *awsFlags) newEngine(ctx context.Context, db *sqlite.DB, cfg *config.Config, onChange func(*engine.State, store.Event)) (*engine.Engine, *catalog.Catalog, error) {
	prof, profErr := f.resolve(cfg)
	keyring := keys.New(db, keys.Options{DBPath: db.Path(), MasterKeyFile: cfg.Keys.MasterKeyFile})
	limiters := &awsapi.Limiters{}
	sessions := &credentials.Sessions{}
	base := sync.OnceValues(func() (aws.Config, error) {
		if profErr != nil {
			return aws.Config{}, profErr
		}
		return credentials.Base(ctx, prof, keyring)
	})
	newInvoker := func(ctx context.Context, req engine.InvokerRequest) (action.Invoker, error) {
		cfg, err := base()
		if err != nil {
			return nil, err
		}
		if cfg, err = sessions.ForLocation(ctx, cfg, req.SourceRole, req.AssumeRole, req.Region); err != nil {
			return nil, err
		}
		record := req.Record
		var recorder *runbooktest.Recorder
		if f.recordCalls {
			// Requests and responses join awsapi's record of each call.
			recorder = &runbooktest.Recorder{Record: req.Record}
			record = recorder.Meta
		}
		opts := awsapi.Options{Limiters: limiters, MaxAttempts: prof.Retries.MaxAttempts, BaseDelay: time.Duration(prof.Retries.Delay), MaxDelay: time.Duration(prof.Retries.MaxDelay),
			StepOf: engine.StepFromContext, Record: func(c awsapi.Call) {
				record(store.Call{Step: c.Step, Service: c.Service, Operation: c.Operation, IAMAction: c.IAMAction, Start: c.Start, Duration: c.Duration, ErrorCode: c.ErrorCode})
				if f.metrics != nil {
					f.metrics.AWSCall(c.Service, c.Operation, c.ErrorCode)
				}
			}}
		if f.metrics != nil {
			opts.OnThrottle = f.metrics.ThrottlingRetry
		}
		var inv action.Invoker = awsapi.New(cfg, opts)
		if recorder != nil {
			inv = recorder.Wrap(inv)
		}
		// A denied call names the permission it needed.
		explained := policy.Explain(inv, policy.Scope{Region: cfg.Region, Partition: template.PartitionOf(cfg.Region)})
		if f.dryRun != nil {
			return f.dryRun.Invoker(explained), nil
		}
		return explained, nil
	}
	// A script never sees the database, its directory, the master key or
	// the configuration, wherever they lie.
	dbPath, _ := filepath.Abs(db.Path())
	keyFile, _ := filepath.Abs(keyring.KeyFile())
	hide := []string{filepath.Dir(dbPath), dbPath, keyFile}
	if cfg.Path != "" {
		cfgPath, _ := filepath.Abs(cfg.Path)
		hide = append(hide, cfgPath)
	}
	registry().SetScriptSandbox(action.ScriptSandbox{Unsafe: f.unsafeScripts, Hide: hide})
	actions := registry()
	if f.dryRun != nil {
		actions = f.dryRun.Actions(actions)
	}
	f.account = &accountAccess{base: base, limiters: limiters}
	cat := newCatalog(db, f.account)
	eng := engine.New(engine.Options{
		Store:      db,
		Actions:    actions,
		NewInvoker: newInvoker,
		Documents:  cat,
		Secrets:    keyring,
		Region:     prof.Region,
		OnChange:   onChange,
	})
	return eng, cat, nil
}

// apiDiagnostics checks the literal Service, Api and request members of AWS
// API steps against the service models, so that a misspelt service,
// operation or member fails before anything runs rather than halfway
// through. Templated names are checked when the step runs.
func apiDiagnostics(doc *document.Document) []document.Diagnostic {
	return appendAPIDiagnostics(nil, doc.File, doc.MainSteps)
}

// apiOwnInputs are the inputs of the API actions that are not request
// members.
var apiOwnInputs = map[string]bool{"Service": true, "Api": true, "PropertySelector": true, "DesiredValues": true}

// appendAPIDiagnostics checks a step list and the nested steps of its loops.
func appendAPIDiagnostics(out []document.Diagnostic, file string, steps []*document.Step) []document.Diagnostic {
	for _, st := range steps {
		out = appendAPIDiagnostics(out, file, st.Steps)
		switch st.Action {
		case "aws:executeAwsApi", "aws:waitForAwsResourceProperty", "aws:assertAwsResourceProperty":
		default:
			continue
		}
		svc, _ := st.Inputs["Service"].(string)
		api, _ := st.Inputs["Api"].(string)
		if svc == "" || api == "" || strings.Contains(svc+api, "{{") {
			continue
		}
		request := map[string]any{}
		for k, v := range st.Inputs {
			if !apiOwnInputs[k] {
				request[k] = v
			}
		}
		err := awsapi.Check(svc, api, request)
		d := document.Diagnostic{File: file, Severity: document.Error, Step: st.Name}
		pos := st.InputPos["Service"]
		var ie *awsapi.InputError
		switch {
		case errors.Is(err, awsapi.ErrUnknownService) || errors.Is(err, awsapi.ErrUnknownOperation):
		case errors.As(err, &ie) && ie.Unknown != "":
			// Only unknown members are certain before the step runs (values
			// may still be converted). SSM accepts such a document and the
			// step fails when it runs, so this is a warning unless --strict.
			d.Severity, d.Kind = document.Warning, document.UnknownAPIMember
			if p, ok := st.InputPos[ie.Input()]; ok {
				pos = p
			}
		default:
			continue
		}
		d.Line, d.Column, d.Message = pos.Line, pos.Column, err.Error()
		out = append(out, d)
	}
	return out
}

// accountAccess calls the account with the base credentials (no runbook
// role): it fetches runbooks from the account's SSM.
type accountAccess struct {
	base     func() (aws.Config, error)
	limiters *awsapi.Limiters
}

func (a *accountAccess) invoker(ctx context.Context) (action.Invoker, error) {
	cfg, err := a.base()
	if err != nil {
		return nil, err
	}
	return awsapi.New(cfg, awsapi.Options{Limiters: a.limiters}), nil
}
