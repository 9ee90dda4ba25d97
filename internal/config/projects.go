package config

import (
	"errors"
	"fmt"
	"strings"
)

// DefaultProject is the project of everything created without one: it runs
// with the system settings (and those of projects.default, if the file has it).
const DefaultProject = "default"

// ProjectNames lists the projects: default first, then the file's, sorted.
func (c *Config) ProjectNames() []string {
	names := []string{DefaultProject}
	for _, n := range c.projectNames() {
		if n != DefaultProject {
			names = append(names, n)
		}
	}
	return names
}

// CheckProject refuses a project name the file does not define, naming the
// known ones. "" and default are always known.
func (c *Config) CheckProject(name string) error {
	if name == "" || name == DefaultProject {
		return nil
	}
	if _, ok := c.Projects[name]; ok {
		return nil
	}
	return &UnknownProjectError{Name: name, Known: c.ProjectNames(), File: c.where()}
}

// UnknownProjectError is a project name that is not one of Known; it wraps
// ErrUnknownProject.
type UnknownProjectError struct {
	Name  string
	Known []string
	File  string
}

func (e *UnknownProjectError) Error() string {
	return fmt.Sprintf("unknown project %q: use one of [%s] (projects are defined under projects: in %s)",
		e.Name, strings.Join(e.Known, ", "), e.File)
}

func (e *UnknownProjectError) Unwrap() error { return ErrUnknownProject }

// Projects resolves every project under the same command-line overrides:
// the projects of one capstan process.
type Projects struct {
	Config *Config
	Flags  Overrides
	// FallbackRegion applies when neither the flags, the project nor the
	// system settings name a region (AWS_REGION of the environment).
	FallbackRegion string
}

// Names lists the projects, default first.
func (p Projects) Names() []string { return p.config().ProjectNames() }

// Check refuses an unknown project name (see Config.CheckProject).
func (p Projects) Check(name string) error { return p.config().CheckProject(name) }

// Resolve gives the settings executions of project name run with: flags
// over the project over the system settings, the region falling back to
// FallbackRegion.
func (p Projects) Resolve(name string) (Profile, error) {
	c := p.config()
	prof, err := c.Resolve(name, p.Flags)
	if errors.Is(err, ErrNoRegion) && p.FallbackRegion != "" {
		ov := p.Flags
		ov.Region = p.FallbackRegion
		prof, err = c.Resolve(name, ov)
	}
	return prof, err
}

func (p Projects) config() *Config {
	if p.Config == nil {
		return &Config{}
	}
	return p.Config
}
