// Package sqlite is capstan's embedded store: SQLite through the pure-Go
// modernc.org/sqlite driver, one file, no cgo.
//
// # Durability
//
// The database runs in WAL mode. With the default synchronous=NORMAL a
// transaction is durable against a crash or kill -9 of the process as soon as
// its commit returns (the WAL is in the OS page cache); an OS crash or power
// loss may drop the last transactions committed before it, never corrupt the
// file. Options.Sync selects synchronous=FULL, which fsyncs the WAL on every
// commit and survives power loss too, at the cost of one fsync per commit
// (shared by a whole group commit).
//
// The writer never checkpoints the WAL itself (wal_autocheckpoint off): a
// checkpointer goroutine on its own connection copies it back into the
// database file shortly after commits, so commits do not wait for it.
//
// # Concurrency
//
// Every write goes through one writer goroutine on one connection. Writes that
// arrive while a transaction is committing are gathered into the next one
// (group commit): each runs under its own savepoint, so one caller's failure
// (a stale Seq, a taken id) rolls back only its own changes and the others
// still commit. Each caller returns when its batch has committed. Reads use a
// separate pool of read-only connections and never wait for the writer.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/capstan-run/capstan/internal/store"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Options tune Open. The zero value is the documented default.
type Options struct {
	// Sync makes every commit fsync the WAL (synchronous=FULL) so committed
	// transactions survive power loss, not only a process crash. Default off.
	Sync bool
	// BusyTimeout is how long a connection waits for a lock held by another
	// process before failing. Default 5s.
	BusyTimeout time.Duration
	// ReadConns is the size of the read connection pool. Default
	// max(4, GOMAXPROCS).
	ReadConns int
	// MaxBatch caps how many writes one group commit gathers. Default 256.
	MaxBatch int
	// Logger receives warnings; default slog.Default().
	Logger *slog.Logger
	// CheckpointDelay is how long after a commit the checkpointer copies the
	// WAL back into the database file. Default 100ms. See checkpointer.
	CheckpointDelay time.Duration
	// CheckpointRestartFrames is the WAL size, in frames (pages), beyond which
	// the checkpointer restarts the WAL even if that briefly holds up the
	// writer and waits for readers. Default 16384 (64 MiB of 4 KiB pages).
	CheckpointRestartFrames int
}

// DefaultPath is where capstan keeps its database unless --db says otherwise:
// $XDG_DATA_HOME/capstan/capstan.db, else ~/.local/share/capstan/capstan.db
// (capstan.db in the working directory when no home directory is known).
func DefaultPath() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "capstan", "capstan.db")
	}
	if h, err := os.UserHomeDir(); err == nil && h != "" {
		return filepath.Join(h, ".local", "share", "capstan", "capstan.db")
	}
	return "capstan.db"
}

// DB is the SQLite store. It implements store.Store.
type DB struct {
	path   string
	read   *sql.DB
	wdb    *sql.DB
	w      *wconn
	writes chan *writeReq
	quit   chan struct{}
	done   chan struct{}
	max    int
	log    *slog.Logger

	stmtExecution *sql.Stmt
	stmtEvents    *sql.Stmt

	ckpt        *sql.DB       // the checkpointer's own connection
	ckptKick    chan struct{} // the writer's "something committed"; capacity 1
	ckptDone    chan struct{}
	ckptDelay   time.Duration
	ckptRestart int
}

var _ store.Store = (*DB)(nil)

// Open opens (creating it and its parent directory when missing) the database
// at path and brings its schema up to date.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 5 * time.Second
	}
	if opts.ReadConns <= 0 {
		opts.ReadConns = max(4, runtime.GOMAXPROCS(0))
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 256
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.CheckpointDelay <= 0 {
		opts.CheckpointDelay = 100 * time.Millisecond
	}
	if opts.CheckpointRestartFrames <= 0 {
		opts.CheckpointRestartFrames = 16384
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("open store %s: %w", path, err)
		}
	}
	if err := secureFiles(path); err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	syncMode := "NORMAL"
	if opts.Sync {
		syncMode = "FULL"
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", opts.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+syncMode+")")
	q.Add("_pragma", "foreign_keys(ON)")
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?"

	// The writer never checkpoints: the checkpointer does it on its own
	// connection, on the other core, rather than inside a COMMIT that every
	// caller of the batch waits for. journal_size_limit truncates a WAL that
	// a long busy spell let grow once it is reset.
	wq := url.Values{}
	for _, v := range q["_pragma"] {
		wq.Add("_pragma", v)
	}
	wq.Add("_pragma", "wal_autocheckpoint(0)")
	wq.Add("_pragma", "journal_size_limit(67108864)")
	wdb, err := sql.Open("sqlite", dsn+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	conn, err := wdb.Conn(ctx)
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := migrate(ctx, conn); err != nil {
		conn.Close()
		wdb.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	w, err := newWConn(ctx, conn)
	if err != nil {
		conn.Close()
		wdb.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}

	q.Add("_pragma", "query_only(1)")
	read, err := sql.Open("sqlite", dsn+q.Encode())
	if err != nil {
		w.close()
		wdb.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	read.SetMaxOpenConns(opts.ReadConns)
	read.SetMaxIdleConns(opts.ReadConns)
	read.SetConnMaxLifetime(0)

	ckpt, err := sql.Open("sqlite", dsn+wq.Encode())
	if err != nil {
		read.Close()
		w.close()
		wdb.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	ckpt.SetMaxOpenConns(1)
	ckpt.SetMaxIdleConns(1)
	ckpt.SetConnMaxLifetime(0)

	d := &DB{
		path: path, read: read, wdb: wdb, w: w,
		writes: make(chan *writeReq),
		quit:   make(chan struct{}),
		done:   make(chan struct{}),
		max:    opts.MaxBatch,
		log:    opts.Logger,

		ckpt:        ckpt,
		ckptKick:    make(chan struct{}, 1),
		ckptDone:    make(chan struct{}),
		ckptDelay:   opts.CheckpointDelay,
		ckptRestart: opts.CheckpointRestartFrames,
	}
	if d.stmtExecution, err = read.PrepareContext(ctx, selectExecution+" WHERE id = ?"); err == nil {
		d.stmtEvents, err = read.PrepareContext(ctx, `SELECT seq, type, time, data FROM events
			WHERE exec_n = (SELECT n FROM executions WHERE id = ?) AND seq > ? ORDER BY seq`)
	}
	if err != nil {
		ckpt.Close()
		read.Close()
		w.close()
		wdb.Close()
		return nil, fmt.Errorf("open store %s: prepare: %w", path, err)
	}
	go d.writer()
	go d.checkpointer()
	return d, nil
}

// Path is the database file.
func (d *DB) Path() string { return d.path }

// Close waits for the writes already submitted, then closes every connection.
func (d *DB) Close() error {
	select {
	case <-d.quit:
		return nil
	default:
	}
	close(d.quit)
	<-d.done
	<-d.ckptDone
	return errors.Join(d.stmtExecution.Close(), d.stmtEvents.Close(), d.read.Close(), d.ckpt.Close(), d.w.close(), d.wdb.Close())
}

// writeReq is one caller's share of a group commit.
type writeReq struct {
	ctx  context.Context
	fn   func(ctx context.Context, w *wconn) error
	done chan error
}

// write runs fn inside the writer's current or next transaction and returns
// once that transaction has committed (or fn's own error). Once the writer has
// taken the request the caller waits for the outcome even if ctx ends, so an
// error never hides a committed write.
func (d *DB) write(ctx context.Context, fn func(ctx context.Context, w *wconn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case d.writes <- r:
	case <-d.quit:
		return store.ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-r.done
}

// Ping passes an empty write through the writer: it returns once a write
// transaction (BEGIN IMMEDIATE, so the database's write lock) committed.
func (d *DB) Ping(ctx context.Context) error {
	return d.write(ctx, func(context.Context, *wconn) error { return nil })
}

var _ store.Pinger = (*DB)(nil)

func (d *DB) writer() {
	defer close(d.done)
	batch := make([]*writeReq, 0, d.max)
	company := false
	for {
		select {
		case r := <-d.writes:
			batch = append(batch[:0], r)
		case <-d.quit:
			return
		}
		// When the last batch had company, yield twice before committing so
		// that callers already runnable (executions whose previous commit
		// just returned) can queue their next write into this batch: the
		// events of executions running at once share the last pages of the
		// events tree, so a bigger batch writes fewer WAL frames per write.
		// A lone caller (batches of one) never waits for the yields, which
		// cost it scheduler round trips that can wake an idle P.
		yield := company
		for yields := 0; ; yields++ {
		gather:
			for len(batch) < d.max {
				select {
				case r := <-d.writes:
					batch = append(batch, r)
				default:
					break gather
				}
			}
			if !yield || yields == 2 || len(batch) >= d.max {
				break
			}
			runtime.Gosched()
		}
		company = len(batch) > 1
		d.commit(batch)
	}
}

// checkpointer copies the WAL back into the database file, off the writer's
// path (the writer runs with wal_autocheckpoint off). Woken by a commit, it
// waits CheckpointDelay, so that one checkpoint covers many commits and a
// page written by several of them is copied once, then runs a PASSIVE
// checkpoint, which never blocks the writer or readers. SQLite restarts the
// WAL from its start at the next write once a checkpoint has copied every
// frame. When readers or a steady stream of commits keep that from happening
// and the WAL passes CheckpointRestartFrames, a RESTART checkpoint waits
// (busy_timeout) for the readers and holds up the writer until the WAL can be
// reset. A checkpoint only copies committed pages and SQLite keeps the WAL
// until they are synced to the database file, so a kill at any point loses
// nothing committed; crash_test.go kills the process mid-checkpoint.
func (d *DB) checkpointer() {
	defer close(d.ckptDone)
	ctx := context.Background()
	t := time.NewTimer(0)
	<-t.C
	for {
		select {
		case <-d.ckptKick:
		case <-d.done:
			return
		}
		t.Reset(d.ckptDelay)
		select {
		case <-t.C:
		case <-d.done:
			t.Stop()
			return // closing the last connection checkpoints
		}
		var busy, log, copied int
		if err := d.ckpt.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &log, &copied); err != nil {
			d.log.Warn("store: checkpoint failed", "err", err)
			continue
		}
		if log >= d.ckptRestart && copied < log {
			if err := d.ckpt.QueryRowContext(ctx, "PRAGMA wal_checkpoint(RESTART)").Scan(&busy, &log, &copied); err != nil {
				d.log.Warn("store: checkpoint (restart) failed", "err", err)
			} else if busy != 0 {
				d.log.Warn("store: WAL not reset: readers or the writer held it past busy_timeout", "frames", log)
			}
		}
	}
}

// commit runs one batch in one transaction. The fast path runs every write
// back to back; a write that fails before changing anything (a stale Seq, a
// taken id: it returns a clean error, and SQLite undoes a failed statement by
// itself) leaves the transaction intact for the others. Only when a write
// fails after changing something is the batch rolled back and run again with
// a savepoint around each write, so that its failure undoes only its own
// statements.
func (d *DB) commit(batch []*writeReq) {
	ctx := context.Background() // a caller's cancellation must not abort the others' transaction
	errs := make([]error, len(batch))
	fail := func(err error) {
		for _, r := range batch {
			r.done <- err
		}
	}
	if err := d.w.exec(ctx, "BEGIN IMMEDIATE"); err != nil {
		fail(fmt.Errorf("store: begin: %w", err))
		return
	}
	ok, dirty := d.run(ctx, batch, errs, false)
	if dirty {
		if err := d.w.exec(ctx, "ROLLBACK"); err != nil {
			fail(fmt.Errorf("store: rollback: %w", err))
			return
		}
		if err := d.w.exec(ctx, "BEGIN IMMEDIATE"); err != nil {
			fail(fmt.Errorf("store: begin: %w", err))
			return
		}
		ok, _ = d.run(ctx, batch, errs, true)
	}
	var end error
	if ok == 0 {
		if err := d.w.exec(ctx, "ROLLBACK"); err != nil {
			d.log.Warn("store: rollback failed", "err", err)
		}
	} else if end = d.w.exec(ctx, "COMMIT"); end != nil {
		if err := d.w.exec(ctx, "ROLLBACK"); err != nil {
			d.log.Warn("store: rollback after failed commit", "err", err)
		}
		end = fmt.Errorf("store: commit: %w", end)
	} else {
		select {
		case d.ckptKick <- struct{}{}:
		default: // already kicked
		}
	}
	for i, r := range batch {
		if errs[i] == nil {
			errs[i] = end
		}
		r.done <- errs[i]
	}
}

// run applies the batch's writes, recording each one's error. Without
// savepoints it stops at the first write that failed after changing
// something and reports dirty.
func (d *DB) run(ctx context.Context, batch []*writeReq, errs []error, savepoints bool) (ok int, dirty bool) {
	for i, r := range batch {
		if errs[i] = r.ctx.Err(); errs[i] != nil {
			continue
		}
		if !savepoints {
			errs[i] = r.fn(r.ctx, d.w)
			var c cleanErr
			switch {
			case errs[i] == nil:
				ok++
			case errors.As(errs[i], &c):
				errs[i] = c.error
			default:
				return ok, true
			}
			continue
		}
		if errs[i] = d.w.exec(ctx, "SAVEPOINT w"); errs[i] != nil {
			continue
		}
		errs[i] = r.fn(r.ctx, d.w)
		if errs[i] != nil {
			if err := d.w.exec(ctx, "ROLLBACK TO w"); err != nil {
				errs[i] = errors.Join(errs[i], err)
			}
		} else {
			ok++
		}
		if err := d.w.exec(ctx, "RELEASE w"); err != nil && errs[i] == nil {
			errs[i] = err
			ok--
		}
	}
	return ok, false
}

// cleanErr marks a write's error as raised before the write changed anything
// (or by a single failed statement, which SQLite undoes), so the batch's
// transaction can go on without it.
type cleanErr struct{ error }

func (c cleanErr) Unwrap() error { return c.error }

func clean(err error) error {
	if err == nil {
		return nil
	}
	return cleanErr{err}
}

// wconn is the writer's connection and its prepared statements.
type wconn struct {
	conn  *sql.Conn
	stmts map[string]*sql.Stmt
}

func newWConn(_ context.Context, conn *sql.Conn) (*wconn, error) {
	return &wconn{conn: conn, stmts: map[string]*sql.Stmt{}}, nil
}

// stmt returns the prepared statement for query, preparing it on first use;
// only the writer goroutine calls it, so the map needs no lock.
func (w *wconn) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if s, ok := w.stmts[query]; ok {
		return s, nil
	}
	s, err := w.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	w.stmts[query] = s
	return s, nil
}

func (w *wconn) exec(ctx context.Context, query string, args ...any) error {
	s, err := w.stmt(ctx, query)
	if err != nil {
		return err
	}
	_, err = s.ExecContext(ctx, args...)
	return err
}

func (w *wconn) close() error {
	var errs []error
	for _, s := range w.stmts {
		errs = append(errs, s.Close())
	}
	errs = append(errs, w.conn.Close())
	return errors.Join(errs...)
}

// nanos and fromNanos store times as Unix nanoseconds, zero for the zero time.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
