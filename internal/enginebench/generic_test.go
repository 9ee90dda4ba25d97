package enginebench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/capstan-run/capstan/internal/awsapi"
)

// describeInstances is a DescribeInstances answer in EC2's query protocol:
// one instance with tags, about what a runbook's describe step gets back.
const describeInstances = `<?xml version="1.0" encoding="UTF-8"?>
<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r-1</requestId>
<reservationSet><item><reservationId>r-0123</reservationId><ownerId>123456789012</ownerId>
<instancesSet><item><instanceId>i-0123456789</instanceId><imageId>ami-12c6146b</imageId>
<instanceState><code>16</code><name>running</name></instanceState><instanceType>t3.micro</instanceType>
<launchTime>2024-01-01T00:00:00.000Z</launchTime><privateIpAddress>10.0.0.1</privateIpAddress>
<tagSet><item><key>Name</key><value>web</value></item><item><key>env</key><value>prod</value></item></tagSet>
</item></instancesSet></item></reservationSet></DescribeInstancesResponse>`

// BenchmarkGenericVsDirect compares aws:executeAwsApi's generic call with
// the typed SDK call on a loopback server, in alternating blocks of 50 calls
// so that the machine's changing load falls on both alike (the awsapi
// package's own benchmark runs one after the other). It reports each side's
// median wall time and process CPU time per call, and their ratios; the
// server's share of the CPU is the same on both sides.
func BenchmarkGenericVsDirect(b *testing.B) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprint(w, describeInstances)
	}))
	defer ts.Close()
	ctx := context.Background()
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(ts.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")}
	typed := ec2.NewFromConfig(cfg)
	gen := awsapi.New(cfg, awsapi.Options{Limiters: &awsapi.Limiters{}})
	direct := func() error {
		out, err := typed.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0123456789"}})
		if err == nil && *out.Reservations[0].Instances[0].InstanceId != "i-0123456789" {
			err = fmt.Errorf("wrong output")
		}
		return err
	}
	generic := func() error {
		out, err := gen.Invoke(ctx, "ec2", "DescribeInstances", map[string]any{"InstanceIds": []any{"i-0123456789"}})
		if err == nil && out["Reservations"].([]any)[0].(map[string]any)["Instances"].([]any)[0].(map[string]any)["InstanceId"] != "i-0123456789" {
			err = fmt.Errorf("wrong output")
		}
		return err
	}
	const block = 50
	type sample struct{ wall, cpu time.Duration }
	run := func(f func() error) sample {
		w0, c0 := time.Now(), cpuTime()
		for range block {
			if err := f(); err != nil {
				b.Fatal(err)
			}
		}
		return sample{time.Since(w0) / block, (cpuTime() - c0) / block}
	}
	// Warm both: connections, endpoint resolution, awsapi's operation cache.
	run(direct)
	run(generic)
	var ds, gs []sample
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			ds, gs = append(ds, run(direct)), append(gs, run(generic))
		} else {
			gs, ds = append(gs, run(generic)), append(ds, run(direct))
		}
	}
	med := func(s []sample, cpu bool) time.Duration {
		v := make([]time.Duration, len(s))
		for i, x := range s {
			v[i] = x.wall
			if cpu {
				v[i] = x.cpu
			}
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	dw, gw, dc, gc := med(ds, false), med(gs, false), med(ds, true), med(gs, true)
	b.ReportMetric(float64(dw.Nanoseconds()), "direct-ns/call")
	b.ReportMetric(float64(gw.Nanoseconds()), "generic-ns/call")
	b.ReportMetric(float64(gw)/float64(dw), "generic/direct")
	b.ReportMetric(float64(gc)/float64(dc), "generic/direct-cpu")
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
