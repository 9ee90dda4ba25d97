package document

import (
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"
)

// corpusDir finds ../shared/corpus from the module root; a missing corpus
// fails the test rather than passing silently.
func corpusDir(t testing.TB) string {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(here), "..", "..", "..", "shared", "corpus")
	if _, err := os.Stat(filepath.Join(dir, "aws-owned")); err != nil {
		t.Fatalf("runbook corpus not found at %s: %v", dir, err)
	}
	return dir
}

func corpusFiles(t testing.TB, sub string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(filepath.Join(corpusDir(t), sub), func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch filepath.Ext(path) {
		case ".json", ".yaml", ".yml":
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	if len(files) == 0 {
		t.Fatalf("no runbooks under %s", sub)
	}
	return files
}

const internalMsg = "known to SSM, not supported by capstan"

// invalidCommunity pins the community runbooks SSM itself would reject,
// with the diagnostic and the reason.
var invalidCommunity = map[string]string{
	// aws:runCommand inputs are type-checked at CreateDocument (SSM.md §1)
	// and TimeoutSeconds is an Integer; the runbook quotes it.
	"EBS-Volume-modify.json": `EBS-Volume-modify.json:78:27: error: step RunShellScript: input TimeoutSeconds: expected Integer, got string "3600"`,
}

// unexpectedErrors drops the reports of AWS-internal actions.
func unexpectedErrors(diags []Diagnostic) []Diagnostic {
	var out []Diagnostic
	for _, d := range diags {
		if d.Severity != Error || strings.Contains(d.Message, internalMsg) {
			continue
		}
		out = append(out, d)
	}
	return out
}

func TestCorpusAWSOwnedValidates(t *testing.T) {
	files := corpusFiles(t, "aws-owned")
	internal := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		d, diags := Load(filepath.Base(f), src, corpusRegistry(t))
		if d == nil {
			t.Errorf("%s: not parsed: %v", f, diags)
			continue
		}
		for _, e := range unexpectedErrors(diags) {
			t.Errorf("%s", e)
		}
		for _, dg := range diags {
			if strings.Contains(dg.Message, internalMsg) {
				internal++
				break
			}
		}
		if len(d.MainSteps) == 0 {
			t.Errorf("%s: no steps parsed", f)
		}
	}
	// Two documents use AWS-internal actions (aws:putServerUpgradeMetrics,
	// aws:shareSQLMedia, aws:installDistributorPackageOnAzure).
	if internal != 2 {
		t.Errorf("%d documents rejected for internal actions, want 2 (AWSEC2-CloneInstanceAndUpgradeSQLServer, AWS-InstallDistributorPackageOnAzure)", internal)
	}
}

func TestCorpusCommunityValidates(t *testing.T) {
	for _, f := range corpusFiles(t, "community") {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		base := filepath.Base(f)
		_, diags := Load(base, src, corpusRegistry(t))
		errs := unexpectedErrors(diags)
		if want, pinned := invalidCommunity[base]; pinned {
			if len(errs) != 1 || errs[0].String() != want {
				t.Errorf("%s: want exactly %s, got %v", base, want, errs)
			}
			continue
		}
		for _, e := range errs {
			t.Errorf("%s", e)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, sub := range []string{"aws-owned", "community"} {
		for i, file := range corpusFiles(f, sub) {
			if i%10 != 0 {
				continue
			}
			src, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
		}
	}
	f.Add([]byte("{"))
	f.Add([]byte("mainSteps: [{name: a, action: aws:loop, inputs: {Steps: [{name: b}]}}]"))
	reg := testRegistry()
	f.Fuzz(func(t *testing.T, src []byte) {
		d, diags := Load("fuzz.yaml", src, reg)
		for _, dg := range diags {
			if dg.Line < 0 || dg.Column < 0 || dg.Message == "" {
				t.Fatalf("malformed diagnostic %+v", dg)
			}
		}
		if d != nil {
			_, _ = d.Coerce(Inputs{Flags: []string{"A=1"}})
		}
	})
}

// BenchmarkParseValidate loads every corpus runbook per iteration and reports
// the median time per document.
func BenchmarkParseValidate(b *testing.B) {
	var srcs [][]byte
	for _, sub := range []string{"aws-owned", "community"} {
		for _, file := range corpusFiles(b, sub) {
			src, err := os.ReadFile(file)
			if err != nil {
				b.Fatal(err)
			}
			srcs = append(srcs, src)
		}
	}
	reg := testRegistry()
	per := make([][]time.Duration, len(srcs))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j, src := range srcs {
			start := time.Now()
			Load("bench.json", src, reg)
			per[j] = append(per[j], time.Since(start))
		}
	}
	b.StopTimer()
	meds := make([]time.Duration, len(srcs))
	for j, ds := range per {
		sort.Slice(ds, func(a, c int) bool { return ds[a] < ds[c] })
		meds[j] = ds[len(ds)/2]
	}
	sort.Slice(meds, func(a, c int) bool { return meds[a] < meds[c] })
	b.ReportMetric(float64(meds[len(meds)/2].Microseconds()), "median-µs/doc")
	b.ReportMetric(float64(meds[len(meds)*9/10].Microseconds()), "p90-µs/doc")
}
