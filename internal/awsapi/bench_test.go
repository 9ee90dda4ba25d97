package awsapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// ec2Response is a DescribeInstances answer in EC2's query protocol.
const ec2Response = `<?xml version="1.0" encoding="UTF-8"?>
<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r-1</requestId>
<reservationSet><item><reservationId>r-0123</reservationId><ownerId>123456789012</ownerId>
<instancesSet><item><instanceId>i-0123456789</instanceId><imageId>ami-12c6146b</imageId>
<instanceState><code>16</code><name>running</name></instanceState><instanceType>t3.micro</instanceType>
<launchTime>2024-01-01T00:00:00.000Z</launchTime><privateIpAddress>10.0.0.1</privateIpAddress>
<tagSet><item><key>Name</key><value>web</value></item><item><key>env</key><value>prod</value></item></tagSet>
</item></instancesSet></item></reservationSet></DescribeInstancesResponse>`

func ec2Server() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprint(w, ec2Response)
	}))
}

// BenchmarkDescribeInstances compares the generic path with a direct typed
// call on the same loopback server.
func BenchmarkDescribeInstances(b *testing.B) {
	ts := ec2Server()
	defer ts.Close()
	ctx := context.Background()
	b.Run("direct", func(b *testing.B) {
		client := ec2.NewFromConfig(testConfig(ts.URL))
		in := &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0123456789"}}
		for b.Loop() {
			out, err := client.DescribeInstances(ctx, in)
			if err != nil || *out.Reservations[0].Instances[0].InstanceId != "i-0123456789" {
				b.Fatal(err)
			}
		}
	})
	b.Run("generic", func(b *testing.B) {
		c := New(testConfig(ts.URL), Options{Limiters: &Limiters{}})
		in := map[string]any{"InstanceIds": []any{"i-0123456789"}}
		for b.Loop() {
			out, err := c.Invoke(ctx, "ec2", "DescribeInstances", in)
			if err != nil {
				b.Fatal(err)
			}
			if out["Reservations"].([]any)[0].(map[string]any)["Instances"].([]any)[0].(map[string]any)["InstanceId"] != "i-0123456789" {
				b.Fatal("wrong output")
			}
		}
	})
}
