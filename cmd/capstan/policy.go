package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/policy"
	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/template"
	"github.com/capstan-run/capstan/runbooks"
)

func newPolicyCmd() *cobra.Command {
	var (
		params      []string
		output      outputFormat
		trust       bool
		execution   string
		region      string
		account     string
		caller      string
		assumeRoles []string
		externalID  string
		sf          storeFlags
	)
	cmd := &cobra.Command{
		Use:   "policy RUNBOOK [-p K=V ...] | policy --execution ID",
		Short: "Print the least-privilege IAM policy a runbook needs",
		Long: "Derive the IAM policy of the role that runs a runbook (its assumeRole, or yours):\n" +
			"exactly the actions its steps declare, grouped by service, on the resources the\n" +
			"parameters fix and \"*\" elsewhere; child runbooks (aws:executeAutomation) included, and\n" +
			"the roles of TargetLocations. Where it cannot be complete (a templated Service or Api,\n" +
			"a script's own calls) it says which step and why on stderr and exits 1.\n" +
			"With --execution it prints what one recorded execution actually called instead.\n" +
			"RUNBOOK is a file or a library runbook's name; child runbooks are looked up in the\n" +
			"library, then as NAME.yaml, NAME.yml or NAME.json beside RUNBOOK.",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			out := cmd.OutOrStdout()
			if execution != "" {
				if len(args) > 0 {
					return usageError("policy: give a RUNBOOK or --execution ID, not both")
				}
				return recordedPolicy(ctx, out, &sf, execution, output)
			}
			if len(args) != 1 {
				return usageError("policy: expected one RUNBOOK (usage: capstan policy RUNBOOK [-p K=V ...] [--output json|text] [--trust])")
			}
			if externalID != "" && len(assumeRoles) == 0 {
				return usageError("policy: --external-id applies to the last --assume-role; none given")
			}
			if region == "" {
				region = firstEnv("AWS_REGION", "AWS_DEFAULT_REGION")
			}
			opts := policy.Options{
				Actions: registry(),
				Scope:   policy.Scope{Region: region, Account: account, Partition: template.PartitionOf(region)},
				Caller:  caller,
			}
			for i, arn := range assumeRoles {
				h := policy.Hop{ARN: arn}
				if i == len(assumeRoles)-1 {
					h.ExternalID = externalID
				}
				opts.Chain = append(opts.Chain, h)
			}
			return derivePolicy(ctx, out, cmd.ErrOrStderr(), args[0], params, opts, output, trust)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&params, "parameter", "p", nil, "a runbook parameter as Name=Value; repeat for more")
	addOutputFlag(cmd, &output, "text or json (an IAM policy document; with --trust or several roles, every role's)")
	fl.BoolVar(&trust, "trust", false, "also print each role's trust policy: who may assume it, hop by hop")
	fl.StringVar(&execution, "execution", "", "print the policy of what this recorded execution called")
	fl.StringVar(&region, "region", "", "the region resource ARNs name (default $AWS_REGION, else any)")
	fl.StringVar(&account, "account", "", "the account resource ARNs name (default any)")
	fl.StringVar(&caller, "caller", "", "the ARN of the identity that runs capstan, for trust policies (default the account's root)")
	fl.StringArrayVar(&assumeRoles, "assume-role", nil, "a role capstan assumes before the runbook's own, as with capstan run; repeat to chain")
	fl.StringVar(&externalID, "external-id", "", "the ExternalId of the last --assume-role")
	sf.register(cmd)
	return cmd
}

// readRunbook reads a runbook file, or a library runbook by name.
func readRunbook(ref string) (name string, src []byte, err error) {
	if b, ferr := os.ReadFile(ref); ferr == nil {
		return ref, b, nil
	} else if !errors.Is(ferr, os.ErrNotExist) {
		return "", nil, fmt.Errorf("reading %s: %w", ref, ferr)
	}
	if b, ok := runbooks.Lookup(ref); ok {
		return ref, b, nil
	}
	return "", nil, fmt.Errorf("no file %s and no library runbook of that name", ref)
}

// childRunbooks finds child runbooks in the library, then beside the
// parent file.
func childRunbooks(dir string) func(ctx context.Context, name string) (*document.Document, error) {
	return func(_ context.Context, name string) (*document.Document, error) {
		src, ok := runbooks.Lookup(name)
		file := name
		if !ok && !strings.ContainsAny(name, `/\:`) {
			for _, ext := range []string{".yaml", ".yml", ".json"} {
				p := filepath.Join(dir, name+ext)
				if b, err := os.ReadFile(p); err == nil {
					src, file, ok = b, p, true
					break
				}
			}
		}
		if !ok {
			return nil, fmt.Errorf("not in capstan's library nor beside the runbook in %s", dir)
		}
		doc, diags := document.Load(file, src, registry())
		if document.HasErrors(diags) {
			return nil, fmt.Errorf("not valid: %s", diags[0])
		}
		return doc, nil
	}
}

func derivePolicy(ctx context.Context, out, errOut io.Writer, ref string, params []string, opts policy.Options, output outputFormat, trust bool) error {
	file, src, err := readRunbook(ref)
	if err != nil {
		return failed(err)
	}
	doc, diags := document.Load(file, src, registry())
	if document.HasErrors(diags) {
		for _, d := range diags {
			fmt.Fprintln(errOut, d.String())
		}
		return failed(fmt.Errorf("policy: %s is not a valid runbook", file))
	}
	values, err := policy.Parameters(doc, document.Inputs{Flags: params})
	if err != nil {
		return usageError("policy: %v", err)
	}
	opts.Runbooks = childRunbooks(filepath.Dir(file))
	res, err := policy.Derive(ctx, doc, values, opts)
	if err != nil {
		return failed(err)
	}
	if err := writePolicy(out, res, opts.Scope, output, trust); err != nil {
		return failed(err)
	}
	if !res.Complete() {
		for _, g := range res.Gaps {
			fmt.Fprintln(errOut, "policy incomplete:", g)
		}
		return silentExit(exitFailure)
	}
	return nil
}

func writePolicy(w io.Writer, res *policy.Result, sc policy.Scope, output outputFormat, trust bool) error {
	if output == "json" {
		if len(res.Roles) == 1 && !trust {
			return writeJSON(w, res.Roles[0].Grants.Policy())
		}
		type roleJSON struct {
			Role        string           `json:"Role"`
			Why         string           `json:"Why"`
			Policy      policy.Document  `json:"Policy"`
			TrustPolicy *policy.Document `json:"TrustPolicy,omitempty"`
		}
		var roles []roleJSON
		for _, r := range res.Roles {
			j := roleJSON{Role: r.ARN, Why: r.Why, Policy: r.Grants.Policy()}
			if trust {
				j.TrustPolicy = r.Trust(sc)
			}
			roles = append(roles, j)
		}
		return writeJSON(w, map[string]any{"Roles": roles})
	}
	for i, r := range res.Roles {
		if i > 0 {
			fmt.Fprintln(w)
		}
		who := r.ARN
		if who == "" {
			who = "the identity that runs capstan"
		}
		fmt.Fprintf(w, "# %s: %s\n", who, r.Why)
		if len(r.Grants) == 0 {
			fmt.Fprintln(w, "(no AWS permissions)")
		}
		if err := r.Grants.WriteText(w); err != nil {
			return err
		}
		if t := r.Trust(sc); trust && t != nil {
			st := t.Statement[0]
			fmt.Fprintf(w, "trusts: %s", strings.Join(st.Principal["AWS"], ", "))
			if r.ExternalID != "" {
				fmt.Fprintf(w, " with sts:ExternalId %s", r.ExternalID)
			}
			fmt.Fprintln(w)
		}
	}
	return nil
}

func recordedPolicy(ctx context.Context, out io.Writer, sf *storeFlags, id string, output outputFormat) error {
	db, err := sf.open(ctx)
	if err != nil {
		return failed(err)
	}
	defer db.Close()
	if _, err := db.Events(ctx, id, 0); errors.Is(err, store.ErrNotFound) {
		return failed(fmt.Errorf("no execution %s in %s", id, sf.path()))
	} else if err != nil {
		return failed(err)
	}
	g, err := policy.Recorded(ctx, db, id)
	if err != nil {
		return failed(err)
	}
	if output == "json" {
		return writeJSON(out, g.Policy())
	}
	fmt.Fprintf(out, "# what execution %s and its children called\n", id)
	if len(g) == 0 {
		fmt.Fprintln(out, "(no AWS calls)")
	}
	if err := g.WriteText(out); err != nil {
		return failed(err)
	}
	return nil
}
