package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// LooseModeError is a database file that others than its owner may read or
// write: it holds execution records, users' sealed keys and audit records.
type LooseModeError struct {
	Path string
	Mode fs.FileMode
}

func (e *LooseModeError) Error() string {
	return fmt.Sprintf("%s has mode %04o: capstan's database files must be readable by their owner only (chmod 600 %s)", e.Path, e.Mode.Perm(), e.Path)
}

// secureFiles creates the database file with mode 0600 when it does not
// exist yet, so that SQLite (which gives the WAL and shared-memory files the
// database's mode) never makes a readable one, and refuses a database, WAL
// or shared-memory file that group or others may access.
func secureFiles(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		if err := f.Close(); err != nil {
			return err
		}
	case !errors.Is(err, fs.ErrExist):
		return err
	}
	return checkModes(path)
}

func checkModes(path string) error {
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o077 != 0 {
			return &LooseModeError{Path: p, Mode: fi.Mode()}
		}
	}
	return nil
}
