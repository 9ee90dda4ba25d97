package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/authz"
	"github.com/capstan-run/capstan/internal/awsapi"
	"github.com/capstan-run/capstan/internal/config"
	"github.com/capstan-run/capstan/internal/credentials"
	"github.com/capstan-run/capstan/internal/dryrun"
	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/keys"
	"github.com/capstan-run/capstan/internal/metrics"
	"github.com/capstan-run/capstan/internal/policy"
	"github.com/capstan-run/capstan/internal/runbooktest"
	"github.com/capstan-run/capstan/internal/service"
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
	// lease is the engine's lease length (engine.Options.LeaseDuration).
	lease time.Duration
	// account calls AWS as the caller (no runbook role); set by newService.
	account func(ctx context.Context) (action.Invoker, error)
}

func (f *awsFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	prev := cmd.PreRunE
	cmd.PreRunE = func(c *cobra.Command, args []string) error {
		if f.lease < 0 {
			return usageError("--lease %s: expected a positive duration such as 30s", f.lease)
		}
		if prev != nil {
			return prev(c, args)
		}
		return nil
	}
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
	fl.DurationVar(&f.lease, "lease", 0, "how long this process's claim to run an execution lasts unrenewed: another process takes over the executions of one that died after it (default 30s)")
	fl.DurationVar((*time.Duration)(&f.retries.MaxDelay), "retry-max-delay", 0, fmt.Sprintf("the longest backoff between two attempts of an AWS call (default %s)", awsapi.DefaultMaxDelay))
}

// projects are the projects under this command's flags, the region falling
// back to AWS_REGION.
func (f *awsFlags) projects(cfg *config.Config) config.Projects {
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
	return config.Projects{Config: cfg, Flags: ov, FallbackRegion: firstEnv("AWS_REGION", "AWS_DEFAULT_REGION")}
}

// resolve gives the settings for this command: flags over the project
// over the system settings, with the region falling back to AWS_REGION.
func (f *awsFlags) resolve(cfg *config.Config) (config.Profile, error) {
	return f.projects(cfg).Resolve(f.project)
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

// serviceOptions are what a command adds to the service it opens.
type serviceOptions struct {
	// onChange sees every durable change of the executions this process runs.
	onChange func(*engine.State, store.Event)
	// masterKeyFile overrides the configuration's keys.masterKeyFile.
	masterKeyFile string
	// notice receives key storage's one-time notices (a new master key).
	notice io.Writer
	logger *slog.Logger
	// shared: a server whose API users act under their policies, and whose
	// runbooks read only the keys their starter's policy grants.
	shared bool
}

// newService wires the service and its engine over the store: credentials
// are resolved on the first AWS call, so a runbook without AWS steps needs
// none.
func (f *awsFlags) newService(ctx context.Context, db *sqlite.DB, cfg *config.Config, o serviceOptions) *service.Service {
	projects := f.projects(cfg)
	// The engine's Region is the command's project's; "" when it has none
	// (a start that calls AWS is then refused naming the project).
	prof, _ := f.resolve(cfg)
	keyOpts := keys.Options{DBPath: db.Path(), MasterKeyFile: cmp.Or(o.masterKeyFile, cfg.Keys.MasterKeyFile), Notice: o.notice}
	keyring := keys.New(db, keyOpts)
	limiters := &awsapi.Limiters{}
	sessions := &credentials.Sessions{}
	bases := &projectBases{ctx: ctx, projects: projects, keyring: keyring}
	// The command's own project: the account's runbooks, previews.
	base := func() (aws.Config, error) {
		cfg, _, err := bases.get(f.project)
		return cfg, err
	}
	newInvoker := func(ctx context.Context, req engine.InvokerRequest) (action.Invoker, error) {
		// Each execution calls AWS with its project's credentials, chain,
		// endpoint and retries.
		project := cmp.Or(req.Project, f.project)
		cfg, prof, err := bases.get(project)
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
	f.account = func(ctx context.Context) (action.Invoker, error) {
		cfg, err := base()
		if err != nil {
			return nil, err
		}
		return awsapi.New(cfg, awsapi.Options{Limiters: limiters}), nil
	}
	var policies *authz.Loader
	if o.shared {
		policies = &authz.Loader{Store: db, NotFound: store.ErrNotFound}
	}
	// A runbook reads its project's keys only, and on a shared server only
	// those its starter's policy grants.
	secrets := &authz.KeyGuard{Keys: keyring, Loader: policies, Scope: authz.Scope{Region: prof.Region, Account: service.DefaultAccountID}}
	return service.New(service.Options{
		Store:    db,
		Policies: policies,
		Projects: projects,
		Engine: engine.Options{
			Actions:       actions,
			NewInvoker:    newInvoker,
			Secrets:       secrets,
			Region:        prof.Region,
			OnChange:      o.onChange,
			LeaseDuration: f.lease,
		},
		Library: library{},
		Account: f.account,
		Keys:    keyOpts,
		Logger:  o.logger,
	})
}

// projectBases builds each project's base AWS configuration once, on its
// first AWS call, so a project without AWS steps needs no credentials.
type projectBases struct {
	ctx      context.Context
	projects config.Projects
	keyring  *keys.Keyring
	mu       sync.Mutex
	m        map[string]func() (projectBase, error)
}

// projectBase is a project's resolved settings and the AWS configuration
// built from them.
type projectBase struct {
	cfg  aws.Config
	prof config.Profile
}

func (b *projectBases) get(project string) (aws.Config, config.Profile, error) {
	b.mu.Lock()
	once, ok := b.m[project]
	if !ok {
		once = sync.OnceValues(func() (projectBase, error) {
			prof, err := b.projects.Resolve(project)
			if err != nil {
				return projectBase{}, err
			}
			cfg, err := credentials.Base(b.ctx, prof, b.keyring)
			return projectBase{cfg: cfg, prof: prof}, err
		})
		if b.m == nil {
			b.m = map[string]func() (projectBase, error){}
		}
		b.m[project] = once
	}
	b.mu.Unlock()
	pb, err := once()
	return pb.cfg, pb.prof, err
}
