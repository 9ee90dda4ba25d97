package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/execlog"
	"github.com/capstan-run/capstan/internal/health"
	"github.com/capstan-run/capstan/internal/keys"
	"github.com/capstan-run/capstan/internal/metrics"
	"github.com/capstan-run/capstan/internal/retention"
	"github.com/capstan-run/capstan/internal/schedule"
	"github.com/capstan-run/capstan/internal/service"
	"github.com/capstan-run/capstan/internal/ssmapi"
	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/web"
	"github.com/capstan-run/capstan/internal/webhook"
)

type serveFlags struct {
	store    storeFlags
	aws      awsFlags
	addr     string
	insecure bool
	maxBody  int64
	retain   string
	logs     logFlags
	// secureCookies marks the UI's cookies Secure behind a TLS proxy.
	secureCookies bool
	// maxWebhook caps a webhook's payload.
	maxWebhook int64
	// missedRuns: what happens to schedule runs missed while down.
	missedRuns string
}

// logFlags say where capstan serve ships execution records and step output.
type logFlags struct {
	bucket, group string
}

func newServeCmd() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve [--addr 127.0.0.1:8080]",
		Short: "Serve SSM's Automation API, so the aws CLI and the SDKs drive capstan",
		Long: `Serve the Automation and document operations of AWS Systems Manager over
its own protocol (AWS JSON 1.1), so that 'aws ssm start-automation-execution
--endpoint-url http://ADDR' and the SDKs work unchanged.

Requests must be signed (Signature Version 4) with an access key issued by
'capstan users create NAME' (--insecure-no-auth accepts unsigned requests,
for local experiments only). Executions run on this process's engine, with
this process's own AWS credentials, region and --endpoint-url (flags, the
configuration, then its environment), never the client's; and are
recorded in the store: at start, every unfinished execution resumes. SIGTERM
or Ctrl-C stops serving and interrupts running executions without ending
them; they resume at the next start.

Without a signature: GET /healthz answers while the process serves, GET
/readyz while the store takes writes and the engine runs executions (503
otherwise), and GET /metrics gives the capstan_* metrics in Prometheus's
format (executions started and finished, step durations by action, AWS calls
by service, operation and error code, throttling retries, running
executions, webhook and schedule firings, log shipments).

--log-bucket s3://BUCKET/PREFIX/ writes each finished execution's record to
PREFIX/ID.json; --log-group NAME sends each finished step to CloudWatch Logs
(stream: the execution id). --retain 30d deletes finished executions older
than that. docs/config.md has the details. 'capstan webhooks create' makes
webhooks, served at POST /webhooks/NAME/TOKEN; 'capstan schedules create' makes
schedules, which serve starts as they fall due (--missed-runs run|skip).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return serve(cmd, f)
		},
	}
	cmd.Flags().StringVar(&f.addr, "addr", "", "the address to listen on (default: serve.addr of the configuration, else "+defaultAddr+")")
	cmd.Flags().BoolVar(&f.secureCookies, "secure-cookies", false, "mark the web UI's cookies Secure (set it when a TLS proxy fronts capstan)")
	cmd.Flags().BoolVar(&f.insecure, "insecure-no-auth", false, "accept unsigned requests from anyone who can reach --addr (local experiments only)")
	cmd.Flags().Int64Var(&f.maxBody, "max-request-bytes", 1<<20, "the largest request body accepted")
	cmd.Flags().StringVar(&f.logs.bucket, "log-bucket", "", "write each finished execution's record (steps, outputs, script output, calls) to s3://BUCKET/PREFIX/ID.json (default: serve.logBucket of the configuration)")
	cmd.Flags().StringVar(&f.logs.group, "log-group", "", "send each finished step's output to this CloudWatch Logs group, one stream per execution (default: serve.logGroup of the configuration)")
	cmd.Flags().Int64Var(&f.maxWebhook, "max-webhook-bytes", webhook.DefaultMaxPayload, "the largest webhook payload accepted (413 beyond)")
	cmd.Flags().StringVar(&f.missedRuns, "missed-runs", string(schedule.MissedRun), "a schedule run missed while no server ran: run (once) or skip")
	cmd.Flags().StringVar(&f.retain, "retain", "", "delete finished executions older than this, e.g. 30d as SSM (default: serve.retain of the configuration, else keep all)")
	f.store.register(cmd)
	f.aws.register(cmd)
	return cmd
}

// Timeouts that keep a slow or stuck client from holding a connection (and
// its goroutine) for long; other clients are served on their own
// connections regardless.
// defaultAddr is where capstan serve listens unless told otherwise: loopback
// only, since anyone who can reach it can try keys against it.
const defaultAddr = "127.0.0.1:8080"

const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 60 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	shutdownGrace     = 10 * time.Second
)

func serve(cmd *cobra.Command, f serveFlags) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	logger := slog.New(slog.NewTextHandler(stderr, nil))

	db, err := f.store.open(ctx)
	if err != nil {
		return failed(err)
	}
	defer db.Close()
	cfg := f.store.cfg
	f.addr = cmp.Or(f.addr, cfg.Serve.Addr, defaultAddr)
	if m := schedule.Missed(f.missedRuns); m != schedule.MissedRun && m != schedule.MissedSkip {
		return usageError("--missed-runs %q: expected run or skip", f.missedRuns)
	}
	var keep time.Duration
	if r := cmp.Or(f.retain, cfg.Serve.Retain); r != "" {
		if keep, err = retention.ParseAge(r); err != nil {
			return usageError("--retain: %w", err)
		}
	}
	if f.aws.unsafeScripts {
		fmt.Fprintln(stderr, "WARNING: --unsafe-scripts: aws:executeScript scripts run without the sandbox and can read")
		fmt.Fprintln(stderr, "WARNING: everything capstan can (its database, master key, environment). Single-user machines only.")
	}
	ship := &execlog.Shipper{Store: db, LogGroup: cmp.Or(f.logs.group, cfg.Serve.LogGroup), Logger: logger}
	if b := cmp.Or(f.logs.bucket, cfg.Serve.LogBucket); b != "" {
		if ship.Bucket, ship.Prefix, err = execlog.ParseS3URL(b); err != nil {
			return usageError("--log-bucket: %w", err)
		}
	}
	var eng *engine.Engine
	mets := metrics.New(func() int { return eng.Running() })
	f.aws.metrics = mets
	onChange := mets.OnChange
	shipping := ship.Bucket != "" || ship.LogGroup != ""
	if shipping {
		ship.OnShipped = mets.LogShipped
		ship.Start()
		onChange = func(st *engine.State, ev store.Event) {
			mets.OnChange(st, ev)
			ship.OnChange(st, ev)
		}
	}
	svc := f.aws.newService(context.WithoutCancel(ctx), db, cfg, serviceOptions{onChange: onChange, notice: stderr, logger: logger, shared: !f.insecure})
	eng = svc.Engine()
	defer eng.Shutdown()
	if shipping {
		ship.AWS = f.aws.account
		// Shipping outlives the HTTP server's shutdown only as long as the
		// engine's: copies still queued then are caught up at the next start.
		go ship.Run(ctx)
	}

	opts := ssmapi.Options{Service: svc, MaxBodyBytes: f.maxBody, Logger: logger}
	// Signatures must be scoped to the region executions run in, when one
	// is configured.
	if prof, err := f.aws.resolve(cfg); err == nil {
		opts.Region = prof.Region
	} else {
		// Runbooks run with this server's own AWS settings, never the
		// client's: say now that it has no region, not at the first step.
		fmt.Fprintf(stderr, "WARNING: %v\nWARNING: executions that call AWS will fail; start the server with --region or AWS_REGION/AWS_DEFAULT_REGION set.\n", err)
	}
	// Each project runs with its own settings: say now which cannot call AWS.
	projects, err := svc.ListProjects(ctx, localPrincipal())
	if err != nil {
		return failed(err)
	}
	for _, p := range projects {
		if p.Problem != "" && p.Name != store.DefaultProject {
			fmt.Fprintf(stderr, "WARNING: project %s: %s\n", p.Name, p.Problem)
		}
	}
	if f.insecure {
		fmt.Fprintln(stderr, "WARNING: --insecure-no-auth: request signatures are NOT checked. Anyone who can reach")
		fmt.Fprintln(stderr, "WARNING: "+f.addr+" can create documents and run runbooks with this server's AWS credentials.")
		fmt.Fprintln(stderr, "WARNING: executions record ExecutedBy "+ssmapi.Anonymous.ARN+". Use this for local experiments only.")
	} else {
		opts.Auth = ssmapi.Users{Service: svc}
		if err := warnNoPolicy(ctx, db, stderr); err != nil {
			return failed(err)
		}
		if users, err := svc.ListUsers(ctx, localPrincipal()); err != nil {
			return failed(err)
		} else if len(users) == 0 {
			fmt.Fprintln(stderr, "capstan serve: the store has no users yet, so every request will be refused.")
			fmt.Fprintln(stderr, "  Create one:  capstan users create NAME --db "+db.Path())
			fmt.Fprintln(stderr, "  then sign requests with its keys (aws configure, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY).")
			fmt.Fprintln(stderr, "  For a local experiment only: capstan serve --insecure-no-auth accepts unsigned requests.")
		}
	}
	api := ssmapi.New(opts)

	n, err := svc.ResumeAll(ctx)
	if err != nil {
		// One broken execution must not keep the others from running.
		logger.Error("resuming executions", "err", err)
	}
	// Executions another process runs were skipped; those whose runner dies
	// are taken over once its lease ends.
	eng.Adopt()
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return failed(fmt.Errorf("listening on %s: %w", f.addr, err))
	}
	probes := health.Handler(logger,
		health.Check{Name: "store", Func: db.Ping},
		health.Check{Name: "engine", Func: func(context.Context) error { return eng.Ready() }})
	// The probes and metrics need no signature (monitoring systems scrape
	// them); everything else is the signed SSM API.
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", probes)
	mux.Handle("GET /readyz", probes)
	mux.Handle("GET /metrics", mets.Handler())
	// Webhooks authenticate by the token in their path (and a signature
	// when configured), not by SigV4.
	mux.Handle(webhook.PathPrefix, &webhook.Handler{
		Store: db, Service: svc, AccountID: svc.AccountID(), MaxPayload: f.maxWebhook, Logger: logger, Fired: mets.WebhookFired,
		Secrets: keys.New(db, keys.Options{DBPath: db.Path(), MasterKeyFile: cfg.Keys.MasterKeyFile}),
	})
	mux.Handle("/", api)
	if err := mountUI(mux, svc, db, logger, f.secureCookies); err != nil {
		return failed(err)
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	runner := &schedule.Runner{Store: db, Missed: schedule.Missed(f.missedRuns), Logger: logger,
		Start: func(ctx context.Context, s store.Schedule) (string, error) {
			return svc.StartExecution(service.WithSource(ctx, service.SourceSchedule), service.SchedulePrincipal(svc.AccountID(), s.Name),
				service.StartInput{DocumentName: s.Document, Parameters: document.Inputs{Flags: s.Parameters}, Project: s.Project})
		},
		Fired: func(name, outcome string, _ time.Duration) { mets.ScheduleFired(name, outcome) },
	}
	go runner.Run(ctx)
	if keep > 0 {
		sweeper := &retention.Sweeper{Store: db, Keep: keep, Logger: logger}
		go sweeper.Run(ctx)
	}
	fmt.Fprintf(stdout, "capstan serve: listening on http://%s (resumed %d unfinished executions)\n", ln.Addr(), n)
	fmt.Fprintf(stdout, "capstan serve: web UI at http://%s%s\n", ln.Addr(), web.Prefix)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return failed(fmt.Errorf("serving on %s: %w", f.addr, err))
	case <-ctx.Done():
	}
	fmt.Fprintln(stderr, "capstan serve: shutting down; running executions resume at the next start")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		logger.Warn("shutting down the HTTP server", "err", err)
	}
	eng.Shutdown()
	return nil
}
